"""Frame masks of the paper's experiments (kvae-model.md, section 8); 1 = observed."""

from __future__ import annotations

import numpy as np


def planning_mask(steps: int, t_init: int = 4, t_hidden: int = 12) -> np.ndarray:
    """Keep the first t_init frames, hide the next t_hidden, keep the rest."""
    mask = np.ones(steps, dtype=np.float32)
    mask[t_init : t_init + t_hidden] = 0.0
    return mask


def random_mask(
    sequences: int, steps: int, drop_prob: float, t_init: int = 4, seed: int | None = 0
) -> np.ndarray:
    """Keep the first t_init frames, then hide each later frame with probability drop_prob."""
    rng = np.random.default_rng(seed)
    mask = (rng.random((sequences, steps)) >= drop_prob).astype(np.float32)
    mask[:, :t_init] = 1.0
    return mask


def training_mask(
    sequences: int, steps: int, miss_prob: float, t_init: int, rng: np.random.Generator
) -> np.ndarray:
    """Random missing frames while training; the first t_init frames always observed."""
    mask = (rng.random((sequences, steps)) >= miss_prob).astype(np.float32)
    mask[:, :t_init] = 1.0
    return mask


GENERATION_MAX_HIDDEN = 0.1
"""Largest fraction of a frame's pixels that may be painted over for the frame still to
count as observed when a roll-out starts from it."""


def observed_for_generation(
    frame_visible: np.ndarray,
    pixel_visible: np.ndarray | None = None,
    max_hidden: float = GENERATION_MAX_HIDDEN,
) -> np.ndarray:
    """(T,) bool: frames a roll-out may start from. frame_visible (T,), 1 = frame shown;
    pixel_visible (T, H, W), 1 = pixel shown (None: all).

    A frame is observed for generation when it is shown and at most `max_hidden` of its
    pixels are painted over: a few hidden pixels still leave the object's place readable
    (the roll-out is given the frame with those pixels blank, never the truth under them).
    """
    observed = np.asarray(frame_visible) > 0
    if pixel_visible is not None:
        hidden = 1.0 - (np.asarray(pixel_visible) > 0).mean(axis=(1, 2))
        observed = observed & (hidden <= max_hidden)
    return observed


def generation_start(
    frame_visible: np.ndarray,
    pixel_visible: np.ndarray | None = None,
    t_init: int = 4,
    max_hidden: float = GENERATION_MAX_HIDDEN,
) -> int:
    """How many leading frames a roll-out starts from: the leading run of frames observed
    for generation (`observed_for_generation`); the paper's `t_init` when every frame is
    observed, so a roll-out is still shown; 0 when the first frame is not observed, since
    generating from it would peek at what the user hid."""
    observed = observed_for_generation(frame_visible, pixel_visible, max_hidden)
    if observed.all():
        return min(t_init, len(observed))
    return int(np.argmin(observed))

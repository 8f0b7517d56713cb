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

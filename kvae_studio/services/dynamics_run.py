"""The Dynamics view's and `kvae-studio inspect`'s computations, as the types of
`services.dynamics`: run in a process with torch (the model's process, a job's, the
command line), never in the window's.

Each function takes a model (a `ModelRef` or a loaded `model.kvae.KVAE`, see
`services.model_loading.load`) and numpy frames (N, T, H, W) in [0, 1], and returns
numpy float32 arrays (eigenvalues complex64). The maths is in `model.dynamics`; this
module picks the sequences, masks and grids, and turns tensors into arrays.

Rough costs, measured on one CPU core (a training busy on the other) with the shipped
32 x 32 box model at T = 20, are in each function's docstring: the alpha map takes
milliseconds, one sequence's samples or the imagination grid a few tenths of a second;
what covers a whole data set streams (regime map) or takes seconds (regime flow, errors
over time). For comparison one `impute` of one sequence takes about 9 ms.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from kvae_studio.services.dynamics import (
    ERROR_KINDS,
    IMAGINATION_SEQUENCES,
    IMAGINATION_STEPS,
    POSTERIOR_SAMPLES,
    REGIME_CHUNK,
    AlphaMap,
    ErrorOverTime,
    Imagination,
    PosteriorSamples,
    RegimeChunk,
    RegimeFlow,
    RegimeMatrices,
)
from kvae_studio.services.model_loading import load
from model import dynamics
from model.evaluation import make_mask

Bounds = tuple[float, float, float, float]  # xmin, xmax, ymin, ymax: code dims 0 and 1
MARGIN = 0.1  # share of the codes' range added on each side of a grid


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.float32, copy=False)


def _frames(images: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(images, dtype=np.float32))


def encoder_codes(model: Any, images: np.ndarray, chunk: int = REGIME_CHUNK) -> np.ndarray:
    """The encoder's means (N, T, da) of every frame, in chunks of `chunk` sequences."""
    model = load(model)
    return np.concatenate([c.codes for c in regime_chunks(model, images, chunk)])


def regime_chunks(
    model: Any, images: np.ndarray, chunk: int = REGIME_CHUNK
) -> Iterator[RegimeChunk]:
    """The regime map's points, `chunk` sequences at a time: the encoder's means and the
    dynamics network's weights with every frame seen (`model.dynamics.regime_weights`).

    Streamed so that a view draws the first sequences while the rest are computed: each
    piece is one encoder batch and one network call, no Kalman filter; about 0.2 s per 100
    sequences of 20 frames (most of it the encoder's 2000 frames).
    """
    model = load(model)
    total = len(images)
    for first in range(0, total, chunk):
        with torch.inference_mode():
            x = model.prepare_frames(_frames(images[first : first + chunk]))
            codes, _ = model.encode(x)
            alpha = dynamics.regime_weights(model, codes)
        piece = RegimeChunk(first=first, total=total, codes=_np(codes), alpha=_np(alpha))
        if not (np.isfinite(piece.codes).all() and np.isfinite(piece.alpha).all()):
            # a map of NaN would be drawn as if it were the model's (huge weights)
            raise FloatingPointError(
                "the model's codes are NaN or infinite: its weights are unusable"
            )
        yield piece


def regime_matrices(model: Any) -> RegimeMatrices:
    """The K regimes' A_k and C_k and the eigenvalues of each A_k (complex64, in numpy's
    order): moduli near 1 keep the state's size, phases rotate it. Microseconds."""
    model = load(model)
    A = model.A.detach().cpu().double().numpy()
    return RegimeMatrices(
        A=A.astype(np.float32),
        C=_np(model.C),
        eigenvalues=np.linalg.eigvals(A).astype(np.complex64),
    )


def code_bounds(codes: np.ndarray, margin: float = MARGIN) -> Bounds:
    """(xmin, xmax, ymin, ymax) around the codes' dims 0 and 1 (N..., da), widened by
    `margin` of their range on each side (by 1 where the range is 0). With dim_a = 1 the
    y range is (-1, 1)."""
    flat = np.asarray(codes, dtype=np.float64).reshape(-1, np.shape(codes)[-1])
    flat = flat[np.isfinite(flat).all(1)]
    if len(flat) == 0:
        return (-1.0, 1.0, -1.0, 1.0)
    out = []
    for dim in (0, 1):
        if dim >= flat.shape[1]:
            out += [-1.0, 1.0]
            continue
        lo, hi = float(flat[:, dim].min()), float(flat[:, dim].max())
        pad = margin * (hi - lo) if hi > lo else 1.0
        out += [lo - pad, hi + pad]
    return tuple(out)  # type: ignore[return-value]


def alpha_map(
    model: Any,
    bounds: Bounds,
    resolution: int = 64,
    history_codes: np.ndarray | None = None,
    sequence: int | None = None,
    step: int | None = None,
) -> AlphaMap:
    """alpha_k over a resolution x resolution grid of a-space within `bounds` (the code's
    dims 0 and 1, its other dims 0; `model.dynamics.alpha_grid`).

    history_codes (T, da), the encoder's codes of sequence number `sequence`, and `step`
    (0..T-1), as `AlphaMap` has them: the grid point stands in for the code of frame
    `step`, and the network's state is the one it has reached after a_0 and the codes
    before it (frames 0 .. step-1), so the map shows the weights alpha of frame step + 1
    (`model.dynamics.history_at(codes, step + 1)`). Without them the grid point is the
    network's first input. An MLP with fifo_size 1 has no state: its map is the network
    on the grid and the result names no sequence or step. About 4 ms for 64 x 64 points
    (one network step over the whole grid).
    """
    model = load(model)
    xmin, xmax, ymin, ymax = bounds
    xs = torch.linspace(xmin, xmax, resolution)
    ys = torch.linspace(ymin, ymax, resolution)
    history = None
    if history_codes is not None and step is not None:
        if not 0 <= step < len(history_codes):
            raise ValueError(f"step must lie in 0..{len(history_codes) - 1}, got {step}")
        history = dynamics.history_at(model, torch.as_tensor(history_codes), step + 1)
    stateless = not model.config.alpha_rnn and model.config.fifo_size == 1
    if stateless or history is None:
        sequence = step = None
    alpha = dynamics.alpha_grid(model, xs, ys, history)
    return AlphaMap(xs=_np(xs), ys=_np(ys), alpha=_np(alpha), sequence=sequence, step=step)


def smoothed_states(
    model: Any, images: np.ndarray, chunk: int = REGIME_CHUNK
) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed means z_{t|T} (N, T, dz) with every frame seen, and the codes C_t z_{t|T}
    (N, T, da) where they sit, one Kalman pass per chunk of sequences."""
    model = load(model)
    zs, positions = [], []
    for first in range(0, len(images), chunk):
        with torch.inference_mode():
            x = model.prepare_frames(_frames(images[first : first + chunk]))
            codes, _ = model.encode(x)
            kp = model.kalman_pass(codes, torch.ones(codes.shape[:2], device=codes.device))
            a = (kp.C @ kp.smoothed_mean[..., None]).squeeze(-1)
        zs.append(_np(kp.smoothed_mean))
        positions.append(_np(a))
    return np.concatenate(zs), np.concatenate(positions)


def regime_flow(
    model: Any, images: np.ndarray, bounds: Bounds | None = None, cells: int = 16
) -> RegimeFlow:
    """Each regime's mean one-step displacement on a cells x cells grid of a-space
    (`model.dynamics.regime_flow`), over the smoothed states z_{t|T} of every frame of
    every sequence (all frames seen).

    A state is placed at its smoothed code C_t z_{t|T}, the model's own idea of where the
    object is (the encoder's code of a frame can sit elsewhere when the filter disagrees
    with it). bounds: the grid's extent; by default `code_bounds` of those positions.
    About 0.2 s per 100 sequences of 20 frames (an encoder and a Kalman pass).
    """
    model = load(model)
    z, positions = smoothed_states(model, images)
    if bounds is None:
        bounds = code_bounds(positions)
    xmin, xmax, ymin, ymax = bounds
    ex = torch.linspace(xmin, xmax, cells + 1)
    ey = torch.linspace(ymin, ymax, cells + 1)
    flow, counts = dynamics.regime_flow(
        model,
        torch.as_tensor(z.reshape(-1, z.shape[-1])),
        torch.as_tensor(positions.reshape(-1, positions.shape[-1])),
        ex,
        ey,
    )
    return RegimeFlow(
        xs=_np((ex[1:] + ex[:-1]) / 2),
        ys=_np((ey[1:] + ey[:-1]) / 2),
        flow=_np(flow),
        counts=counts.numpy().astype(np.int64),
    )


def imagination(
    model: Any,
    images: np.ndarray,
    sequences: int = IMAGINATION_SEQUENCES,
    steps: int = IMAGINATION_STEPS,
    seed: int = 0,
) -> Imagination:
    """Roll-outs of `steps` frames from the first t_init_mask frames (the config's) of the
    first `sequences` sequences: noise-free, and one sampled with the model's noise
    (seeded). About 0.6 s for 16 sequences of 80 steps (most of it decoding 2560 frames).
    """
    model = load(model)
    chosen = np.arange(min(sequences, len(images)))
    part = np.asarray(images[: len(chosen)], dtype=np.float32)
    n_init = max(1, min(model.config.t_init_mask, part.shape[1], steps))
    rolled = dynamics.imagination(model, part, n_init, steps, seed)
    with torch.inference_mode():
        truth, _ = model.encode(model.prepare_frames(_frames(part)))
    return Imagination(
        sequences=chosen,
        n_init=n_init,
        mean_codes=_np(rolled.mean_codes),
        mean_frames=_np(rolled.mean_frames),
        sampled_codes=_np(rolled.sampled_codes),
        sampled_frames=_np(rolled.sampled_frames),
        truth_codes=_np(truth),
    )


def error_over_time(
    model: Any,
    images: np.ndarray,
    mask_kind: str = "planning",
    value: float | None = None,
    seed: int = 0,
) -> ErrorOverTime:
    """The Hamming distance at each step, median and quartiles across the sequences, under
    the mask `model.evaluation.make_mask` makes for the studio protocol: "planning" with
    `value` hidden steps (the config's t_steps_mask by default) or "random" with drop
    probability `value` (0.5 by default), seeded.

    Per kind of `ERROR_KINDS` (generated from the first frames, filtered, smoothed;
    `model.dynamics.error_over_time`); NaN at steps no sequence hides. The baseline is a
    figure per sequence: its median and quartiles are repeated at every step. About 2 s
    per 100 sequences of 20 frames (an imputation and a roll-out of each: 8000 frames
    encoded or decoded); `error_over_time_chunks` gives the figures as they grow.
    """
    *_, last = error_over_time_chunks(model, images, mask_kind, value, seed)
    return last


def error_over_time_chunks(
    model: Any,
    images: np.ndarray,
    mask_kind: str = "planning",
    value: float | None = None,
    seed: int = 0,
    chunk: int = REGIME_CHUNK,
) -> Iterator[ErrorOverTime]:
    """`error_over_time` over the first `chunk`, 2 `chunk`, ... sequences: a view draws the
    curves after the first hundred sequences and refines them as the rest come. The mask
    is made once for the whole file, so the last figures are `error_over_time`'s."""
    model = load(model)
    n, steps = images.shape[:2]
    cfg = model.config
    if value is None:
        value = cfg.t_steps_mask if mask_kind == "planning" else 0.5
    mask = make_mask(mask_kind, n, steps, cfg.t_init_mask, value, seed, "studio")
    rows = np.broadcast_to(mask, (n, steps)) if mask.ndim == 1 else mask
    parts: dict[str, list[np.ndarray]] = {kind: [] for kind in ERROR_KINDS}
    for first in range(0, n, chunk):
        piece = slice(first, first + chunk)
        errors = dynamics.error_over_time(model, images[piece], np.ascontiguousarray(rows[piece]))
        median, lower, upper = {}, {}, {}
        for kind in ERROR_KINDS:
            values = errors[kind]
            if values.ndim == 1:  # the baseline: one figure per sequence
                values = np.repeat(values[:, None], steps, axis=1)
            parts[kind].append(values)
            median[kind], lower[kind], upper[kind] = _quartiles(np.concatenate(parts[kind]))
        yield ErrorOverTime(
            mask=mask_kind,
            value=float(value),
            steps=np.arange(steps),
            median=median,
            lower_quartile=lower,
            upper_quartile=upper,
        )


def _quartiles(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median, lower and upper quartile of each column of values (N, T), ignoring NaN;
    NaN for a column with no number (computed only on the others: no RuntimeWarning)."""
    out = np.full((3, values.shape[1]), np.nan, dtype=np.float32)
    some = np.isfinite(values).any(0)
    if some.any():
        picked = values[:, some]
        out[0, some] = np.nanmedian(picked, axis=0)
        out[1:, some] = np.nanpercentile(picked, [25, 75], axis=0)
    return out[0], out[1], out[2]


def posterior_samples(
    model: Any,
    images: np.ndarray,
    frame_visible: np.ndarray,
    pixel_visible: np.ndarray | None = None,
    samples: int = POSTERIOR_SAMPLES,
    seed: int = 0,
    few: int = 8,
) -> PosteriorSamples:
    """Joint samples of z_{1:T} for one sequence images (T, H, W) under a mask, decoded
    (`model.dynamics.posterior_samples`, forward filtering backward sampling).

    frame_visible (T,), 1 = frame shown; pixel_visible (T, H, W), 1 = pixel shown, or None.
    seed: the samples' torch.Generator. About 0.3 s at T = 20 and 64 samples (an
    imputation, then 1280 frames decoded); a painted frame adds its Laplace estimate.
    """
    model = load(model)
    x = _frames(images)[None]
    mask = torch.as_tensor(np.asarray(frame_visible, dtype=np.float32))
    pixels = None
    if pixel_visible is not None:
        pixels = torch.as_tensor(np.asarray(pixel_visible, dtype=np.float32))[None]
    gen = torch.Generator(device=model.device).manual_seed(seed)
    draws = dynamics.posterior_samples(model, x, mask, pixels, samples, gen, few)
    return PosteriorSamples(
        z=_np(draws.z),
        smoothed_mean=_np(draws.smoothed_mean),
        smoothed_cov=_np(draws.smoothed_cov),
        object_probability=_np(draws.object_probability),
        frames=_np(draws.frames),
    )

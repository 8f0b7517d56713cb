"""The Dynamics tab's tasks, as `services.work` runs them in the analysis process.

Each is `task(ctx, source, ...)`, named by "module:function" from the window (which
imports none of this). The process keeps the model and the data set it was last asked
about, so that the many small requests of the tab (an alpha map at another step, the
errors under another mask) cost their own computation only: a model is loaded and a
data set read once per file version. Torch is imported here, never in the window.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from kvae_studio.services import dynamics_run
from kvae_studio.services.dynamics import (
    IMAGINATION_SEQUENCES,
    REGIME_CHUNK,
    RegimeChunk,
    Source,
    SourceSummary,
)
from kvae_studio.services.model_ref import ModelRef

ANALYSIS_THREADS = 1  # one core for this process: the other stays Explore's model's


class _Cache:
    """The last model and data set, and the codes computed for them."""

    def __init__(self) -> None:
        self.model_key: Any = None
        self.model: Any = None
        self.data_key: Any = None
        self.images: np.ndarray | None = None
        self.codes: np.ndarray | None = None


_cache = _Cache()


def _naming_the_model(task: Callable) -> Callable:
    """`task`, under which weights the filter cannot use (a singular matrix, NaN codes or
    frames: huge weights that passed the whole-file check) end as one line naming the
    model's file (`model.checkpoint.filtering_with`), as Explore and the command line say."""

    def name(reference: Any) -> str:
        reference = getattr(reference, "model", reference)  # a Source names its model
        path = getattr(reference, "path", None)
        return os.path.basename(path) if path else "the model"

    if inspect.isgeneratorfunction(task):

        @functools.wraps(task)
        def streamed(ctx: Any, about: Any, *args: Any, **kwargs: Any):
            from model.checkpoint import filtering_with

            with filtering_with(name(about)):
                yield from task(ctx, about, *args, **kwargs)

        return streamed

    @functools.wraps(task)
    def whole(ctx: Any, about: Any, *args: Any, **kwargs: Any):
        from model.checkpoint import filtering_with

        with filtering_with(name(about)):
            return task(ctx, about, *args, **kwargs)

    return whole


def _file_key(path: str) -> tuple:
    stat = os.stat(path)
    return (os.path.realpath(path), stat.st_mtime_ns, stat.st_size)


def _model(ref: Any) -> Any:
    """The model a reference names, loaded once per file version (a model object, as
    the tests send, is used as it is)."""
    import torch

    torch.set_num_threads(ANALYSIS_THREADS)
    if not isinstance(ref, ModelRef):
        return ref
    key = _file_key(ref.path) if ref.path else (ref.config.to_json(), ref.seed)
    if key != _cache.model_key:
        from kvae_studio.services.model_loading import load

        _cache.model, _cache.model_key, _cache.codes = load(ref), key, None
    return _cache.model


def _images(source: Source) -> np.ndarray:
    key = _file_key(source.data_path)
    if key != _cache.data_key:
        from model.data import load_sequences

        images = load_sequences(source.data_path).images
        _cache.images, _cache.data_key, _cache.codes = images, key, None
    images = _cache.images
    if source.sequences is not None:
        images = images[: source.sequences]
    return images


def _checked(source: Source) -> tuple[Any, np.ndarray]:
    """The model and the images, or ValueError with one line when they do not fit."""
    from model.data import frames_problem

    model = _model(source.model)
    images = _images(source)
    if len(images) == 0:
        raise ValueError(f"{os.path.basename(source.data_path)} holds no sequences")
    problem = frames_problem(images.shape, model.config.frame_size)
    if problem:
        raise ValueError(f"{os.path.basename(source.data_path)}: {problem}")
    return model, images


def _codes(model: Any, images: np.ndarray) -> np.ndarray:
    if _cache.codes is None or len(_cache.codes) < len(images):
        _cache.codes = dynamics_run.encoder_codes(model, images)
    return _cache.codes[: len(images)]


@_naming_the_model
def summary(ctx: Any, source: Source) -> SourceSummary:
    model, images = _checked(source)
    cfg = model.config
    return SourceSummary(
        sequences=len(images),
        steps=images.shape[1],
        regimes=cfg.K,
        recurrent=bool(cfg.alpha_rnn or cfg.fifo_size > 1),
        frame_size=cfg.frame_size,
    )


@_naming_the_model
def regime_map(ctx: Any, source: Source, chunk: int = REGIME_CHUNK):
    """The regime map's points, streamed `chunk` sequences at a time (items)."""
    model, images = _checked(source)
    pieces: list[np.ndarray] = []
    for piece in dynamics_run.regime_chunks(model, images, chunk):
        if ctx.cancelled:
            return
        pieces.append(piece.codes)
        ctx.progress(piece.first + len(piece.codes), piece.total)
        yield piece
    _cache.codes = np.concatenate(pieces)


@_naming_the_model
def regime_matrices(ctx: Any, source: Source):
    return dynamics_run.regime_matrices(_model(source.model))


@_naming_the_model
def alpha_map(ctx: Any, source: Source, sequence: int | None = None, step: int | None = None):
    """The alpha map over the codes' extent; for a network with a state, at `step` of
    `sequence` (the codes before it make the state)."""
    model, images = _checked(source)
    codes = _codes(model, images)
    bounds = dynamics_run.code_bounds(codes)
    history = None
    if sequence is not None and step is not None:
        if not 0 <= sequence < len(codes):
            raise ValueError(f"sequence must lie in 0..{len(codes) - 1}, got {sequence}")
        history = codes[sequence]
    return dynamics_run.alpha_map(model, bounds, 64, history, sequence, step)


@_naming_the_model
def regime_flow(ctx: Any, source: Source, cells: int = 16):
    model, images = _checked(source)
    bounds = dynamics_run.code_bounds(_codes(model, images))
    return dynamics_run.regime_flow(model, images, bounds, cells)


@_naming_the_model
def imagination(
    ctx: Any,
    source: Source,
    steps: int = dynamics_run.IMAGINATION_STEPS,
    seed: int = 0,
    sequences: int = IMAGINATION_SEQUENCES,
):
    model, images = _checked(source)
    return dynamics_run.imagination(model, images, sequences, steps, seed)


@_naming_the_model
def error_over_time(
    ctx: Any, source: Source, mask_kind: str = "planning", value: float | None = None, seed: int = 0
):
    """The curves over the first hundred sequences, then refined as the rest come (items)."""
    model, images = _checked(source)
    for figures in dynamics_run.error_over_time_chunks(model, images, mask_kind, value, seed):
        if ctx.cancelled:
            return
        yield figures


@_naming_the_model
def posterior_samples(
    ctx: Any,
    model_ref: ModelRef,
    images: np.ndarray,
    frame_visible: np.ndarray,
    pixel_visible: np.ndarray | None,
    samples: int,
    seed: int = 0,
):
    """Explore's samples view: joint posterior samples of the sequence on screen."""
    model = _model(model_ref)
    return dynamics_run.posterior_samples(
        model, images, frame_visible, pixel_visible, samples, seed
    )


__all__ = [
    "RegimeChunk",
    "Source",
    "SourceSummary",
    "alpha_map",
    "error_over_time",
    "imagination",
    "posterior_samples",
    "regime_flow",
    "regime_map",
    "regime_matrices",
    "summary",
]

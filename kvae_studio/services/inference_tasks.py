"""Explore's model work as `services.work` tasks, run in the model's process.

The process keeps the model it was last sent, and an `ImputeMemo` for the sequence
being edited, between requests: an edit pays for what it changes only. A request that a
newer one (same channel) has overtaken stops after its imputation (its result would be
dropped anyway), and while nothing is asked the process tabulates the decoder for the
painted-frame solver (`model.code_grid`, stopped as soon as a request comes).

Models travel without pickle and without their weights where they can: a `ModelRef`
names its file (or its config and seed), which the process loads once per version of
the file; a model object travels once per process as its safetensors bytes, then by
its token.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from typing import Any

CHILD_THREADS = 1  # torch threads in the model's process: this small model is fastest on one


class _Held:
    """The model the process holds, what names it, and the memo of its sequence."""

    key: Any = None
    model: Any = None
    memo: Any = None
    problem = "no model was sent before the request"


_held = _Held()
_tokens: dict[int, Any] = {}  # a model object's token -> the model rebuilt from its bytes


def warm_up(ctx: Any) -> int:
    """Import torch and the model's code now (a spare process's first task: its imports
    overlap the window's); returns the torch threads it will use."""
    import torch

    import kvae_studio.services.inference_run  # noqa: F401
    import model.code_grid  # noqa: F401

    torch.set_num_threads(CHILD_THREADS)
    return torch.get_num_threads()


def load(ctx: Any, spec: Any) -> None:
    """Load the model `spec` names now (a `ModelRef`), ahead of the first request: the
    studio sends the model it opens with while the window is still being built."""
    _model(spec)


def _key(spec: Any) -> Any:
    """What identifies the model a spec names: a file's path, size and time; a fresh
    model's config and seed; a model object's token."""
    from kvae_studio.services.model_ref import ModelRef

    if isinstance(spec, ModelRef):
        if spec.path is None:
            return ("fresh", spec.config.to_json(), spec.seed)
        stat = os.stat(spec.path)
        return ("file", spec.path, stat.st_size, stat.st_mtime_ns)
    return ("token", spec[1])


def _model(spec: Any) -> Any:
    """The model `spec` names: a ModelRef, ("payload", token, config JSON, weights) or
    ("token", token) for a model object sent before."""
    from kvae_studio.services.model_loading import load
    from model.imputation import ImputeMemo
    from model.kvae import KVAE

    key = _key(spec)
    if key == _held.key:
        return _held.model
    try:
        if isinstance(spec, tuple) and spec[0] == "payload":
            model = KVAE.from_payload(spec[2], spec[3])
            _tokens.clear()  # one model object at a time
            _tokens[spec[1]] = model
        elif isinstance(spec, tuple):
            model = _tokens[spec[1]]  # sent before, by payload
        else:
            model = load(spec)
    except Exception as err:
        _held.key, _held.model = None, None
        text = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(f"the model could not be rebuilt for inference: {text}") from None
    _held.key, _held.model, _held.memo = key, model, ImputeMemo()
    return model


def _name(spec: Any) -> str:
    """The model's file name, as error messages name it ("the model" for one without)."""
    path = getattr(spec, "path", None)
    return os.path.basename(path) if path else "the model"


def infer(
    ctx: Any,
    spec: Any,
    seq: int,
    images: Any,
    frame_visible: Any,
    pixel_visible: Any,
) -> tuple[Any, int] | None:
    """One Explore update: (the result without the arrays the window sent, threads)."""
    import torch

    from kvae_studio.services.inference import InferenceRequest
    from kvae_studio.services.inference_run import run_inference
    from model.checkpoint import filtering_with
    from model.code_grid import code_grid

    torch.set_num_threads(CHILD_THREADS)
    model = _model(spec)
    request = InferenceRequest(seq, model, images, frame_visible, pixel_visible)
    with filtering_with(_name(spec)):  # weights the filter cannot use: one line naming them
        result = run_inference(request, superseded=lambda: ctx.cancelled, memo=_held.memo)

    def tabulate(stop) -> None:
        with contextlib.suppress(Exception):
            code_grid(model, stop=stop)

    ctx.idle = tabulate
    if result is None:
        ctx.check()  # overtaken: the newer request's answer is the one shown
        return None
    echo = {"images": None, "frame_visible": None, "pixel_visible": None}
    return dataclasses.replace(result, **echo), torch.get_num_threads()

"""Model files: safetensors weights with the config in the metadata; no pickle anywhere.

A `.safetensors` model file rebuilds its model from the file alone. Resume state
(optimiser moments, counters, random generators, and the weights and config they go
with: `model.training_state`) lives in a second safetensors file beside it, so a
stopped run continues the same curve. Every write goes to a temporary file in the same
folder and is renamed over the target, so a crash never leaves half a file behind.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save
from torch.overrides import TorchFunctionMode

from model import temp_files
from model.config import KVAEConfig
from model.kvae import KVAE
from model.model_file import (
    FORMAT,
    ModelFileError,
    config_of,
    read_header,
    read_metadata,
    summary_of,
)
from model.read_guard import parse_json, reading


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Create the folder, then write as `model.temp_files.atomic_write_bytes` does (which
    also removes what a killed writer of the same file left behind)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp_files.atomic_write_bytes(path, data)


def save_model(model: KVAE, path: str | os.PathLike, summary: dict[str, Any] | None = None) -> str:
    """Write weights + config (+ a training summary) atomically. Refuses non-finite weights.

    Returns the SHA-256 of the bytes written, by which a resume state names its model."""
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    bad = [k for k, v in tensors.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise ModelFileError(f"refusing to save non-finite weights in {', '.join(bad[:5])}")
    metadata = {
        "format": FORMAT,
        "config": model.config.to_json(),
        "summary": json.dumps(summary or {}, default=_json_default),
    }
    data = save(tensors, metadata=metadata)
    atomic_write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | os.PathLike) -> str | None:
    """The SHA-256 of a file's bytes, or None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> KVAE:
    """Rebuild a KVAE from its file alone (its training summary: `read_summary(path)`).
    Whatever the file makes the readers raise is a ModelFileError (`model.read_guard`)."""
    path = Path(path)
    with reading(path.name, ModelFileError, also=(SafetensorError,)):
        meta = read_metadata(path)
        config = config_of(path, meta)
        summary_of(path, meta)  # a file whose summary is not an object is refused whole
        _check_declared_shapes(path, config, read_header(path))
        try:
            tensors = load_file(str(path), device="cpu")
        except (SafetensorError, OSError, RuntimeError) as err:
            raise ModelFileError(f"{path.name}: weights cannot be read ({err})") from None
        model = model_from_tensors(path.name, config, tensors)
    return model.to(device).eval()


def filtering_with(name: str):
    """A context in which the model of file `name` works on sequences: a matrix its
    weights make singular (torch's LinAlgError: all-zero or huge weights) or results
    they make NaN (FloatingPointError, where a caller checks) are a ModelFileError naming
    the file, one line, as any other model it cannot use."""
    unusable = (torch.linalg.LinAlgError, FloatingPointError)
    return reading(name, ModelFileError, "cannot be used on these sequences", catch=unusable)


def finite_frames(frames: np.ndarray) -> np.ndarray:
    """A model's frames, or FloatingPointError where its weights made them NaN or
    infinite without the filter failing (huge weights): a picture of them would be noise
    that claims to be the model's. `filtering_with` names the file."""
    if not np.isfinite(frames).all():
        raise FloatingPointError("the model's frames are NaN or infinite: its weights are unusable")
    return frames


def model_from_tensors(name: str, config: KVAEConfig, tensors: dict[str, torch.Tensor]) -> KVAE:
    """A KVAE of `config` holding `tensors`, or a ModelFileError naming `name` when they do
    not fit the config or are not finite."""
    model = KVAE(config)
    _check_shapes(
        Path(name),
        {k: tuple(v.shape) for k, v in model.state_dict().items()},
        {k: tuple(v.shape) for k, v in tensors.items()},
    )
    if any(v.is_floating_point() and not torch.isfinite(v).all() for v in tensors.values()):
        raise ModelFileError(f"{name}: the weights contain NaN or infinity")
    if singular := [k for k in _COVARIANCES if not _positive_definite(tensors[k])]:
        raise ModelFileError(
            f"{name}: its noise covariances {', '.join(singular)} are not positive definite "
            "(all-zero or corrupt weights): the Kalman filter cannot run with them"
        )
    model.load_state_dict(tensors)
    return model


_COVARIANCES = ("Q", "R", "Sigma0")
"""The state-space model's covariances, fixed at construction: the filter factorises them."""


def _positive_definite(matrix: torch.Tensor) -> bool:
    """Symmetric with a Cholesky factor, in float64 (a file's float32 values, not noise)."""
    m = matrix.detach().to(torch.float64)
    if not torch.allclose(m, m.transpose(-1, -2)):
        return False
    return bool((torch.linalg.cholesky_ex(m).info == 0).all())


def _check_declared_shapes(path: Path, config: KVAEConfig, header: dict[str, Any]) -> None:
    """Compare the tensors the config's network has with those the file declares, before
    anything is allocated: the metadata could ask for a network of any size. The network
    is built on the meta device, which holds shapes and no memory."""
    with torch.device("meta"), _ShapesOnly():
        expected = {k: tuple(v.shape) for k, v in KVAE(config).state_dict().items()}
    declared = {
        k: tuple(v["shape"]) if isinstance(v.get("shape"), list) else None
        for k, v in header.items()
        if k != "__metadata__" and isinstance(v, dict)
    }
    _check_shapes(path, expected, declared)


def _check_shapes(path: Path, expected: dict[str, Any], found: dict[str, Any]) -> None:
    """One line naming what differs between the config's tensors and the file's."""
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    wrong = [
        f"{k} {found[k]} != {shape}"
        for k, shape in expected.items()
        if k in found and found[k] != shape
    ]
    if missing or extra or wrong:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing[:4]))
        if extra:
            parts.append("unexpected " + ", ".join(extra[:4]))
        if wrong:
            parts.append("wrong shapes " + "; ".join(wrong[:4]))
        raise ModelFileError(f"{path.name}: weights do not match its config: " + " | ".join(parts))


def save_resume_state(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Write a flat mapping of tensors and JSON-able values atomically."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in state.items() if torch.is_tensor(v)}
    values = {k: v for k, v in state.items() if not torch.is_tensor(v)}
    metadata = {"format": FORMAT + "/resume", "values": json.dumps(values, default=_json_default)}
    atomic_write_bytes(path, save(tensors, metadata=metadata))


def load_resume_state(path: str | os.PathLike) -> dict[str, Any]:
    path = Path(path)
    meta = read_metadata(path)
    if meta.get("format") != FORMAT + "/resume":
        raise ModelFileError(f"{path.name}: not a KVAE Studio resume file")
    try:
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, RuntimeError) as err:
        raise ModelFileError(f"{path.name}: cannot be read ({err})") from None
    try:
        values = parse_json(meta["values"])
    except (KeyError, TypeError, ValueError):
        values = None
    if not isinstance(values, dict):
        raise ModelFileError(f"{path.name}: its counters cannot be read (not a JSON object)")
    return {**values, **tensors}


class _ShapesOnly(TorchFunctionMode):
    """Shapes of the few tensor operations a network's constructor does, without running
    them: on the meta device torch runs them through kernels whose first use imports
    torch._dynamo (seconds). Anything else goes through as usual."""

    _ELEMENTWISE = frozenset(
        {"mul", "__mul__", "__rmul__", "add", "__add__", "__radd__", "sub", "__sub__"}
        | {"__rsub__", "div", "__truediv__", "__rtruediv__", "neg", "__neg__"}
    )

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if func is torch.eye:
            rows = args[0]
            cols = args[1] if len(args) > 1 else kwargs.get("m")
            shape = (rows, rows if cols is None else cols)
            return torch.empty(shape, dtype=kwargs.get("dtype"), device="meta")
        if func in (torch.randn, torch.rand, torch.zeros, torch.ones):
            shape = args[0] if len(args) == 1 and not isinstance(args[0], int) else args
            return torch.empty(tuple(shape), dtype=kwargs.get("dtype"), device="meta")
        tensors = [a for a in args if isinstance(a, torch.Tensor)]
        if not tensors or any(t.device.type != "meta" for t in tensors):
            return func(*args, **kwargs)
        if name in self._ELEMENTWISE:
            shape = np.broadcast_shapes(*(tuple(t.shape) for t in tensors))  # torch's: sympy
            return torch.empty(shape, dtype=tensors[0].dtype, device="meta")
        if name == "repeat" and args[0] is tensors[0]:
            sizes = args[1] if len(args) == 2 and not isinstance(args[1], int) else args[1:]
            base = (1,) * (len(sizes) - tensors[0].dim()) + tuple(tensors[0].shape)
            shape = [a * b for a, b in zip(base, sizes, strict=True)]
            return torch.empty(shape, dtype=tensors[0].dtype, device="meta")
        return func(*args, **kwargs)


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in JSON")

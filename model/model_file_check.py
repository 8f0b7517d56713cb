"""Whether a model file holds together, read from its header without torch.

Why: describing a model from its header (`model.model_file.describe_model`) takes a file
whose weights were cut short, or whose config was edited apart from its weights, for a
good one; every loader then refuses it. `check_model_file` adds what the header can prove
without reading the weights: that the tensors' declared bytes tile the file exactly
(a truncated file falls short), and that the tensors the config fixes by itself (the
state-space matrices, and the layers where the frame size enters the networks) have the
config's shapes. The other layers' shapes are checked by `model.checkpoint.load_model`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from model.config import KVAEConfig
from model.model_file import ModelDescription, ModelFileError, describe_model, read_header
from model.read_guard import reading

DTYPE_BYTES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2,
    "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8,
}  # fmt: skip
"""Bytes per element of each safetensors dtype."""


def check_model_file(path: str | os.PathLike) -> ModelDescription:
    """`describe_model`, refusing (ModelFileError, one line) a file whose tensors do not
    tile it or do not have the shapes its config fixes."""
    path = Path(path)
    description = describe_model(path)
    header = read_header(path)
    with reading(path.name, ModelFileError):
        problem = layout_problem(path, header) or shape_problem(description.config, header)
    if problem:
        raise ModelFileError(f"{path.name}: {problem}")
    return description


def layout_problem(path: Path, header: dict[str, Any]) -> str | None:
    """Why the tensors' declared bytes do not tile the data after the header, or None."""
    with open(path, "rb") as f:
        start = 8 + int.from_bytes(f.read(8), "little")
    data = path.stat().st_size - start
    spans = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(entry, dict) or entry.get("dtype") not in DTYPE_BYTES:
            return f"tensor {name} has no known dtype"
        shape, offsets = entry.get("shape"), entry.get("data_offsets")
        if not _whole_numbers(shape) or not _whole_numbers(offsets) or len(offsets) != 2:
            return f"tensor {name} has no valid shape and offsets"
        count = 1
        for n in shape:
            count *= n
        if offsets[1] - offsets[0] != count * DTYPE_BYTES[entry["dtype"]]:
            return f"tensor {name} declares {offsets[1] - offsets[0]} bytes for shape {shape}"
        spans.append((offsets[0], offsets[1]))
    end = 0
    for begin, stop in sorted(spans):
        if begin != end:
            return "its tensors overlap or leave gaps"
        end = stop
    if end > data:
        return f"truncated: its tensors need {end:,} bytes of data, the file holds {data:,}"
    if end < data:
        return f"{data - end:,} bytes after its last tensor"
    return None


def fixed_shapes(config: KVAEConfig) -> dict[str, tuple[int, ...]]:
    """The shapes of the tensors that the config alone decides, by name."""
    k, da, dz, du, size = config.K, config.dim_a, config.dim_z, config.dim_u, config.frame_size
    shapes = {
        "A": (k, dz, dz), "B": (k, dz, du), "C": (k, da, dz), "a0": (da,),
        "Q": (dz, dz), "R": (da, da), "mu0": (dz,), "Sigma0": (dz, dz),
    }  # fmt: skip
    if config.conv:
        side = size // 2 ** len(config.filters)
        width = config.filters[-1] * side * side
        shapes["decoder.dense.0.weight"] = (width, da)
        last = f"decoder.body.{3 * len(config.filters)}.weight"
        shapes[last] = (1, config.filters[0], 1, 1)
    else:  # num_layers (at least one) dense layers of vae_num_units each way
        width = config.vae_num_units
        shapes["encoder.features.1.weight"] = (width, size * size)
        shapes[f"decoder.body.{2 * config.num_layers}.weight"] = (size * size, width)
    shapes["encoder.mean.weight"] = (da, width)
    shapes["encoder.var.weight"] = (da, width)
    return shapes


def shape_problem(config: KVAEConfig, header: dict[str, Any]) -> str | None:
    """Why the tensors do not have the shapes the config fixes, or None."""
    for name, shape in fixed_shapes(config).items():
        entry = header.get(name)
        if not isinstance(entry, dict):
            return f"its weights do not match its config: no tensor {name}"
        found = tuple(entry.get("shape") or ())
        if found != shape:
            return f"its weights do not match its config: {name} is {found}, the config's {shape}"
    return None


def _whole_numbers(values: Any) -> bool:
    return isinstance(values, list) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values
    )

"""What a model file says about itself, read from its safetensors header without torch.

A safetensors file starts with an 8-byte header length and a JSON header: each tensor's
dtype, shape and offsets, and the metadata where the studio keeps the model's config and
training summary. Reading those needs neither the weights nor torch, so a process that
only shows models (lists, cards, the frame size a model expects) never pays torch's
import. `model.checkpoint` builds on this to load the weights.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.config import KVAEConfig
from model.read_guard import parse_json, reading

FORMAT = "kvae-studio/1"
_PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05", b"PK\x03\x04")
_MAX_HEADER = 100_000_000


class ModelFileError(ValueError):
    """A model or resume file that cannot be used, with a one-line reason."""


@dataclass(frozen=True)
class ModelDescription:
    """A model as its file describes it: enough to show it and check data against it."""

    path: Path
    config: KVAEConfig
    summary: dict[str, Any]
    weights: int  # number of weights, from the declared tensor shapes


def read_header(path: str | os.PathLike) -> dict[str, Any]:
    """The whole JSON header of a safetensors file: each tensor's dtype and shape, and the
    metadata; nothing else is read. A clear ModelFileError if it is not one."""
    path = Path(path)
    with reading(path.name, ModelFileError):
        return _read_header(path)


def _read_header(path: Path) -> dict[str, Any]:
    if path.is_dir():
        raise ModelFileError(f"{path}: is a folder, not a model file")
    if not path.is_file():
        raise ModelFileError(f"{path}: no such file")
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ModelFileError(f"{path.name}: not a model file (too short to be safetensors)")
        if head.startswith(b"PK\x03\x04") and _is_npz(path):
            raise ModelFileError(
                f"{path.name}: a data set (.npz sequences), not a model (.safetensors)"
            )
        if head.startswith(_PICKLE_MAGIC):
            raise ModelFileError(
                f"{path.name}: this is a pickle/torch.save file; only .safetensors models are "
                "loaded, since pickle can run arbitrary code"
            )
        size = int.from_bytes(head, "little")
        if size <= 0 or size > _MAX_HEADER or size + 8 > path.stat().st_size:
            raise ModelFileError(f"{path.name}: not a safetensors file (bad or truncated header)")
        text = f.read(size)
    return _json_object(
        path, text, "not a safetensors file (unreadable header: {err})",
        "not a safetensors file (its header is not an object)",
    )  # fmt: skip


def _json_object(path: Path, text: str | bytes, unreadable: str, not_object: str) -> dict:
    """`text` parsed as a JSON object, else ModelFileError naming the file with one of
    the two reasons (`unreadable` may hold `{err}`)."""
    try:
        value = parse_json(text)
    except (TypeError, ValueError) as err:
        raise ModelFileError(f"{path.name}: {unreadable.format(err=err)}") from None
    if not isinstance(value, dict):
        raise ModelFileError(f"{path.name}: {not_object}")
    return value


def _is_npz(path: Path) -> bool:
    """Whether a zip archive is numpy's .npz (arrays, .npy) rather than torch.save's
    (a pickle, data.pkl, beside its storages)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return bool(names) and all(name.endswith(".npy") for name in names)


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The metadata header of a safetensors file, or a clear ModelFileError."""
    meta = read_header(path).get("__metadata__")
    return meta if isinstance(meta, dict) else {}


def read_summary(path: str | os.PathLike) -> dict[str, Any]:
    """The training summary a model file stores (epoch, scene, data...), from its header
    alone: no weights are read. Raises ModelFileError if it is not a JSON object."""
    path = Path(path)
    return summary_of(path, read_metadata(path))


def stored_summary(path: str | os.PathLike | None) -> dict[str, Any]:
    """`read_summary`, or {} for no file or one whose summary cannot be read: a viewer
    that already loaded the model shows it all the same."""
    if path is None:
        return {}
    try:
        return read_summary(path)
    except (ModelFileError, OSError):
        return {}


def config_of(path: Path, meta: dict[str, str]) -> KVAEConfig:
    """The config a model file stores (options it predates take their legacy values)."""
    if meta.get("format") != FORMAT or "config" not in meta:
        raise ModelFileError(f"{path.name}: a safetensors file, but not a KVAE Studio model")
    with reading(path.name, ModelFileError, "its config cannot be used"):
        return KVAEConfig.from_stored_json(meta["config"])


def summary_of(path: Path, meta: dict[str, str]) -> dict[str, Any]:
    """The training summary; an object or nothing, since the studio reads fields of it."""
    return _json_object(
        path, meta.get("summary", "{}"), "its training summary is not valid JSON ({err})",
        "its training summary is not a JSON object",
    )  # fmt: skip


def describe_model(path: str | os.PathLike) -> ModelDescription:
    """Config, summary and size of a model file, from its header: no torch, no weights.

    Checks what the header alone can (format, config, summary); `load_model` checks the
    weights against the config as well."""
    path = Path(path)
    header = read_header(path)
    meta = header.get("__metadata__")
    meta = meta if isinstance(meta, dict) else {}
    config = config_of(path, meta)
    summary = summary_of(path, meta)
    weights = 0
    for name, entry in header.items():
        shape = entry.get("shape") if isinstance(entry, dict) and name != "__metadata__" else None
        if isinstance(shape, list) and all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
        ):
            count = 1
            for n in shape:
                count *= n
            weights += count
    return ModelDescription(path, config, summary, weights)

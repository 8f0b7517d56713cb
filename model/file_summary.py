"""Change the training summary stored in a model file without touching its weights.

Why not load and save: `save_model` re-serialises every tensor, and a shipped model's
weights must stay byte for byte what was evaluated. A safetensors file is an 8-byte
header length, a JSON header (tensor offsets and the metadata) and the raw tensor bytes;
offsets count from the end of the header, so a new header in front of the same bytes is
the same model with new metadata. The write is atomic, and the tensor bytes are checked
before the file is replaced.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from model.checkpoint import atomic_write_bytes
from model.model_file import FORMAT, ModelFileError

_ALIGN = 8  # safetensors pads its header with spaces to a multiple of 8 bytes


def split_file(data: bytes) -> tuple[dict[str, Any], bytes]:
    """(header as a dict, tensor bytes) of the bytes of a safetensors file."""
    if len(data) < 8:
        raise ModelFileError("not a safetensors file (too short)")
    size = int.from_bytes(data[:8], "little")
    if size <= 0 or size + 8 > len(data):
        raise ModelFileError("not a safetensors file (bad header length)")
    try:
        header = json.loads(data[8 : 8 + size])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelFileError("not a safetensors file (unreadable header)") from None
    if not isinstance(header, dict):
        raise ModelFileError("not a safetensors file (header is not an object)")
    return header, data[8 + size :]


def update_summary(path: str | os.PathLike, **changes: Any) -> dict[str, Any]:
    """Set keys of the model's summary (e.g. ``scene="box"``); returns the new summary.

    Only the header is rewritten: the tensor bytes of the new file are checked to equal
    the old ones before it replaces the old file.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ModelFileError(f"{path}: cannot read ({err.strerror or err})") from None
    header, tensors = split_file(data)
    meta = dict(header.get("__metadata__") or {})
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"{path.name}: not a KVAE Studio model")
    summary = json.loads(meta.get("summary") or "{}")
    summary.update(changes)
    meta["summary"] = json.dumps(summary)
    header["__metadata__"] = meta
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % _ALIGN)
    new = len(text).to_bytes(8, "little") + text + tensors
    if split_file(new)[1] != tensors:  # guards the arithmetic above, before any write
        raise ModelFileError(f"{path.name}: rewriting the header would change the weights")
    atomic_write_bytes(path, new)
    return summary

"""Files made to break a reader (issue 26): one for each exception class that once escaped
the studio's readers. Shared by the command-line tests and the window's.

Each writer makes a file the way a hostile but realistic user could: a zip entry whose
encrypted flag is set (RuntimeError in zipfile), an array of records (TypeError in
numpy), JSON nested deeper than Python's stack (RecursionError), ``1e999`` where a whole
number belongs (OverflowError), an array header declaring terabytes (MemoryError), and
weights that make the Kalman filter's matrices singular (LinAlgError).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save

from kvae_studio.document.session import FORMAT as SESSION_FORMAT
from model.config import KVAEConfig
from model.kvae import KVAE
from model.model_file import FORMAT as MODEL_FORMAT

DEEP = "[" * 100_000 + "]" * 100_000
"""JSON nested far deeper than Python's recursion limit."""

TINY = KVAEConfig(frame_size=16, filters=(4, 4), alpha_units=8)

BROKEN_FILES = [
    ("broken.safetensors", b"\x10\x00\x00\x00\x00\x00\x00\x00{not json", "open_model"),
    ("pickled.safetensors", b"\x80\x04\x95 pickle bytes here", "open_model"),
    ("junk.safetensors", b"not a model", "open_model"),
    ("model.txt", b"", "open_model"),
    ("broken.npz", b"PK\x03\x04 truncated zip", "open_dataset"),
    ("junk.npz", b"not an archive", "open_dataset"),
    ("broken.session.npz", b"PK\x03\x04 truncated zip", "open_session"),
    ("junk.session.npz", b"not an archive", "open_session"),
]
"""(name, content, opener): files that the window and its document alike must refuse in
one line naming the file, changing nothing; `opener` is the method of both that opens it."""


def sequences(count: int = 3, steps: int = 20, size: int = 16) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.random((count, steps, size, size)) > 0.9).astype(np.float32)


def set_encrypted_flag(path: Path) -> None:
    """Set bit 0 (encrypted) of every entry's flags, in the local headers and the central
    directory: zipfile then refuses to read the entries (RuntimeError)."""
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            data[start + offset] |= 1
            start += 4
    path.write_bytes(bytes(data))


def encrypted_dataset(path: Path) -> Path:
    np.savez(path, images=sequences())
    set_encrypted_flag(path)
    return path


def structured_dataset(path: Path) -> Path:
    np.savez(path, images=np.zeros((2, 20, 16, 16), dtype=[("a", "f4"), ("b", "f4")]))
    return path


def model_file(
    path: Path,
    config: str | None = None,
    summary: str = "{}",
    scale: float = 1.0,
    header: bytes | None = None,
) -> Path:
    """A tiny model's file with its stored config or summary text as given, its weights
    multiplied by `scale`, or its whole JSON header replaced by `header`."""
    torch.manual_seed(0)
    tensors = {k: (v * scale).contiguous() for k, v in KVAE(TINY).state_dict().items()}
    meta = {"format": MODEL_FORMAT, "config": config or TINY.to_json(), "summary": summary}
    data = save(tensors, metadata=meta)
    if header is not None:
        size = struct.unpack("<Q", data[:8])[0]
        header += b" " * (-len(header) % 8)
        data = struct.pack("<Q", len(header)) + header + data[8 + size :]
    path.write_bytes(data)
    return path


def config_with_huge_filters() -> str:
    """The tiny model's config with ``1e999`` (infinity) as a layer's filter count."""
    text = TINY.to_json()
    assert '"filters": [4, 4]' in text
    return text.replace('"filters": [4, 4]', '"filters": [1e999, 4]')


def session_file(path: Path, meta: str | None = None, images: np.ndarray | None = None) -> Path:
    """A session as the window saves it, with its JSON record or its images replaced."""
    images = np.zeros((20, 16, 16), np.float32) if images is None else images
    record = {"format": SESSION_FORMAT, "model_path": None, "source": {}, "frame": 0}
    np.savez(
        path,
        images=images,
        hidden=np.zeros(len(images), bool),
        occluded=np.zeros(images.shape, bool),
        session=np.array(json.dumps(record) if meta is None else meta),
    )
    return path


def session_with_frame(path: Path, frame: str) -> Path:
    """A session whose current frame is written as `frame` (``1e999``)."""
    record = {"format": SESSION_FORMAT, "model_path": None, "source": {}, "frame": 0}
    return session_file(path, meta=json.dumps(record).replace('"frame": 0', f'"frame": {frame}'))


def session_declaring_terabytes(path: Path) -> Path:
    """A session whose images header declares (99999999, 99999, 99) float32, 3.6 PB: the
    same number of header bytes as the real (20, 16, 16), so the archive stays whole."""
    session_file(path)
    data = bytearray(path.read_bytes())
    real = b"'shape': (20, 16, 16), }"
    forged = b"'shape': (99999999, 99999, 99), }"
    start = data.find(real)
    end = data.find(b"\n", start)
    assert start > 0 and end - start >= len(forged)
    data[start:end] = forged + b" " * (end - start - len(forged))
    path.write_bytes(bytes(data))
    return path


def encrypted_session(path: Path) -> Path:
    session_file(path)
    set_encrypted_flag(path)
    return path


def dataset_with_unclosed_header(path: Path) -> Path:
    """A data set whose images header opens a brace it never closes (one byte changed,
    as a flipped bit in a compressed file makes it): numpy's literal_eval fails, and its
    header filter then raises tokenize.TokenError, neither a ValueError nor a SyntaxError."""
    np.savez(path, images=sequences())
    data = bytearray(path.read_bytes())
    start = data.find(b"'shape': (")
    end = data.find(b"}", start)
    assert start > 0 and end > start
    data[end] = ord(" ")
    path.write_bytes(bytes(data))
    return path

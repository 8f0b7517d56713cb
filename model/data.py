"""Sequence files (design doc, section 10): read and write, pure numpy, never pickle.

The format is an ``.npz`` archive holding ``images``, float32 (sequences, T, H, W) in [0, 1],
and, where the scene has one ball, ``state``, float32 (sequences, T, 4) = x, y, vx, vy.

Reading is lenient where the meaning is clear and says what it did in ``notes``:

- keys that need pickle (the original pong files' ``controls``) and unknown keys are skipped;
- ``images`` of another dtype are converted to float32; values above 1 are scaled into
  [0, 1]: by 65793 for the original pong files (packed RGB / 255), by 255 for 8-bit data,
  else by the maximum;
- 3-D ``images`` (T, H, W) are read as one sequence, and a trailing channel axis of size 1
  is dropped.

Everything else raises ``DatasetError`` with a one-line message naming the file: not an
archive, truncated, no ``images``, wrong rank, no sequences, NaN or infinite values,
negative values, a ``state`` that does not match the images.

Writing is atomic (a temporary file beside the target, then ``os.replace``) and
deterministic: the same arrays give the same bytes (fixed zip timestamps).
"""

from __future__ import annotations

import math
import os
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.temp_files import remove_stale, temporary_path

__all__ = [
    "ArrayInfo",
    "DatasetError",
    "SequenceData",
    "SequenceWriter",
    "frames_problem",
    "length_problem",
    "list_arrays",
    "load_sequences",
    "save_sequences",
]

PACKED_WHITE = 65793.0
"""White in the original pong files: 0xFFFFFF / 255 (the others divide by 0xFFFFFF)."""

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_COMPRESS_LEVEL = 3  # about as fast as level 1 on these frames and twice as small


class DatasetError(ValueError):
    """A sequence file that cannot be read or written; the message is one line."""


@dataclass(frozen=True)
class SequenceData:
    """Sequences read from a file.

    ``images`` (N, T, H, W) float32 in [0, 1]; ``state`` (N, T, 4) float32 = x, y, vx, vy, or
    None; ``notes`` say what was skipped or converted while reading.
    """

    images: np.ndarray
    state: np.ndarray | None = None
    notes: tuple[str, ...] = ()

    @property
    def num_sequences(self) -> int:
        return self.images.shape[0]

    @property
    def num_steps(self) -> int:
        return self.images.shape[1]

    @property
    def frame_shape(self) -> tuple[int, int]:
        return self.images.shape[2], self.images.shape[3]


@dataclass(frozen=True)
class ArrayInfo:
    """One array of an archive as its header describes it (nothing loaded)."""

    name: str
    dtype: str
    shape: tuple[int, ...]

    @property
    def needs_pickle(self) -> bool:
        return self.dtype == "object"


def list_arrays(path: str | os.PathLike) -> tuple[ArrayInfo, ...]:
    """The arrays in an ``.npz`` file, from their headers only; DatasetError if unreadable."""
    with _open_archive(path) as archive:
        return tuple(_header(path, archive, entry) for entry in _entries(archive).values())


def load_sequences(path: str | os.PathLike) -> SequenceData:
    """Read a sequence file; see the module docstring for what is accepted."""
    notes: list[str] = []
    with _open_archive(path) as archive:
        entries = _entries(archive)
        for name in archive.namelist():
            if not name.endswith(".npy"):
                notes.append(f"ignored entry {name!r}: not an array")
        if "images" not in entries:
            keys = ", ".join(entries) or "none"
            raise DatasetError(f"{path}: no 'images' array (arrays in the file: {keys})")
        infos = {key: _header(path, archive, entry) for key, entry in entries.items()}
        for key, info in infos.items():
            if key in ("images", "state"):
                continue
            if info.needs_pickle:
                notes.append(f"skipped key {key!r}: object array needs pickle")
            else:
                notes.append(f"ignored key {key!r}: {info.dtype} {info.shape}")
        images = _images(path, _read(path, archive, entries["images"], infos["images"]), notes)
        state = None
        if "state" in entries:
            if infos["state"].needs_pickle:
                notes.append("skipped key 'state': object array needs pickle")
            else:
                raw = _read(path, archive, entries["state"], infos["state"])
                state = _state(path, raw, images.shape, notes)
    return SequenceData(images=images, state=state, notes=tuple(notes))


def frames_problem(shape: tuple[int, ...], frame_size: int | None = None) -> str | None:
    """Why sequences of `shape` (N, T, H, W) cannot go into a KVAE of `frame_size` px (or,
    without one, into any KVAE), or None. The KVAE's frames are square."""
    height, width = shape[-2:]
    if height != width:
        return f"frames are {height}×{width} px; a KVAE needs square frames"
    if frame_size is not None and width != frame_size:
        return f"frames are {height}×{width} px, the model expects {frame_size}×{frame_size}"
    return None


def length_problem(steps: int, t_init: int, what: str = "the imputation masks") -> str | None:
    """Why sequences of `steps` frames cannot be scored by masks that always show the first
    `t_init` (the config's t_init_mask), or None: with nothing hidden every figure is NaN."""
    if steps <= t_init:
        return (
            f"sequences of {steps} frames are too short for {what}: the first {t_init} "
            f"frames are always shown (t_init_mask), so at least {t_init + 1} are needed"
        )
    return None


def save_sequences(
    path: str | os.PathLike,
    images: np.ndarray,
    state: np.ndarray | None = None,
    *,
    compress: bool = True,
) -> None:
    """Write sequences in the original format, atomically; DatasetError for invalid arrays."""
    images = np.asarray(images)
    with SequenceWriter(path, images.shape, compress=compress) as writer:
        writer.write(images)
        writer.finish(state)


class SequenceWriter:
    """Write a sequence file batch by batch, so that a large data set never sits in memory.

    ::

        with SequenceWriter("box.npz", (N, T, H, W)) as writer:
            for batch in batches:
                writer.write(batch)          # (B, T, H, W), in order
            writer.finish(state)             # (N, T, 4) or None

    Nothing appears at ``path`` until ``finish`` succeeds; leaving the block without it (an
    exception, a cancelled job) removes the temporary file. ``write`` copies the batch and
    compresses it on a helper thread while the caller makes the next one (zlib runs without
    the GIL); at most one batch waits.
    """

    def __init__(
        self, path: str | os.PathLike, shape: tuple[int, ...], *, compress: bool = True
    ) -> None:
        shape = tuple(int(s) for s in shape)
        if len(shape) != 4:
            raise DatasetError(f"{path}: images must be 4-D (sequences, T, H, W), got {shape}")
        if min(shape) < 1:
            raise DatasetError(f"{path}: no sequences to write (shape {shape})")
        self.path = Path(path)
        self.shape = shape
        self.written = 0
        remove_stale(self.path)  # what a killed writer of this file left behind
        self._tmp = temporary_path(self.path)
        mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        try:
            self._zip = zipfile.ZipFile(self._tmp, "x", compression=mode)
        except OSError as err:
            raise DatasetError(f"{path}: cannot write: {err.strerror or err}") from None
        self._images = self._zip.open(_zip_info("images", mode), "w", force_zip64=True)
        header = {"descr": "<f4", "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(self._images, header)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="npz-writer")
        self._pending: Future | None = None

    def write(self, images: np.ndarray) -> None:
        """Append (B, T, H, W) frames in [0, 1]."""
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[1:] != self.shape[1:]:
            raise DatasetError(
                f"{self.path}: batch of shape {images.shape} does not fit (…, {self.shape[1:]})"
            )
        if self.written + len(images) > self.shape[0]:
            raise DatasetError(f"{self.path}: more than the {self.shape[0]} announced sequences")
        _check_range(self.path, "images", images)
        data = np.array(images, dtype="<f4", order="C")  # a copy: callers reuse their buffers
        self._wait()
        self._pending = self._worker.submit(self._images.write, memoryview(data).cast("B"))
        self.written += len(images)

    def finish(self, state: np.ndarray | None = None) -> None:
        """Write ``state`` (N, T, 4) if given and move the file into place."""
        if self.written != self.shape[0]:
            raise DatasetError(
                f"{self.path}: wrote {self.written} of {self.shape[0]} announced sequences"
            )
        if state is not None:
            state = np.asarray(state)
            expected = (*self.shape[:2], 4)
            if state.shape != expected:
                raise DatasetError(
                    f"{self.path}: state has shape {state.shape}, expected {expected}"
                )
            if not np.issubdtype(state.dtype, np.number) or not np.isfinite(state).all():
                raise DatasetError(f"{self.path}: state must hold finite numbers")
        self._wait()
        self._worker.shutdown()
        self._images.close()
        if state is not None:
            info = _zip_info("state", self._zip.compression)
            with self._zip.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, state.astype("<f4"), allow_pickle=False)
        self._zip.close()
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        """Drop the temporary file (safe to call more than once)."""
        # A half-written entry or archive may refuse to close; the file goes anyway.
        with suppress(Exception):
            self._wait()
        self._worker.shutdown()
        with suppress(Exception):
            self._images.close()
        with suppress(Exception):
            self._zip.close()
        self._tmp.unlink(missing_ok=True)

    def _wait(self) -> None:
        """Let the batch in flight finish; its error, if any, surfaces here."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        try:
            pending.result()
        except OSError as err:
            raise DatasetError(f"{self.path}: cannot write: {err.strerror or err}") from None

    def __enter__(self) -> SequenceWriter:
        return self

    def __exit__(self, *exc) -> None:
        if self._tmp.exists():
            self.abort()


# -- reading ---------------------------------------------------------------------------------


@contextmanager
def _open_archive(path: str | os.PathLike) -> Iterator[zipfile.ZipFile]:
    """Open an npz as a ZipFile, turning every failure into a one-line DatasetError."""
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DatasetError(f"{path}: is a folder, not an .npz file") from None
    except OSError as err:
        raise DatasetError(f"{path}: cannot read: {err.strerror or err}") from None
    if not magic:
        raise DatasetError(f"{path}: empty file")
    if magic == b"\x93NUMPY":
        raise DatasetError(f"{path}: a single .npy array, not an .npz archive")
    if not magic.startswith(b"PK"):
        raise DatasetError(f"{path}: not an .npz file (not a zip archive)")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
        raise DatasetError(f"{path}: truncated or corrupt .npz file ({err})") from None
    with archive:
        yield archive


def _entries(archive: zipfile.ZipFile) -> dict[str, str]:
    return {n[: -len(".npy")]: n for n in archive.namelist() if n.endswith(".npy")}


_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError)


def _header(path, archive: zipfile.ZipFile, entry: str) -> ArrayInfo:
    key = entry[: -len(".npy")]
    try:
        with archive.open(entry) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(f)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    except _READ_ERRORS as err:
        raise DatasetError(f"{path}: truncated or corrupt array {key!r} ({err})") from None
    return ArrayInfo(name=key, dtype="object" if dtype.hasobject else str(dtype), shape=shape)


def _read(path, archive: zipfile.ZipFile, entry: str, info: ArrayInfo) -> np.ndarray:
    if info.needs_pickle:
        raise DatasetError(f"{path}: {info.name!r} is an object array, which needs pickle")
    _check_declared_size(path, archive, entry, info)
    try:
        with archive.open(entry) as f:
            return np.lib.format.read_array(f, allow_pickle=False)
    except _READ_ERRORS as err:
        raise DatasetError(f"{path}: truncated or corrupt array {info.name!r} ({err})") from None
    except MemoryError:
        raise DatasetError(
            f"{path}: {info.name!r} {info.shape} needs {_nbytes(info) / 1e9:.1f} GB, more memory "
            "than is free"
        ) from None


_MAX_DEFLATE_RATIO = 1032
"""Deflate cannot expand data more than this (258 bytes from two bits, plus block overhead)."""


def _nbytes(info: ArrayInfo) -> int:
    return math.prod(info.shape) * np.dtype(info.dtype).itemsize


def _check_declared_size(path, archive: zipfile.ZipFile, entry: str, info: ArrayInfo) -> None:
    """Refuse an array whose header claims more bytes than the archive really holds.

    numpy allocates the whole declared shape before it reads a byte, so a forged header
    (10^12 elements, or merely more than the file has) would fail in the allocator or
    after it. The zip directory's sizes are checked against the file's real size too, and
    a compressed entry can hold at most `_MAX_DEFLATE_RATIO` times its compressed bytes.
    """
    zinfo = archive.getinfo(entry)
    try:
        on_disk = os.path.getsize(path)
    except OSError:
        on_disk = zinfo.compress_size
    if zinfo.compress_size > on_disk:
        raise DatasetError(
            f"{path}: truncated or corrupt array {info.name!r} (the archive lists "
            f"{zinfo.compress_size} bytes, the file has {on_disk})"
        )
    if zinfo.compress_type == zipfile.ZIP_STORED:
        present = zinfo.compress_size
    else:
        present = min(zinfo.file_size, zinfo.compress_size * _MAX_DEFLATE_RATIO + 1024)
    needed = _nbytes(info)
    if needed > present:
        raise DatasetError(
            f"{path}: truncated or corrupt array {info.name!r}: its header declares shape "
            f"{info.shape} ({needed} bytes), the file holds at most {present} bytes"
        )


def _images(path, images: np.ndarray, notes: list[str]) -> np.ndarray:
    if images.ndim == 5 and images.shape[-1] == 1:
        images = images[..., 0]
        notes.append("images: dropped a trailing channel axis of size 1")
    if images.ndim == 3:
        images = images[None]
        notes.append("images: 3-D (T, H, W), read as one sequence")
    if images.ndim != 4:
        raise DatasetError(
            f"{path}: 'images' must be 4-D (sequences, T, H, W), got shape {images.shape}"
        )
    if images.size == 0:
        raise DatasetError(f"{path}: no sequences ('images' has shape {images.shape})")
    kind = images.dtype.kind
    if kind not in "biuf":
        raise DatasetError(f"{path}: 'images' must hold numbers, got dtype {images.dtype}")
    if kind == "b":
        notes.append("images: converted from bool")
    elif images.dtype != np.float32:
        notes.append(f"images: converted from {images.dtype} to float32")
    images = np.ascontiguousarray(images, dtype=np.float32)
    lo, hi = float(images.min()), float(images.max())
    if not (np.isfinite(lo) and np.isfinite(hi)):
        bad = int(images.size - np.count_nonzero(np.isfinite(images)))
        raise DatasetError(f"{path}: 'images' holds {bad} NaN or infinite values")
    if lo < 0:
        raise DatasetError(f"{path}: 'images' has negative values (min {lo:g}); expected [0, 1]")
    if hi > 1:
        if hi == PACKED_WHITE:
            scale, why = PACKED_WHITE, " (colours packed as in the original pong files)"
        elif hi <= 255 and kind in "iu":
            scale, why = 255.0, ""
        else:
            scale, why = hi, ""
        images /= np.float32(scale)
        np.clip(images, 0.0, 1.0, out=images)
        notes.append(f"images: scaled from [0, {scale:g}] to [0, 1]{why}")
    return images


def _state(path, state: np.ndarray, image_shape: tuple[int, ...], notes: list[str]):
    expected = (*image_shape[:2], 4)
    if state.ndim == 2 and image_shape[0] == 1:
        state = state[None]  # goes with 3-D images: one sequence
    if state.shape != expected:
        raise DatasetError(
            f"{path}: 'state' has shape {state.shape} but the images need {expected} "
            f"({image_shape[0]} sequences of {image_shape[1]} frames, x y vx vy)"
        )
    if state.dtype.kind not in "iuf":
        raise DatasetError(f"{path}: 'state' must hold numbers, got dtype {state.dtype}")
    state = np.ascontiguousarray(state, dtype=np.float32)
    if not np.isfinite(state).all():
        raise DatasetError(f"{path}: 'state' holds NaN or infinite values")
    return state


# -- writing ---------------------------------------------------------------------------------


def _zip_info(key: str, compression: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_EPOCH)
    info.compress_type = compression
    info.external_attr = 0o644 << 16
    if compression == zipfile.ZIP_DEFLATED:
        # ZipFile.open(ZipInfo) ignores the archive's level; the attribute is public from 3.13.
        if hasattr(info, "compress_level"):
            info.compress_level = _COMPRESS_LEVEL
        else:
            info._compresslevel = _COMPRESS_LEVEL
    return info


def _check_range(path, name: str, array: np.ndarray) -> None:
    if array.dtype.kind not in "biuf":
        raise DatasetError(f"{path}: {name} must hold numbers, got dtype {array.dtype}")
    if array.size == 0:
        return
    lo, hi = float(array.min()), float(array.max())
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise DatasetError(f"{path}: {name} holds NaN or infinite values")
    if lo < 0 or hi > 1:
        raise DatasetError(f"{path}: {name} must lie in [0, 1], got [{lo:g}, {hi:g}]")

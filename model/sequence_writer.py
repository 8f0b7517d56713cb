"""Writing sequence files: atomic, deterministic, batch by batch.

Why a module of its own: the writer streams a data set larger than memory into the archive
on a helper thread and must leave nothing behind when it fails or is cancelled; that
machinery has nothing to do with reading. `model.data` re-exports both names.
"""

from __future__ import annotations

import json
import os
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import Any

import numpy as np

from model.npz_archive import DatasetError
from model.sequence_values import check_range
from model.temp_files import remove_stale, temporary_path, write_target

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_COMPRESS_LEVEL = 3  # about as fast as level 1 on these frames and twice as small
SCENE_KEY = "scene"
"""The array that says which scene, with which parameters, made a file's sequences."""
DEFLATE_MAX_RATIO = 1032
"""No deflate stream is smaller than 1/1032 of what it holds (its longest match, 258
bytes, costs at least 2 bits): the bound under which a file cannot fit, whatever it holds."""


def save_sequences(
    path: str | os.PathLike,
    images: np.ndarray,
    state: np.ndarray | None = None,
    *,
    compress: bool = True,
    scene: dict[str, Any] | None = None,
) -> None:
    """Write sequences in the original format, atomically; DatasetError for invalid arrays.
    `scene`: what made them (`SequenceWriter.finish`)."""
    images = np.asarray(images)
    with SequenceWriter(path, images.shape, compress=compress) as writer:
        writer.write(images)
        writer.finish(state, scene=scene)


def least_file_bytes(shape: tuple[int, ...], *, compress: bool = True) -> int:
    """Fewest bytes a sequence file of images `shape` (N, T, H, W) can take on disk, state
    included: a check of the free space before any work that never refuses a file that
    would fit."""
    n, steps = int(shape[0]), int(shape[1])
    raw = 4 * n * steps * int(shape[2]) * int(shape[3])
    state = 4 * n * steps * 4
    if compress:
        raw, state = raw // DEFLATE_MAX_RATIO, state // DEFLATE_MAX_RATIO
    return raw + state


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
        try:
            self.path = write_target(path)
        except OSError as err:
            raise DatasetError(f"{path}: cannot write: {err.strerror or err}") from None
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
        check_range(self.path, "images", images)
        data = np.array(images, dtype="<f4", order="C")  # a copy: callers reuse their buffers
        self._wait()
        self._pending = self._worker.submit(self._images.write, memoryview(data).cast("B"))
        self.written += len(images)

    def finish(
        self, state: np.ndarray | None = None, *, scene: dict[str, Any] | None = None
    ) -> None:
        """Write ``state`` (N, T, 4) and ``scene`` if given, and move the file into place.

        ``scene`` describes what made the sequences (the simulator's scene and parameters):
        a JSON object kept as ``scene``, a 0-d unicode array that ``np.load`` reads without
        pickle. Keys are sorted, so the same description gives the same bytes."""
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
        described = None if scene is None else _scene_array(self.path, scene)
        self._wait()
        self._worker.shutdown()
        try:  # the last of the frames, the state and the archive's index reach the disk here
            self._images.close()
            if state is not None:
                info = _zip_info("state", self._zip.compression)
                with self._zip.open(info, "w", force_zip64=True) as f:
                    np.lib.format.write_array(f, state.astype("<f4"), allow_pickle=False)
            if described is not None:
                info = _zip_info(SCENE_KEY, self._zip.compression)
                with self._zip.open(info, "w") as f:
                    np.lib.format.write_array(f, described, allow_pickle=False)
            self._zip.close()
            os.replace(self._tmp, self.path)
        except OSError as err:
            raise DatasetError(f"{self.path}: cannot write: {err.strerror or err}") from None

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


def _scene_array(path: Path, scene: dict[str, Any]) -> np.ndarray:
    """The scene's description as a 0-d unicode array of JSON; DatasetError if it is not a
    JSON object."""
    if not isinstance(scene, dict):
        raise DatasetError(f"{path}: the scene must be described by a JSON object")
    try:
        text = json.dumps(scene, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise DatasetError(f"{path}: the scene's description is not JSON ({err})") from None
    return np.array(text)


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

"""Reading ``.npz`` archives without pickle, every failure one line naming the file.

Why a module of its own: an archive is read in two places (the headers alone by
`model.data.list_arrays`, whole arrays by `model.data.load_sequences`), and the defences
against a truncated, corrupt or forged file (a header that declares more bytes than the
archive holds) belong in one place, apart from what the arrays must contain.
"""

from __future__ import annotations

import math
import os
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np


class DatasetError(ValueError):
    """A sequence file that cannot be read or written; the message is one line."""


@dataclass(frozen=True)
class ArrayInfo:
    """One array of an archive as its header describes it (nothing loaded)."""

    name: str
    dtype: str
    shape: tuple[int, ...]

    @property
    def needs_pickle(self) -> bool:
        return self.dtype == "object"

    @property
    def structured(self) -> bool:
        """Records of named fields (``[('x', '<f4'), ...]``) rather than numbers."""
        return self.dtype.startswith(("[", "{", "("))


@contextmanager
def open_archive(path: str | os.PathLike) -> Iterator[zipfile.ZipFile]:
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


def array_entries(archive: zipfile.ZipFile) -> dict[str, str]:
    """The archive's arrays: key (``images``) -> entry name (``images.npy``)."""
    return {n[: -len(".npy")]: n for n in archive.namelist() if n.endswith(".npy")}


_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError)


def read_header(path: str | os.PathLike, archive: zipfile.ZipFile, entry: str) -> ArrayInfo:
    """Name, dtype and shape of one array, from its header alone."""
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


def read_array(
    path: str | os.PathLike, archive: zipfile.ZipFile, entry: str, info: ArrayInfo
) -> np.ndarray:
    """One whole array, once its header's size is checked against the archive's bytes."""
    if info.needs_pickle:
        raise DatasetError(f"{path}: {info.name!r} is an object array, which needs pickle")
    if info.structured:
        raise DatasetError(
            f"{path}: {info.name!r} is a structured array ({info.dtype}), not numbers"
        )
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

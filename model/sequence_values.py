"""What the arrays of a sequence file may hold, and how the reader normalises them.

Why a module of its own: the rules for ``images`` and ``state`` (rank, dtype, range, the
original pong files' packed colours) are the file format's meaning, separate from how the
archive is opened (`model.npz_archive`); the writer checks its input against the same
range (`check_range`).
"""

from __future__ import annotations

import os

import numpy as np

from model.npz_archive import DatasetError

PACKED_WHITE = 65793.0
"""White in the original pong files: 0xFFFFFF / 255 (the others divide by 0xFFFFFF)."""


def normalised_images(path: str | os.PathLike, images: np.ndarray, notes: list[str]) -> np.ndarray:
    """``images`` as float32 (N, T, H, W) in [0, 1], saying in `notes` what was converted."""
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
    check_float32(path, "images", images)
    if kind == "b":
        notes.append("images: converted from bool")
    elif images.dtype != np.float32:
        notes.append(f"images: converted from {images.dtype} to float32")
    images = np.ascontiguousarray(images, dtype=np.float32)
    lo, hi = float(images.min()), float(images.max())
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


def checked_state(
    path: str | os.PathLike, state: np.ndarray, image_shape: tuple[int, ...], notes: list[str]
) -> np.ndarray:
    """``state`` as float32 (N, T, 4) matching the images, or DatasetError."""
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
    check_float32(path, "state", state)
    return np.ascontiguousarray(state, dtype=np.float32)


def check_float32(path: str | os.PathLike, name: str, array: np.ndarray) -> None:
    """DatasetError unless every value of `array` (numbers) is finite and within float32's
    range, as it is read: counted in the file's own dtype, so that a float64 value too
    large for float32 is neither a warning nor miscounted as infinite."""
    if array.dtype.kind != "f":
        return  # integers and bools: finite, and within float32's range
    finite = np.isfinite(array)
    bad = int(array.size - np.count_nonzero(finite))
    if bad:
        raise DatasetError(f"{path}: '{name}' holds {bad} NaN or infinite value{_s(bad)}")
    if array.dtype.itemsize > 4 and array.size:
        limit = float(np.finfo(np.float32).max)
        with np.errstate(all="ignore"):
            large = int(np.count_nonzero(np.abs(array) > limit))
        if large:
            raise DatasetError(
                f"{path}: '{name}' holds {large} value{_s(large)} beyond float32's range "
                f"(largest magnitude {float(np.abs(array).max()):g})"
            )


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def check_range(path: str | os.PathLike, name: str, array: np.ndarray) -> None:
    """DatasetError unless `array` holds finite numbers in [0, 1] (what the writer accepts)."""
    if array.dtype.kind not in "biuf":
        raise DatasetError(f"{path}: {name} must hold numbers, got dtype {array.dtype}")
    if array.size == 0:
        return
    lo, hi = float(array.min()), float(array.max())
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise DatasetError(f"{path}: {name} holds NaN or infinite values")
    if lo < 0 or hi > 1:
        raise DatasetError(f"{path}: {name} must lie in [0, 1], got [{lo:g}, {hi:g}]")

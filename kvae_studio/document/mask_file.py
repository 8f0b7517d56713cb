"""A sequence's masks in a file of their own, to reuse a set of occlusions on other
sequences and with other models.

Two forms:

- `.masks.npz`, a plain numpy archive that loads without pickle: `hidden` bool (T,),
  the frames withheld; `occluded` bool (T, H, W), the painted pixels; `masks`, a 0-d
  unicode array holding JSON {"format": "kvae-studio-masks/1"}. A session file
  (document/session.py) holds the same two arrays, so its masks load the same way.
- A PNG stack, `<name>-000.png`, `<name>-001.png`..., one 8-bit grey picture a frame,
  white where the model does not look: a hidden frame is all white. Read back, an all
  white picture is a hidden frame (to the model a frame painted all over is missing just
  as a hidden one is), any other picture's pixels above mid-grey are painted. Written
  over a longer stack of the same name, the longer one's later pictures are removed.

Both are written atomically (model.temp_files): a reader never sees half a file. Every
failure is a `MaskFileError` with a one-line message.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np

from kvae_studio.services.file_names import mask_png_names, mask_png_stack
from model.npz_archive import DatasetError, array_entries, open_archive, read_array, read_header
from model.read_guard import parse_json, reading
from model.temp_files import atomic_write_bytes

FORMAT = "kvae-studio-masks/1"
_LAYERS = ("hidden", "occluded")


class MaskFileError(ValueError):
    """A mask file that cannot be read or written; the message is one line."""


def _checked(hidden: np.ndarray, occluded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    hidden, occluded = np.asarray(hidden, bool), np.asarray(occluded, bool)
    if occluded.ndim != 3 or hidden.shape != occluded.shape[:1] or occluded.size == 0:
        raise MaskFileError(
            f"the masks do not fit together: hidden {hidden.shape}, occluded {occluded.shape}"
        )
    return hidden, occluded


def describe(shape: tuple[int, ...]) -> str:
    """'20 frames of 32×32 pixels' of a (T, H, W) shape."""
    steps, height, width = shape
    return f"{steps} frame{'s' * (steps != 1)} of {height}×{width} pixels"


# The .npz form.
def save_masks(path: str | os.PathLike, hidden: np.ndarray, occluded: np.ndarray) -> None:
    """Write both layers to an .npz at `path`, atomically."""
    path = Path(path)
    hidden, occluded = _checked(hidden, occluded)
    buffer = io.BytesIO()
    meta = np.array(json.dumps({"format": FORMAT}))
    np.savez_compressed(buffer, hidden=hidden, occluded=occluded, masks=meta)
    try:
        atomic_write_bytes(path, buffer.getvalue())
    except OSError as err:
        reason = err.strerror or err
        raise MaskFileError(f"{path.name}: cannot write the masks ({reason})") from None


def load_masks(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(hidden (T,), occluded (T, H, W)) of a mask file, a session file or a PNG stack
    (any one picture of it), or MaskFileError."""
    path = Path(path)
    if path.suffix.lower() == ".png":
        return load_mask_pngs(path)
    with reading(path.name, MaskFileError, "not a readable mask file"):
        return _load_npz(path)


def _load_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open_archive(path) as archive:
            entries = array_entries(archive)
            if missing := [key for key in _LAYERS if key not in entries]:
                raise MaskFileError(
                    f"{path.name}: holds no masks (no {' or '.join(missing)} array)"
                )
            arrays = {}
            for key in (*_LAYERS, "masks"):
                if key in entries:
                    info = read_header(path, archive, entries[key])
                    arrays[key] = read_array(path, archive, entries[key], info)
    except DatasetError as err:
        reason = str(err).removeprefix(f"{path}: ")
        raise MaskFileError(f"{path.name}: not a readable mask file ({reason})") from None
    if "masks" in arrays:
        meta = parse_json(str(arrays["masks"][()]))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise MaskFileError(f"{path.name}: masks of an unknown format")
    for key in _LAYERS:
        if arrays[key].dtype != bool and not np.isin(arrays[key], (0, 1)).all():
            raise MaskFileError(f"{path.name}: its {key} array holds values other than 0 and 1")
    try:
        return _checked(arrays["hidden"], arrays["occluded"])
    except MaskFileError as err:
        raise MaskFileError(f"{path.name}: {err}") from None


# The PNG stack.
def save_mask_pngs(path: str | os.PathLike, hidden: np.ndarray, occluded: np.ndarray) -> list[Path]:
    """One PNG a frame beside `path` (see the module's note); returns their paths."""
    import cv2  # the studio's picture and video library, loaded only when needed

    hidden, occluded = _checked(hidden, occluded)
    names = mask_png_names(Path(path), len(hidden))
    for name, whole, painted in zip(names, hidden, occluded, strict=True):
        picture = np.full(painted.shape, 255, np.uint8) if whole else painted * np.uint8(255)
        ok, encoded = cv2.imencode(".png", picture)
        if not ok:
            raise MaskFileError(f"{name.name}: cannot encode the picture")
        try:
            atomic_write_bytes(name, encoded.tobytes())
        except OSError as err:
            raise MaskFileError(
                f"{name.name}: cannot write the masks ({err.strerror or err})"
            ) from None
    later = mask_png_stack(names[0]) or []
    for stale in later[len(names) :]:  # a longer stack's pictures, of an earlier export
        stale.unlink(missing_ok=True)
    return names


def load_mask_pngs(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """The masks of the PNG stack that `path` (`x-007.png`) is a picture of: every
    `x-NNN.png` beside it, numbered from 000 without a gap."""
    import cv2

    path = Path(path)
    names = mask_png_stack(path)
    if names is None:
        raise MaskFileError(f"{path.name}: not a picture of a mask stack (name-000.png...)")
    if not names:
        raise MaskFileError(f"{path.name}: its stack has no first picture (-000.png)")
    pictures = []
    for name in names:
        with reading(name.name, MaskFileError, "not a readable PNG", also=(cv2.error,)):
            data = np.fromfile(name, np.uint8)
            picture = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if data.size else None
        if picture is None:
            raise MaskFileError(f"{name.name}: not a readable PNG")
        if pictures and picture.shape != pictures[0].shape:
            raise MaskFileError(
                f"{name.name}: {picture.shape[1]}×{picture.shape[0]} pixels, the stack's "
                f"first picture has {pictures[0].shape[1]}×{pictures[0].shape[0]}"
            )
        pictures.append(picture)
    stack = np.stack(pictures) >= 128
    hidden = stack.all(axis=(1, 2))
    occluded = stack & ~hidden[:, None, None]
    return hidden, occluded

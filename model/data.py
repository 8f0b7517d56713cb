"""Sequence files (design doc, section 10): read and write, pure numpy, never pickle.

The format is an ``.npz`` archive holding ``images``, float32 (sequences, T, H, W) in [0, 1],
and, where the scene has one ball, ``state``, float32 (sequences, T, 4) = x, y, vx, vy.
Files the studio makes also hold ``scene``: a 0-d unicode array of JSON, an object saying
what made the sequences (``{"scene": "box", "parameters": {...}, ...}``; the studio's
`kvae_studio.sim.scene_record` writes and reads it), so that a model trained on them can
say which world it learned. Older files and other tools' files have none.

Reading is lenient where the meaning is clear and says what it did in ``notes``:

- keys that need pickle (the original pong files' ``controls``) and unknown keys are skipped;
- a ``scene`` that is not a JSON object (or needs pickle) is skipped with a note;
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

This module is the format's front door: the loaded type, reading, and whether sequences fit
a model. The archive's defences live in `model.npz_archive`, the arrays' rules in
`model.sequence_values`, the writer in `model.sequence_writer` (its names re-exported here).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.npz_archive import (
    ArrayInfo,
    DatasetError,
    array_entries,
    open_archive,
    read_array,
    read_header,
)
from model.read_guard import parse_json, reading
from model.sequence_values import checked_state, normalised_images
from model.sequence_writer import SCENE_KEY, SequenceWriter, save_sequences

__all__ = [
    "ArrayInfo",
    "DatasetError",
    "SequenceData",
    "SequenceWriter",
    "frames_problem",
    "length_problem",
    "list_arrays",
    "load_sequences",
    "read_scene_info",
    "save_sequences",
]


@dataclass(frozen=True)
class SequenceData:
    """Sequences read from a file.

    ``images`` (N, T, H, W) float32 in [0, 1]; ``state`` (N, T, 4) float32 = x, y, vx, vy, or
    None; ``notes`` say what was skipped or converted while reading; ``scene_info`` what
    made the sequences (the file's ``scene`` object), None where the file does not say.
    """

    images: np.ndarray
    state: np.ndarray | None = None
    notes: tuple[str, ...] = ()
    scene_info: dict[str, Any] | None = None

    @property
    def scene(self) -> str | None:
        """The name of the scene that made the sequences ("box"), where the file says."""
        return None if self.scene_info is None else self.scene_info["scene"]

    @property
    def scene_parameters(self) -> dict[str, Any] | None:
        """The scene's parameters the sequences were simulated with, where the file says
        (JSON's lists as tuples, the parameters' own type: a polygon's corners)."""
        if self.scene_info is None:
            return None
        parameters = self.scene_info.get("parameters")
        if not isinstance(parameters, dict):
            return None
        return {name: _tuples(value) for name, value in parameters.items()}

    @property
    def num_sequences(self) -> int:
        return self.images.shape[0]

    @property
    def num_steps(self) -> int:
        return self.images.shape[1]

    @property
    def frame_shape(self) -> tuple[int, int]:
        return self.images.shape[2], self.images.shape[3]


def list_arrays(path: str | os.PathLike) -> tuple[ArrayInfo, ...]:
    """The arrays in an ``.npz`` file, from their headers only; DatasetError if unreadable."""
    with reading(path, DatasetError), open_archive(path) as archive:
        return tuple(read_header(path, archive, entry) for entry in array_entries(archive).values())


def load_sequences(path: str | os.PathLike) -> SequenceData:
    """Read a sequence file; see the module docstring for what is accepted."""
    notes: list[str] = []
    with reading(path, DatasetError), open_archive(path) as archive:
        entries = array_entries(archive)
        for name in archive.namelist():
            if not name.endswith(".npy"):
                notes.append(f"ignored entry {name!r}: not an array")
        if "images" not in entries:
            keys = ", ".join(entries) or "none"
            raise DatasetError(f"{path}: no 'images' array (arrays in the file: {keys})")
        infos = {key: read_header(path, archive, entry) for key, entry in entries.items()}
        for key, info in infos.items():
            if key in ("images", "state", SCENE_KEY):
                continue
            if info.needs_pickle:
                notes.append(f"skipped key {key!r}: object array needs pickle")
            else:
                notes.append(f"ignored key {key!r}: {info.dtype} {info.shape}")
        images = normalised_images(
            path, read_array(path, archive, entries["images"], infos["images"]), notes
        )
        state = None
        if "state" in entries:
            if infos["state"].needs_pickle:
                notes.append("skipped key 'state': object array needs pickle")
            else:
                raw = read_array(path, archive, entries["state"], infos["state"])
                state = checked_state(path, raw, images.shape, notes)
        scene = None
        if SCENE_KEY in entries:
            scene = _scene_info(path, archive, entries[SCENE_KEY], infos[SCENE_KEY], notes)
    return SequenceData(images=images, state=state, notes=tuple(notes), scene_info=scene)


def read_scene_info(path: str | os.PathLike) -> dict[str, Any] | None:
    """The ``scene`` object of a sequence file without reading its frames; None when the
    file has none or cannot be read (the caller then knows nothing of its scene)."""
    try:
        with reading(path, DatasetError), open_archive(path) as archive:
            entry = array_entries(archive).get(SCENE_KEY)
            if entry is None:
                return None
            return _scene_info(path, archive, entry, read_header(path, archive, entry), [])
    except DatasetError:
        return None


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


_MAX_SCENE_BYTES = 1 << 20
"""A scene's description is a few hundred bytes; a larger one is not read."""


def _scene_info(path, archive, entry: str, info: ArrayInfo, notes: list[str]) -> dict | None:
    """The file's ``scene`` object, or None with a note saying why it was skipped."""
    if info.needs_pickle:
        notes.append(f"skipped key {SCENE_KEY!r}: object array needs pickle")
        return None
    size = int(np.prod(info.shape)) * np.dtype(info.dtype).itemsize
    if info.shape != () or np.dtype(info.dtype).kind != "U" or size > _MAX_SCENE_BYTES:
        what = f"{info.dtype} {info.shape}"
        notes.append(f"ignored key {SCENE_KEY!r}: not a scene description ({what})")
        return None
    text = str(read_array(path, archive, entry, info)[()])  # a corrupt entry: DatasetError
    try:
        scene = parse_json(text)
    except ValueError:
        notes.append(f"ignored key {SCENE_KEY!r}: not JSON")
        return None
    if not isinstance(scene, dict) or not isinstance(scene.get("scene"), str):
        notes.append(f"ignored key {SCENE_KEY!r}: not a scene description (no scene name)")
        return None
    return scene


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

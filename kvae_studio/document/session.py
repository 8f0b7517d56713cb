"""A studio session in one file: the sequence, both mask layers, and which model looked at it.

Format (`.session.npz`, a plain numpy archive that loads without pickle):

- `images` float32 (T, H, W) in [0, 1]: the sequence itself, so the session does not
  depend on the dataset file or the simulator version it came from;
- `state` float32 (T, 4), optional: the ball's x, y, vx, vy where known;
- `hidden` bool (T,): frames withheld from the model;
- `occluded` bool (T, H, W): painted pixels;
- `session` a 0-d unicode array holding JSON: {"format": "kvae-studio-session/1",
  "model_path": str | null, "source": {...}, "frame": int}. `source` says where the
  sequence came from ({"kind": "scene", "scene", "seed"} or {"kind": "dataset", "path",
  "index"}), for display only.

The model is referenced by path, not embedded: models are shared between sessions and
can be large; a session whose model file is gone still opens, with the default model.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model.npz_archive import DatasetError, array_entries, open_archive, read_array, read_header
from model.read_guard import UNREADABLE, parse_json, reading
from model.temp_files import remove_stale, temporary_path, write_target

FORMAT = "kvae-studio-session/1"


class SessionError(ValueError):
    """A session file that cannot be read or written; the message is one line."""


@dataclass
class Session:
    """Everything needed to put the Explore view back as it was."""

    images: np.ndarray
    hidden: np.ndarray
    occluded: np.ndarray
    model_path: str | None = None
    source: dict[str, Any] = field(default_factory=dict)
    frame: int = 0
    state: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.images = np.asarray(self.images, dtype=np.float32)
        self.hidden = np.asarray(self.hidden, dtype=bool)
        self.occluded = np.asarray(self.occluded, dtype=bool)
        if self.images.ndim != 3:
            raise SessionError(f"a session holds one sequence (T, H, W), got {self.images.shape}")
        if self.images.size == 0:
            raise SessionError(f"the sequence holds no frames (shape {self.images.shape})")
        if self.hidden.shape != self.images.shape[:1] or self.occluded.shape != self.images.shape:
            raise SessionError("the masks do not match the sequence's shape")
        if not np.isfinite(self.images).all():
            raise SessionError("the sequence contains NaN or infinity")
        if self.images.min() < 0 or self.images.max() > 1:
            raise SessionError("the sequence's pixel values are not in [0, 1]")
        steps = self.images.shape[0]
        if not 0 <= self.frame < steps:
            raise SessionError(f"its current frame {self.frame} is not one of its {steps} frames")
        if self.state is not None:
            self.state = np.asarray(self.state, dtype=np.float32)
            if self.state.shape != (steps, 4) or not np.isfinite(self.state).all():
                raise SessionError(
                    f"its ball state has shape {self.state.shape}, expected ({steps}, 4) numbers"
                )
        if self.model_path is not None and not isinstance(self.model_path, str):
            raise SessionError("its model path is not text")


def save_session(path: str | os.PathLike, session: Session) -> None:
    """Write the session atomically (temporary file, then rename)."""
    try:
        path = write_target(path)
    except OSError as err:
        raise SessionError(f"{Path(path).name}: cannot write the session ({err})") from None
    meta = {
        "format": FORMAT,
        "model_path": session.model_path,
        "source": session.source,
        "frame": int(session.frame),
    }
    arrays = {
        "images": session.images,
        "hidden": session.hidden,
        "occluded": session.occluded,
        "session": np.array(json.dumps(meta)),
    }
    if session.state is not None:
        arrays["state"] = np.asarray(session.state, dtype=np.float32)
    remove_stale(path)
    tmp = temporary_path(path)
    try:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise SessionError(
            f"{path.name}: cannot write the session ({err.strerror or err})"
        ) from None


def is_session_file(path: str | os.PathLike) -> bool:
    """True for an .npz that holds a session (cheap: reads the archive's table of contents)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "session.npy" in archive.namelist()
    except UNREADABLE:
        return False


_ARRAYS = ("images", "hidden", "occluded")


def load_session(path: str | os.PathLike) -> Session:
    """Read a session, or raise SessionError with a one-line reason. Whatever else the
    file makes the readers raise is a SessionError too (`model.read_guard`), and no array
    is read whose header declares more bytes than the archive holds."""
    path = Path(path)
    with reading(path.name, SessionError, "not a readable session file"):
        return _load_session(path)


def _load_session(path: Path) -> Session:
    try:
        with open_archive(path) as archive:
            entries = array_entries(archive)
            if "session" not in entries:
                raise SessionError(f"{path.name}: not a KVAE Studio session file")
            if missing := [key for key in _ARRAYS if key not in entries]:
                raise SessionError(
                    f"{path.name}: not a readable session file (no {', '.join(missing)})"
                )
            arrays = {
                key: read_array(path, archive, entry, read_header(path, archive, entry))
                for key, entry in entries.items()
                if key in (*_ARRAYS, "state", "session")
            }
    except DatasetError as err:
        reason = str(err).removeprefix(f"{path}: ")
        raise SessionError(f"{path.name}: not a readable session file ({reason})") from None
    meta = parse_json(str(arrays["session"][()]))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise SessionError(f"{path.name}: not a KVAE Studio session file (unknown format)")
    try:
        return Session(
            images=arrays["images"],
            hidden=arrays["hidden"],
            occluded=arrays["occluded"],
            model_path=meta.get("model_path"),
            source=dict(meta.get("source") or {}),
            frame=int(meta.get("frame", 0)),
            state=arrays.get("state"),
        )
    except (TypeError, ValueError) as err:
        raise SessionError(f"{path.name}: {err}") from None

"""The studio's working folder: generated datasets, training runs, and files the user added.

Why one shared object: the Scene panel makes datasets that the Train and Evaluate
panels pick from, and the Train panel makes models that the Evaluate panel picks
from. They share one `Workspace` and listen to its `datasetsChanged` and
`modelsChanged` signals instead of knowing about each other.

Layout on disk (created on first write, never at start-up):

    <root>/datasets/<name>-train.npz, <name>-test.npz   (kvae-model.md, section 10)
    <root>/runs/<name>/model.safetensors, resume.safetensors, log.jsonl, studio.json
    <root>/catalog.json                                   files added from elsewhere
    <root>/sweeps/<key>.csv                               finished sweeps (services.sweep_results)

The datasets the studio ships (`resources/datasets`, the paper's box test set) are
listed after the user's own.

The root is $KVAE_STUDIO_HOME, else "KVAE Studio" in the user's documents folder.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Signal

from kvae_studio.services.resources import shipped_datasets
from model.read_guard import first_line, parse_json
from model.run_folder import MODEL_FILE
from model.set_aside import set_aside
from model.temp_files import atomic_write_text

ENV_HOME = "KVAE_STUDIO_HOME"


def default_root() -> Path:
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser()
    docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(docs or Path.home()) / "KVAE Studio"


@dataclass(frozen=True)
class DatasetInfo:
    """What the lists show of a dataset, read from the .npz headers without loading it."""

    path: Path
    sequences: int
    steps: int
    height: int
    width: int

    @property
    def label(self) -> str:
        return f"{self.path.name}  ({self.sequences} × {self.steps} × {self.height}×{self.width})"


def dataset_info(path: str | os.PathLike) -> DatasetInfo | None:
    """Shape of `images` in an .npz, or None if the file is not a readable dataset.

    Only the array headers are read (`model.data.list_arrays`), so listing a 400 MB
    dataset is instant.
    """
    from model.data import DatasetError

    try:
        return read_dataset_info(path)
    except DatasetError:
        return None


def read_dataset_info(path: str | os.PathLike) -> DatasetInfo:
    """`dataset_info`, or a DatasetError saying in one line why the file is no dataset."""
    from model.data import DatasetError, list_arrays

    arrays = {a.name: a for a in list_arrays(path)}  # every failure a DatasetError
    images = arrays.get("images")
    if images is None or len(images.shape) != 4:
        raise DatasetError(f"{Path(path).name}: no 'images' array of sequences (N×T×H×W)")
    return DatasetInfo(Path(path), *images.shape)


def unique_name(stem: str) -> str:
    """A name for a new dataset or run: the stem and the local time, filesystem-safe."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-") or "run"
    return f"{safe}-{time.strftime('%Y%m%d-%H%M%S')}"


class Workspace(QObject):
    """Lists datasets and models; announces new ones."""

    datasetsChanged = Signal()
    modelsChanged = Signal()

    def __init__(self, root: str | os.PathLike | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.root = Path(root) if root is not None else default_root()
        self._extra_datasets: list[Path] = []
        self._extra_models: list[Path] = []
        self.notes: list[str] = []  # files set aside or skipped, for the window to say
        self._unreadable: set[Path] = set()  # data sets skipped (said once in `notes`)
        self._load_catalog()

    @property
    def datasets_dir(self) -> Path:
        return self.root / "datasets"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    # Datasets.
    def datasets(self) -> list[DatasetInfo]:
        """Workspace datasets (newest first), the added ones, then those the studio ships;
        unreadable files skipped."""
        found = sorted(self.datasets_dir.glob("*.npz"), key=_mtime, reverse=True)
        seen, out = set(), []
        for path in [*found, *self._extra_datasets, *shipped_datasets()]:
            key = path.resolve()
            info = self._listed(path) if key not in seen else None
            seen.add(key)
            if info is not None:
                out.append(info)
        return out

    def _listed(self, path: Path) -> DatasetInfo | None:
        """A dataset's line in the lists, or None for a file that is none: a session the
        window saved is skipped quietly; any other unreadable file once with a note."""
        from kvae_studio.document.session import is_session_file
        from model.data import DatasetError

        try:
            return read_dataset_info(path)
        except DatasetError as err:
            if path.resolve() not in self._unreadable and not is_session_file(path):
                self._unreadable.add(path.resolve())
                self.notes.append(f"{first_line(err)}; it is left out of the lists of data sets.")
            return None

    def add_dataset(self, path: str | os.PathLike) -> DatasetInfo:
        """Register a dataset from elsewhere; raises ValueError if it is not one."""
        path = Path(path)
        info = dataset_info(path)
        if info is None:
            raise ValueError(f"{path.name}: not a dataset (needs an 'images' array N×T×H×W)")
        if path.resolve() not in {p.resolve() for p in self._extra_datasets}:
            self._extra_datasets.append(path)
            self._save_catalog()
        self.datasetsChanged.emit()
        return info

    def notify_datasets(self) -> None:
        self.datasetsChanged.emit()

    # Models.
    def runs(self) -> list[Path]:
        """Run folders of the workspace, newest first."""
        if not self.runs_dir.is_dir():
            return []
        runs = [p for p in self.runs_dir.iterdir() if p.is_dir()]
        return sorted(runs, key=_mtime, reverse=True)

    def models(self) -> list[Path]:
        """Model files: those of the workspace's runs, then the added ones."""
        found = [r / MODEL_FILE for r in self.runs()]
        found = [p for p in found if p.is_file()]
        extra = [p for p in self._extra_models if p.is_file() and p not in found]
        return found + extra

    def add_model(self, path: str | os.PathLike) -> None:
        path = Path(path)
        if path not in self._extra_models and path.parent.parent != self.runs_dir:
            self._extra_models.append(path)
            self._save_catalog()
        self.modelsChanged.emit()

    def notify_models(self) -> None:
        self.modelsChanged.emit()

    # Persistence of the added files.
    def _load_catalog(self) -> None:
        """Read the added files; a catalog that is not what `_save_catalog` writes is set
        aside (renamed, never deleted) and said once in `notes`, so the studio starts."""
        path = self.root / "catalog.json"
        try:
            text = path.read_bytes()
        except OSError:
            return  # none yet (or unreadable: the list of added files starts empty)
        try:
            data = parse_json(text)
        except ValueError:  # not UTF-8 text, not JSON, nested too deeply
            data = None
        lists = (
            [data.get(key, []) for key in ("datasets", "models")] if isinstance(data, dict) else []
        )
        if not lists or not all(
            isinstance(items, list) and all(isinstance(p, str) for p in items) for items in lists
        ):
            self._set_aside_catalog(path)
            return
        self._extra_datasets = [Path(p) for p in lists[0] if Path(p).is_file()]
        self._extra_models = [Path(p) for p in lists[1] if Path(p).is_file()]

    def _set_aside_catalog(self, path: Path) -> None:
        try:
            aside = set_aside(path, "unreadable")
        except OSError as err:
            self.notes.append(f"{path} cannot be read nor set aside ({err.strerror or err}).")
            return
        self.notes.append(
            f"The workspace's list of added files ({path.name}) could not be read; it was kept "
            f"as {aside.name} and the list starts empty."
        )

    def _save_catalog(self) -> None:
        data = {
            "datasets": [str(p) for p in self._extra_datasets],
            "models": [str(p) for p in self._extra_models],
        }
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.root / "catalog.json", json.dumps(data, indent=1))
        except OSError:
            pass  # the catalog is a convenience; the session's list still works


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0

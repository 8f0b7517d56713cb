"""Combo boxes listing the workspace's datasets and models, with a Browse entry.

They follow the `Workspace` signals and keep the current selection when the list
changes, so a dataset generated in the Scene panel appears in the Train panel without
disturbing a choice already made there. Every model list holds the models the studio
ships, one per scene ("pong (shipped)"), whatever else is listed, right after the model
open in Explore (the default: at first launch, the shipped one); opening another model
never hides them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QMessageBox, QWidget

from kvae_studio.app.panels.workspace import Workspace
from kvae_studio.services.file_names import DATA_FILTER, MODEL_FILTER
from kvae_studio.services.model_names import display_name
from kvae_studio.services.resources import shipped_models

_BROWSE = "__browse__"


class _PathCombo(QComboBox):
    """Items carry a path (str) or None as data; the last item opens a file dialog."""

    pathChanged = Signal()

    def __init__(
        self,
        workspace: Workspace,
        none_label: str | None,
        browse_label: str,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.workspace = workspace
        self.none_label = none_label
        self.browse_label = browse_label
        self.empty_label = "(none yet)"
        self.prefer = ""  # text of the entry to select when nothing was selected
        self._last_index = 0
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(16)
        self.activated.connect(self._on_activated)
        self.currentIndexChanged.connect(self._on_index)

    def entries(self) -> list[tuple[str, str]]:
        """(label, path) pairs to list; subclasses read the workspace."""
        raise NotImplementedError

    def refresh(self) -> None:
        """Re-read the list, keeping the selected path if it is still there."""
        current = self.path()
        self.blockSignals(True)
        self.clear()
        if self.none_label is not None:
            self.addItem(self.none_label, None)
        entries = self.entries()
        if not entries and self.none_label is None:
            self.addItem(self.empty_label, None)
        for label, path in entries:
            self.addItem(label, path)
            self.setItemData(self.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
        self.addItem(self.browse_label, _BROWSE)
        index = self._index_of(current)
        if index < 0 and self.prefer:
            index = next((i for i in range(self.count()) if self.prefer in self.itemText(i)), -1)
        self.setCurrentIndex(max(index, 0))
        self._last_index = self.currentIndex()
        self.blockSignals(False)
        if self.path() != current:
            self.pathChanged.emit()

    def path(self) -> Path | None:
        data = self.currentData()
        return Path(data) if data and data != _BROWSE else None

    def set_path(self, path: str | Path | None) -> bool:
        """Select `path`, if listed (None selects the 'none' entry); True if selected."""
        index = 0 if path is None and self.none_label is not None else self._index_of(path)
        if index >= 0:
            self.setCurrentIndex(index)
        return index >= 0

    def _index_of(self, path: str | Path | None) -> int:
        if path is None:
            return -1
        wanted = Path(path).resolve()
        for i in range(self.count()):
            data = self.itemData(i)
            if data and data != _BROWSE and Path(data).resolve() == wanted:
                return i
        return -1

    def _on_index(self, index: int) -> None:
        if self.itemData(index) != _BROWSE:
            self._last_index = index
            self.pathChanged.emit()

    def _on_activated(self, index: int) -> None:
        if self.itemData(index) != _BROWSE:
            return
        self.setCurrentIndex(self._last_index)
        chosen = self.browse()
        if chosen is not None:
            try:
                self.add(chosen)
            except ValueError as err:
                QMessageBox.warning(self, "Cannot use this file", str(err))
                return
            self.refresh()
            self.set_path(chosen)

    def browse(self) -> Path | None:
        raise NotImplementedError

    def add(self, path: Path) -> None:
        raise NotImplementedError


class DatasetCombo(_PathCombo):
    def __init__(
        self,
        workspace: Workspace,
        none_label: str | None = None,
        prefer: str = "",
        parent: QWidget | None = None,
    ):
        super().__init__(workspace, none_label, "Browse…", parent)
        self.prefer = prefer
        workspace.datasetsChanged.connect(self.refresh)
        self.refresh()

    def entries(self) -> list[tuple[str, str]]:
        return [(info.label, str(info.path)) for info in self.workspace.datasets()]

    def browse(self) -> Path | None:
        name, _ = QFileDialog.getOpenFileName(self, "Add a dataset", "", DATA_FILTER)
        return Path(name) if name else None

    def add(self, path: Path) -> None:
        self.workspace.add_dataset(path)


class ModelCombo(_PathCombo):
    """Models of the workspace's runs, plus extra ones (e.g. the model open in Explore)."""

    def __init__(
        self,
        workspace: Workspace,
        none_label: str | None = None,
        extra: Callable[[], list[Path]] | None = None,
        parent: QWidget | None = None,
    ):
        self._extra = extra
        super().__init__(workspace, none_label, "Browse…", parent)
        workspace.modelsChanged.connect(self.refresh)
        self.refresh()

    def entries(self) -> list[tuple[str, str]]:
        """The extra ones (the model open in Explore, the default), then the shipped models
        by scene, then the workspace's runs."""
        extra = [Path(p) for p in (self._extra() if self._extra else []) if p is not None]
        paths, seen = [], set()
        for path in [*extra, *shipped_models().values(), *self.workspace.models()]:
            if path.is_file() and path.resolve() not in seen:
                seen.add(path.resolve())
                paths.append(path)
        return [(display_name(p), str(p)) for p in paths]

    def browse(self) -> Path | None:
        name, _ = QFileDialog.getOpenFileName(self, "Open a model", "", MODEL_FILTER)
        return Path(name) if name else None

    def add(self, path: Path) -> None:
        self.workspace.add_model(path)

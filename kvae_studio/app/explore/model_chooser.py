"""Explore's model list: the shipped model of every scene, the user's own, and Open….

Why a list and not only File > Open: each scene has its model, and switching between
them should be one click, the way the other tabs choose models. The shipped models are
always there ("pong (shipped)"); the user's models come from the window (recent files
and the workspace's runs), so this widget knows no settings.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QWidget

from kvae_studio.services.model_names import display_name
from kvae_studio.services.resources import shipped_examples, shipped_models

_OPEN = "__open__"


class ModelChooser(QComboBox):
    """Choosing an entry emits `modelChosen(path)`; the last entry emits `openRequested`."""

    modelChosen = Signal(str)
    openRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("modelChooser")
        self.setToolTip("The model looking at the sequence: each scene's shipped model, yours")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(10)
        self.user_models: Callable[[], list[str]] = list
        self._current: str | None = None
        self._shown: list[Path] = []  # models shown this session, newest first
        self.activated.connect(self._on_activated)

    def show_current(self, path: str | None) -> None:
        """Re-list, with `path` (the model on screen; None = untrained) selected."""
        self._current = path
        if path and Path(path) not in self._shown:
            self._shown.insert(0, Path(path))
        entries: list[tuple[str, str]] = []
        seen: set[Path] = set()
        user = [Path(p) for p in self.user_models()]
        shipped = [*shipped_models().values(), *shipped_examples().values()]
        for model in [*shipped, *self._shown, *user]:
            key = model.resolve()
            if key not in seen and model.is_file():
                seen.add(key)
                entries.append((display_name(model), str(model)))
        self.blockSignals(True)
        self.clear()
        if path is None:
            self.addItem("untrained model", None)
        for label, value in entries:
            self.addItem(label, value)
            self.setItemData(self.count() - 1, value, Qt.ItemDataRole.ToolTipRole)
        self.addItem("Open a model file…", _OPEN)
        index = 0
        if path is not None:
            wanted = Path(path).resolve()
            index = next((i for i, (_, v) in enumerate(entries) if Path(v).resolve() == wanted), 0)
        self.setCurrentIndex(index)
        self.blockSignals(False)

    def _on_activated(self, index: int) -> None:
        value = self.itemData(index)
        if value == _OPEN:
            self.show_current(self._current)  # the model stays until a file is opened
            self.openRequested.emit()
        elif value and (self._current is None or Path(value) != Path(self._current)):
            before = self._current
            self.modelChosen.emit(value)
            if self._current == before:  # not opened (the window said why): show the truth
                self.show_current(before)

    def showPopup(self) -> None:
        self.show_current(self._current)  # runs finished, files opened since
        super().showPopup()

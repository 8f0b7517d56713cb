"""The list of datasets in the workspace, with Open in Explore and Add.

Emits `openRequested(path)`; the Scene panel forwards it as `datasetReady`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kvae_studio.app.panels.workspace import Workspace
from kvae_studio.services.file_names import DATA_FILTER


class DatasetList(QWidget):
    openRequested = Signal(str)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.list = QListWidget()
        self.list.setAlternatingRowColors(True)
        self.list.itemDoubleClicked.connect(lambda _item: self._open())
        self.list.currentRowChanged.connect(self._update_buttons)
        self.open_button = QPushButton("Open in Explore")
        self.open_button.setObjectName("openDatasetButton")
        self.open_button.clicked.connect(self._open)
        self.add_button = QPushButton("Add file…")
        self.add_button.setToolTip("List a dataset (.npz) from elsewhere, e.g. the paper's files")
        self.add_button.clicked.connect(self._add)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        workspace.datasetsChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        current = self.selected_path()
        self.list.clear()
        for info in self.workspace.datasets():
            item = QListWidgetItem(info.label)
            item.setData(Qt.ItemDataRole.UserRole, str(info.path))
            item.setToolTip(str(info.path))
            self.list.addItem(item)
            if current is not None and info.path == current:
                self.list.setCurrentItem(item)
        if self.list.currentRow() < 0 and self.list.count():
            self.list.setCurrentRow(0)
        self._update_buttons()

    def select(self, path: Path) -> None:
        for i in range(self.list.count()):
            if Path(self.list.item(i).data(Qt.ItemDataRole.UserRole)) == path:
                self.list.setCurrentRow(i)

    def selected_path(self) -> Path | None:
        item = self.list.currentItem()
        return Path(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def _update_buttons(self) -> None:
        self.open_button.setEnabled(self.list.currentItem() is not None)

    def _open(self) -> None:
        path = self.selected_path()
        if path is not None:
            self.openRequested.emit(str(path))

    def _add(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Add a dataset", "", DATA_FILTER)
        if not name:
            return
        try:
            self.workspace.add_dataset(name)
        except ValueError as err:
            QMessageBox.warning(self, "Cannot use this file", str(err))
            return
        self.select(Path(name))

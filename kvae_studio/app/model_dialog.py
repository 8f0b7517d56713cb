"""The open-model dialog: model files only, without the runs' resume states.

Why: a run folder holds model.safetensors (the model) beside resume.safetensors (the
optimiser's state to continue training), and a new user picked the wrong one. Qt's name
filters cannot leave out one name, so a proxy model does, which needs Qt's own dialog
rather than the platform's.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel
from PySide6.QtWidgets import QFileDialog, QFileSystemModel, QWidget

from kvae_studio.services.file_names import MODEL_FILTER
from model.run_folder import RESUME_FILE

HIDDEN_NAMES = frozenset({RESUME_FILE})


class _HideResumeStates(QSortFilterProxyModel):
    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:
        source = self.sourceModel()
        index = source.index(row, 0, parent)
        if isinstance(source, QFileSystemModel) and not source.isDir(index):
            return source.fileName(index) not in HIDDEN_NAMES
        return True


def model_file_dialog(parent: QWidget | None, directory: str = "") -> QFileDialog:
    """A dialog to open one model file; `exec()` it, then read `selectedFiles()`."""
    dialog = QFileDialog(parent, "Open model", directory, MODEL_FILTER)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setProxyModel(_HideResumeStates(dialog))
    return dialog

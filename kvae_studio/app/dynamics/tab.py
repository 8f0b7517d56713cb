"""The Dynamics tab as the window holds it: built on first show, it describes the model
in Explore on that model's scene's test set (or a data set the user picks), and a click
on the regime map opens that sequence in Explore at that frame.

Built lazily: until the tab is shown, neither its plots nor the analysis process exist,
so the studio's start and Explore's edits cost the same as without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QVBoxLayout, QWidget

from kvae_studio.app.work_bridge import WorkBridge
from kvae_studio.services.file_names import DATA_FILTER


class DynamicsTab(QWidget):
    """A container whose panel and controller appear the first time it is shown."""

    def __init__(self, window: Any, analysis: WorkBridge):
        super().__init__()
        self.window = window
        self.analysis = analysis
        self.panel: Any = None
        self.controller: Any = None
        self.chosen_data: str | None = None  # the user's pick, kept while the model stays
        self._model_seen: Any = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def ensure(self) -> None:
        """Build the panel and its controller (once)."""
        if self.panel is not None:
            return
        from kvae_studio.app.dynamics.controller import DynamicsController
        from kvae_studio.app.dynamics.dynamics_panel import DynamicsPanel

        self.panel = DynamicsPanel()
        self._layout.addWidget(self.panel)
        self.controller = DynamicsController(self.panel, self.analysis, self)
        self.controller.data_chooser = self._ask_data
        self.panel.openInExplore.connect(self.open_in_explore)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        """Follow Explore's model; compute if the tab is on screen."""
        self.ensure()
        document = self.window.document
        if document.model is not self._model_seen:
            self._model_seen = document.model
            self.chosen_data = None
        self.controller.set_source(document.model, self.data_path())
        if self.isVisible():
            self.controller.show()

    def data_path(self) -> str | None:
        """The user's data set, else the model's scene's test set, else Explore's."""
        from kvae_studio.services.resources import shipped_test_set

        if self.chosen_data is not None:
            return self.chosen_data
        document = self.window.document
        shipped = shipped_test_set(document.model_scene)
        if shipped is not None:
            return str(shipped)
        return document.dataset_path

    def _ask_data(self) -> str | None:
        start = self.chosen_data or self.data_path() or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Data set to describe", start, DATA_FILTER)
        if path:
            self.chosen_data = path
        return path or None

    def open_in_explore(self, sequence: int, frame: int) -> None:
        """Explore sequence `sequence` of the data set shown, at `frame`."""
        source = self.controller.computed_for
        if source is None:
            return
        if self.window.open_dataset(source.data_path, sequence):
            self.window.document.set_frame(frame)

    def shutdown(self) -> None:
        self.analysis.close()

"""The line above the main canvas: its title, back-to-painting, reset zoom, busy, timing."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from kvae_studio.app import theme
from kvae_studio.app.elided_label import ElidedLabel
from kvae_studio.app.layout_firewall import LayoutFirewall


class CanvasHeader(QWidget):
    """Title of what the canvas shows, and the model's state at a glance."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = ElidedLabel()
        self.title.setStyleSheet(f"color: {theme.TEXT};")
        self.paint_button = QToolButton()
        self.paint_button.setText("✎ Paint")
        self.paint_button.setObjectName("backToPainting")
        self.paint_button.setToolTip(
            "Back to painting: the observed frame on the canvas again (or click the tile "
            "shown large)"
        )
        self.paint_button.setVisible(False)
        self.reset_zoom_action = QAction("Reset zoom", self)
        self.reset_zoom_action.setShortcut(QKeySequence("Ctrl+0"))
        self.reset_zoom_action.setToolTip(
            "Show the whole frame (Ctrl+0). The wheel zooms, the middle button or\n"
            "Space with the left button pans."
        )
        self.zoom_button = QToolButton()
        self.zoom_button.setDefaultAction(self.reset_zoom_action)
        self.zoom_button.setObjectName("resetZoom")
        # A still label, not an animated progress bar: the bar's 60 Hz repaints cost
        # the worker a third of its speed (GIL and CPU), measured with the benchmark.
        self.busy_label = QLabel("● updating…")
        self.busy_label.setStyleSheet(f"color: {theme.ACCENT};")
        self.busy_label.setToolTip("The model is working on the latest edit")
        self.busy_label.setVisible(False)
        self.timing_label = QLabel()
        self.timing_label.setStyleSheet(f"color: {theme.MUTED};")
        self.timing_label.setToolTip("Time the model took for the last update (in its own process)")

        layout = QHBoxLayout(self)
        self._layout = layout
        layout.setContentsMargins(0, 0, 0, 0)
        # the title, the busy marker and the timing change with every edit: in slots of
        # their own, so that no edit re-lays out the window (layout_firewall)
        layout.addWidget(LayoutFirewall(self.title), 1)
        layout.addWidget(self.paint_button)
        layout.addWidget(self.zoom_button)
        layout.addWidget(LayoutFirewall(self.busy_label, "● updating…"))
        layout.addWidget(LayoutFirewall(self.timing_label, "model 99999 ms"))

    def add_tool(self, widget: QWidget) -> None:
        """A control of what the canvas and grid show, before the busy marker."""
        self._layout.insertWidget(self._layout.indexOf(self.zoom_button) + 1, widget)

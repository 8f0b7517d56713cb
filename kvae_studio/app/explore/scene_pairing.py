"""A warning above the frames when the sequence's scene is not the one the model learned.

Why: a model trained on box draws a box where pong's paddles are, and its scores look
like a bad model rather than a wrong pairing. The banner names both scenes and, where
the studio ships a model for the sequence's scene, offers it in one click; the user's
own model is never swapped without that click.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from kvae_studio import colors
from kvae_studio.services.resources import scene_title


def pairing_warning(sequence_scene: str | None, model_scene: str | None, trained: bool) -> str:
    """What to warn about ('' when nothing): a known scene shown to a model of another
    scene, or to an untrained model."""
    if not sequence_scene:
        return ""
    shown = scene_title(sequence_scene)
    if not trained:
        return f"An untrained model is looking at this {shown} sequence."
    if model_scene and model_scene != sequence_scene:
        return f"This {shown} sequence is shown to a model trained on {scene_title(model_scene)}."
    return ""


class ScenePairingBanner(QFrame):
    """Hidden while scene and model agree; otherwise a line and a switch button."""

    switchRequested = Signal(str)  # the path of the model that matches the sequence

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("scenePairingBanner")
        self.setStyleSheet(
            f"#scenePairingBanner {{ border: 1px solid {colors.HIDDEN}; border-radius: 3px; }}"
        )
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setStyleSheet(f"color: {colors.HIDDEN};")
        self.button = QPushButton()
        self.button.setObjectName("switchModelButton")
        self.button.clicked.connect(self._switch)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 3, 3, 3)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        self._target: Path | None = None
        self.setVisible(False)

    def show_pairing(
        self,
        sequence_scene: str | None,
        model_scene: str | None,
        trained: bool,
        matching: Path | None,
    ) -> None:
        """Show or hide the warning; `matching` is the shipped model of the sequence's scene."""
        text = pairing_warning(sequence_scene, model_scene, trained)
        self._target = matching if text else None
        if text and matching is None:
            text += f" No {scene_title(sequence_scene)} model ships with the studio."
        self.label.setText(f"⚠ {text}" if text else "")
        self.button.setText(f"Use the {scene_title(sequence_scene)} model")
        self.button.setToolTip(str(matching) if matching else "")
        self.button.setVisible(self._target is not None)
        self.setVisible(bool(text))

    @property
    def warning(self) -> str:
        """The text shown ('' when hidden): tests and the status bar read it."""
        return "" if self.isHidden() else self.label.text()

    def _switch(self) -> None:
        if self._target is not None:
            self.switchRequested.emit(str(self._target))

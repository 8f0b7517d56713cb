"""A warning above the frames when the sequence is not of the world the model learned.

Why: a model trained on box draws a box where pong's paddles are, and one trained on a
radius-2 ball draws a radius-2 ball; either way its scores look like a bad model rather
than a wrong pairing. The banner names both scenes and, where the studio ships a model
for the sequence's scene, offers it in one click (the user's own model is never swapped
without that click); for one scene with other parameters it names them and offers a new
sequence like the model's training data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from kvae_studio import colors
from kvae_studio.services.resources import scene_title
from kvae_studio.sim.scene_record import param_label, value_text


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


def parameter_warning(sequence_scene: str | None, differences: list[tuple[str, Any, Any]]) -> str:
    """What to say of a sequence of the model's scene simulated with other parameters
    ('' when it is like the training data)."""
    if not differences:
        return ""
    parts = "; ".join(
        f"{param_label(name, units=False)} {value_text(shown)} here, "
        f"{value_text(learned)} in training"
        for name, shown, learned in differences
    )
    scene = scene_title(sequence_scene)
    return f"This {scene} sequence differs from the model's training data: {parts}."


class ScenePairingBanner(QFrame):
    """Hidden while scene and model agree; otherwise a line and a switch button."""

    switchRequested = Signal(str)  # the path of the model that matches the sequence
    likeDataRequested = Signal()  # a new sequence like the model's training data

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
        self._like_data = False
        self.setVisible(False)

    def show_pairing(
        self,
        sequence_scene: str | None,
        model_scene: str | None,
        trained: bool,
        matching: Path | None,
        differences: list[tuple[str, Any, Any]] | None = None,
    ) -> None:
        """Show or hide the warning; `matching` is the shipped model of the sequence's
        scene, `differences` (name, here, in training) the parameters in which a sequence
        of the model's own scene differs from its training data."""
        text = pairing_warning(sequence_scene, model_scene, trained)
        self._target = matching if text else None
        self._like_data = not text and bool(differences)
        if text and matching is None:
            text += f" No {scene_title(sequence_scene)} model ships with the studio."
        if self._like_data:
            text = parameter_warning(sequence_scene, differences or [])
            self.button.setText("New sequence like its data")
            self.button.setToolTip("Simulate a sequence with the parameters the model learned")
        else:
            self.button.setText(f"Use the {scene_title(sequence_scene)} model")
            self.button.setToolTip(str(matching) if matching else "")
        self.label.setText(f"⚠ {text}" if text else "")
        self.button.setVisible(self._target is not None or self._like_data)
        self.setVisible(bool(text))

    @property
    def warning(self) -> str:
        """The text shown ('' when hidden): tests and the status bar read it."""
        return "" if self.isHidden() else self.label.text()

    def _switch(self) -> None:
        if self._like_data:
            self.likeDataRequested.emit()
        elif self._target is not None:
            self.switchRequested.emit(str(self._target))

"""Where the sequence comes from: a freshly simulated scene, or one sequence of a dataset.

Emits requests only; the Explore view makes the sequence. Also shows which model is
looking at it, since every number on screen depends on that. "Rotation marker" draws the
public release's marker on the ball (the paper's files have it); a model whose summary
says it was trained on such frames turns it on when it is opened, so that new sequences
look like what the model learned.
"""

from __future__ import annotations

import random

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kvae_studio.app.explore.model_chooser import ModelChooser
from kvae_studio.app.icons import dice_icon
from kvae_studio.document.sources import SequenceSource
from kvae_studio.services.model_card import ModelCard
from kvae_studio.services.model_names import display_name
from kvae_studio.sim import SCENES
from kvae_studio.sim.scene_record import SceneRecord

MODEL_LINES = 9  # name, headline and a shipped card's seven wrapped lines at 268 px


class SeedBox(QSpinBox):
    """A seed field where Enter applies the typed seed (`applied`)."""

    applied = Signal()

    def keyPressEvent(self, ev: QKeyEvent) -> None:
        super().keyPressEvent(ev)
        if ev.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.applied.emit()


class SequenceControls(QWidget):
    """Scene + seed -> new sequence; dataset -> pick a sequence index; the model's name."""

    newSequenceRequested = Signal(str, int)
    datasetIndexChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.setSpacing(8)

        model_box = QGroupBox("Model")
        model_layout = QVBoxLayout(model_box)
        model_layout.setContentsMargins(6, 8, 6, 6)
        self.model_label = QLabel("–")
        self.model_label.setWordWrap(True)
        # The same room for every model, a shipped card's nine lines: a shorter card
        # or a long file name must not move the buttons below, nor widen the column
        # (what does not fit is cut; the tooltip holds all of it).
        self.model_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.model_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.model_label.setMinimumWidth(1)
        self.model_label.setFixedHeight(self.model_label.fontMetrics().lineSpacing() * MODEL_LINES)
        model_layout.addWidget(self.model_label)
        self.model_chooser = ModelChooser()  # the window opens what is chosen there
        model_layout.addWidget(self.model_chooser)
        layout.addWidget(model_box)

        box = QGroupBox("Sequence")
        form = QFormLayout(box)
        form.setContentsMargins(6, 8, 6, 6)
        self.source_label = QLabel("–")
        self.source_label.setWordWrap(True)
        self.source_label.setToolTip("Where the sequence on screen comes from")
        form.addRow(self.source_label)
        self.scene = QComboBox()
        for name, cls in SCENES.items():  # titled as in the Scene tab, keyed by name
            self.scene.addItem(cls.title or name, name)
        self.scene.setToolTip(
            "Choosing a scene simulates a sequence of it, with the scene's shipped model\n"
            "when a shipped model is open (your own model stays; a warning says if the\n"
            "scenes differ)"
        )
        self.seed = SeedBox()
        self.seed.setRange(0, 999_999)
        self.seed.setToolTip(
            "Random seed of the sequence (same seed, same motion); Enter simulates it"
        )
        self.seed.applied.connect(self._emit_new)
        self.dice = QToolButton()
        self.dice.setIcon(dice_icon())
        self.dice.setObjectName("diceButton")
        self.dice.setToolTip("Simulate a sequence with a random seed")
        self.dice.clicked.connect(self.request_random)
        self._shown: tuple[str, int] | None = None  # (scene, seed) of the sequence on screen
        row = QHBoxLayout()
        row.addWidget(self.scene, 1)
        row.addWidget(self.seed)
        row.addWidget(self.dice)
        form.addRow(row)
        self.marker = QCheckBox("rotation marker")
        self.marker.setToolTip(
            "Draw the public release's rotation marker on the ball (a grey line from the\n"
            "centre to the rim), as in the paper's files. A model trained on them draws it\n"
            "too; without it, its frames show a grey tail the truth lacks."
        )
        form.addRow(self.marker)
        self.new_button = QPushButton("New sequence")
        self.new_button.setToolTip(
            "Simulate a new sequence of this scene with the next seed (Ctrl+N);\n"
            "a seed typed but not yet shown is used as it is"
        )
        self.new_button.clicked.connect(self.request_new)
        form.addRow(self.new_button)
        self.index = QSpinBox()
        self.index.setEnabled(False)
        self.index.setToolTip("Which sequence of the open dataset to explore")
        self.index.valueChanged.connect(self.datasetIndexChanged)
        form.addRow("Dataset #", self.index)
        layout.addWidget(box)

    def request_new(self) -> None:
        """A new sequence: the next seed when the seed box holds the one on screen, else
        the seed typed there."""
        if self._shown == (self.scene_name(), self.seed.value()):
            self.seed.setValue((self.seed.value() + 1) % (self.seed.maximum() + 1))
        self._emit_new()

    def request_random(self) -> None:
        self.seed.setValue(random.randint(0, self.seed.maximum()))
        self._emit_new()

    def _emit_new(self) -> None:
        self.newSequenceRequested.emit(self.scene_name(), self.seed.value())

    def scene_name(self) -> str:
        """The chosen scene's name ("box_gravity"; the list shows its title)."""
        return self.scene.currentData() or self.scene.currentText()

    def show_model_card(self, card: ModelCard, path: str | None) -> None:
        """The model card in the Model box: scene first, the rest below, all in the tooltip."""
        shipped = " (shipped)" if card.shipped else ""
        self.show_model(path, "<br>".join([f"<b>{card.headline}</b>{shipped}", *card.lines]))
        label = self.model_label
        label.setToolTip(f"{label.toolTip()}\n" + "\n".join([card.headline, *card.lines]))

    def show_model(self, path: str | None, summary: str) -> None:
        name = display_name(path) if path else "untrained model"  # a run by its folder
        self.model_label.setText(f"<b>{name}</b><br><span style='color:gray'>{summary}</span>")
        self.model_label.setToolTip(path or "A freshly initialised model: no trained file found")
        self.model_chooser.show_current(path)

    def show_source(self, source: SequenceSource) -> None:
        scene = SCENES.get(getattr(source, "scene", ""))
        self.source_label.setText(source.describe(scene.title if scene is not None else None))

    def set_dataset(self, count: int | None, index: int = 0) -> None:
        """Enable the index box for a dataset of `count` sequences (None: no dataset)."""
        self.index.blockSignals(True)
        self.index.setEnabled(count is not None)
        self.index.setRange(0, max((count or 1) - 1, 0))
        self.index.setValue(index)
        self.index.setSuffix(f"  of {count}" if count else "")
        self.index.blockSignals(False)

    def set_scene(self, scene: str, seed: int, marker: bool | None = None) -> None:
        if scene in SCENES:
            self.scene.setCurrentIndex(self.scene.findData(scene))
        self.seed.setValue(int(seed))
        self._shown = (scene, int(seed))
        if marker is not None:
            self.marker.setChecked(bool(marker))

    def follow_model(self, summary: dict, record: SceneRecord | None = None) -> None:
        """Turn the marker on or off as the model's training data had it, if its summary
        (or the data's `record`) says."""
        data = summary.get("data") if isinstance(summary, dict) else None
        if isinstance(data, dict) and isinstance(data.get("rotation_marker"), bool):
            self.marker.setChecked(data["rotation_marker"])
        elif record is not None:
            self.marker.setChecked(record.rotation_marker)

    def follow_dataset(self, scene: str | None, record: SceneRecord | None) -> None:
        """A dataset's sequence is on screen: the scene box shows its scene (where known)
        and the marker as its frames were drawn (where the file says), so that New
        sequence makes one like it; the seed box holds a seed to simulate, not the one
        on screen."""
        if scene in SCENES:
            self.scene.setCurrentIndex(self.scene.findData(scene))
        if record is not None:
            self.marker.setChecked(record.rotation_marker)
        self._shown = None

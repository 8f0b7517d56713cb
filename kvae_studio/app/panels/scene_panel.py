"""Scene panel: choose a scene, edit its parameters, watch a live preview, make datasets.

The parameter form is generated from the scene's dataclass (`kvae_studio.sim.SCENES`),
so the paper's defaults and the validation live in one place. Every edit restarts a
300 ms debounce; when it fires, a few short sequences are re-simulated in a background
job and played in a loop. Only the latest request matters: an edit made while a preview
is being simulated is run right after it, intermediate ones are dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from kvae_studio.app.elided_label import ElidedLabel
from kvae_studio.app.panels.dataset_list import DatasetList
from kvae_studio.app.panels.forms import DataclassForm, FieldHint
from kvae_studio.app.panels.jobs import Job
from kvae_studio.app.panels.preview import SequencePreview
from kvae_studio.app.panels.widgets import MessageLabel, ProgressRow
from kvae_studio.app.panels.workspace import Workspace, unique_name
from kvae_studio.app.settings import AppSettings, SceneChoice
from kvae_studio.services.file_names import split_files
from kvae_studio.services.scene_work import DatasetPlan, generate_datasets, preview_clip
from kvae_studio.sim import SCENES, param_help
from kvae_studio.sim.scene_base import label_of
from kvae_studio.sim.scene_record import SceneRecord, record_of

DEBOUNCE_MS = 300
PREVIEW_SEED = 7

_GROUPS = {
    "Frames": ("size", "dt", "substeps"),
    "Ball": ("ball_radius", "ball_elasticity"),
    "Launch": ("speed_min", "speed_max", "angle_min", "angle_max", "start_x", "start_y"),
    "Gravity": ("gravity_x", "gravity_y"),
    "Walls": ("wall_elasticity", "inset", "walls", "floor_row", "roof_row"),
    "Paddles": ("paddle_length", "paddle_width", "paddle_speed"),
}
_GROUP_OF = {name: group for group, names in _GROUPS.items() for name in names}
_GROUP_OF["start_spread"] = "Launch"


def scene_hints(cls: type) -> Any:
    """Hints for a scene's form: groups above, labels with units, help text from the
    dataclass metadata."""

    def hint(name: str) -> FieldHint:
        minimum = 1 if name in ("size", "substeps") else None
        label = label_of(name)  # with its unit; the field's own name is in its tooltip
        group = _GROUP_OF.get(name, "Scene")
        return FieldHint(group, param_help(cls, name), minimum=minimum, label=label)

    return hint


class ScenePanel(QWidget):
    """Signals: `datasetReady(path)` to open an .npz in Explore; `modelReady` is unused.

    With `settings`, the tab comes back as it was left: the scene, its parameters and the
    generation fields are kept in the studio's settings (`AppSettings.scene_choice`) at
    every edit, and read at start; a stored scene the form cannot show or the scene
    refuses is ignored (the paper's defaults)."""

    datasetReady = Signal(str)
    modelReady = Signal(str)

    def __init__(
        self,
        workspace: Workspace,
        parent: QWidget | None = None,
        settings: AppSettings | None = None,
    ):
        super().__init__(parent)
        self.workspace = workspace
        self.settings = settings
        self._restoring = True  # no edit is remembered until the stored one is shown
        self.form: DataclassForm | None = None
        self.preview_job: Job | None = None
        self.generate_job: Job | None = None
        self._preview_pending = False
        self._preview_due = False  # a preview asked for while the tab was hidden
        self._preview_request = 0  # counts refreshes: a preview of older values is not shown

        self.scene_combo = QComboBox()
        self.scene_combo.setObjectName("sceneCombo")
        for name, cls in SCENES.items():
            self.scene_combo.addItem(cls.title or name, name)
        self.scene_combo.currentIndexChanged.connect(lambda _index: self._on_scene())
        self.reset_button = QPushButton("Reset to paper defaults")
        self.reset_button.clicked.connect(self._reset)
        self.form_area = QScrollArea()
        self.form_area.setWidgetResizable(True)
        self.param_message = MessageLabel()

        left = QWidget()
        left_layout = QVBoxLayout(left)
        top = QHBoxLayout()
        top.addWidget(self.scene_combo, 1)
        top.addWidget(self.reset_button)
        left_layout.addLayout(top)
        left_layout.addWidget(self.form_area, 1)
        left_layout.addWidget(self.param_message)

        self.preview = SequencePreview(columns=2)
        self.preview.setMinimumSize(260, 260)
        preview_box = QGroupBox("Preview")
        QVBoxLayout(preview_box).addWidget(self.preview)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(preview_box, 3)
        right_layout.addWidget(self._build_generate_box())
        datasets_box = QGroupBox("Datasets")
        self.dataset_list = DatasetList(workspace)
        self.dataset_list.openRequested.connect(self.datasetReady)
        QVBoxLayout(datasets_box).addWidget(self.dataset_list)
        right_layout.addWidget(datasets_box, 2)

        # The right column scrolls rather than make the window taller than a small screen.
        right_scroll = QScrollArea()
        right_scroll.setWidget(right)
        right_scroll.setWidgetResizable(True)
        right_scroll.setFrameShape(QFrame.Shape.NoFrame)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right_scroll)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        QVBoxLayout(self).addWidget(splitter)

        self.debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self.debounce.timeout.connect(self.refresh_preview)
        self.steps_spin.valueChanged.connect(self._schedule_preview)
        stored = settings.scene_choice() if settings is not None else SceneChoice()
        self._restore_fields(stored)
        self._on_scene(stored.record)
        self._restoring = False
        for spin in (self.train_spin, self.test_spin, self.steps_spin, self.seed_spin):
            spin.valueChanged.connect(self._remember)
        for check in (self.legacy_check, self.marker_check):
            check.toggled.connect(self._remember)

    def _build_generate_box(self) -> QGroupBox:
        box = QGroupBox("Generate datasets")
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("datasetName")
        self.name_edit.setPlaceholderText("name (default: scene and time)")
        self.train_spin = _spin(5000, 1, 1_000_000, "trainSequences")
        self.test_spin = _spin(1000, 0, 1_000_000, "testSequences")
        self.steps_spin = _spin(20, 2, 1000, "steps")
        self.seed_spin = _spin(0, 0, 2**31 - 1, "seed")
        self.train_spin.setToolTip("Training sequences (paper: 5000)")
        self.test_spin.setToolTip("Test sequences (paper: 1000); 0 makes no test file")
        self.steps_spin.setToolTip("Frames per sequence (paper: 20)")
        self.seed_spin.setToolTip("The train set uses this seed, the test set seed + 1")
        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        self.output_dir: Path = self.workspace.datasets_dir
        self.folder_label = ElidedLabel()
        self.folder_label.setObjectName("outputFolder")
        self.choose_folder_button = QPushButton("Choose…")
        self.choose_folder_button.setObjectName("chooseFolderButton")
        self.choose_folder_button.setToolTip("Write the datasets to another folder")
        self.choose_folder_button.clicked.connect(self.choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_label, 1)
        folder_row.addWidget(self.choose_folder_button)
        form.addRow("Folder", folder_row)
        self._show_folder()
        counts = QHBoxLayout()
        counts.addWidget(self.train_spin)
        counts.addWidget(self.test_spin)
        form.addRow("Train / test sequences", counts)
        more = QHBoxLayout()
        more.addWidget(self.steps_spin)
        more.addWidget(self.seed_spin)
        form.addRow("Frames / seed", more)
        self.legacy_check = QCheckBox("legacy physics")
        self.legacy_check.setObjectName("legacyPhysics")
        self.legacy_check.setToolTip(
            "Step the physics as the paper's public release did: one step per frame, so the "
            "ball sinks into a wall at most bounces (not for pong)"
        )
        self.marker_check = QCheckBox("rotation marker")
        self.marker_check.setObjectName("rotationMarker")
        self.marker_check.setToolTip(
            "Draw the release's rotation marker on the ball: a dark grey line from the "
            "centre to one pixel past the rim"
        )
        like_paper = QHBoxLayout()
        like_paper.addWidget(self.legacy_check)
        like_paper.addWidget(self.marker_check)
        like_paper.addStretch(1)
        form.addRow("As the paper's files", like_paper)
        for check in (self.legacy_check, self.marker_check):
            check.toggled.connect(self._schedule_preview)
        self.generate_button = QPushButton("Generate")
        self.generate_button.setObjectName("generateButton")
        self.generate_button.clicked.connect(self.generate)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelGenerateButton")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_generation)
        self.progress = ProgressRow()
        self.progress.setVisible(False)
        self.message = MessageLabel()
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.progress, 1)
        layout = QVBoxLayout(box)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        return box

    # Parameters and preview.
    def scene_name(self) -> str:
        return self.scene_combo.currentData()

    def params(self) -> Any:
        """The scene's parameters from the form; raises ValueError with the reason."""
        assert self.form is not None
        return self.form.build()

    def rendering(self) -> dict[str, bool]:
        """How to simulate and draw, beside the parameters: the paper's release's ways."""
        return {
            "legacy": self.legacy_check.isChecked() and self.legacy_check.isEnabled(),
            "marker": self.marker_check.isChecked(),
        }

    def _on_scene(self, record: SceneRecord | None = None) -> None:
        """Build the form of the chosen scene (or of `record`'s, with its values, unless
        the scene refuses them: then the chosen scene's defaults)."""
        if record is not None and not _accepted(record):
            record = None
        if record is not None:
            index = self.scene_combo.findData(record.scene)
            if index >= 0:
                self.scene_combo.blockSignals(True)
                self.scene_combo.setCurrentIndex(index)
                self.scene_combo.blockSignals(False)
        cls = SCENES[self.scene_name()]
        self.legacy_check.setEnabled(self.scene_name() != "pong")
        self.form = DataclassForm(cls, scene_hints(cls), order=tuple(_GROUPS))
        if record is not None and record.scene == self.scene_name():
            self._show_record(record)
        self.form.changed.connect(self._schedule_preview)
        self.form_area.setWidget(self.form)
        # Wide enough for the form beside its scroll bar: the bar never covers an editor.
        bar = self.form_area.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.form_area.setMinimumWidth(self.form.minimumSizeHint().width() + bar + 4)
        self.refresh_preview()

    # What the tab keeps across restarts.
    def _show_record(self, record: SceneRecord) -> None:
        """Put a stored scene's values in the form; values the scene refuses, or that the
        form cannot show (as the form shows them: floats to 6 digits), leave the paper's
        defaults."""
        assert self.form is not None
        try:
            params = record.params()  # the scene's own checks
            self.form.set_values({name: getattr(params, name) for name in self.form.names()})
            self.form.build()
        except (ValueError, TypeError, OverflowError):
            self.form.reset()
            return
        self.marker_check.setChecked(record.rotation_marker)
        self.legacy_check.setChecked(record.legacy_physics)
        if record.seed is not None:
            self.seed_spin.setValue(min(record.seed, self.seed_spin.maximum()))

    def _restore_fields(self, stored: SceneChoice) -> None:
        for spin, value in (
            (self.train_spin, stored.train_sequences),
            (self.test_spin, stored.test_sequences),
            (self.steps_spin, stored.steps),
        ):
            if value is not None:
                spin.setValue(min(value, spin.maximum()))
        if stored.folder is not None and Path(stored.folder).is_dir():
            self.output_dir = Path(stored.folder)
            self._show_folder()

    def choice(self) -> SceneChoice:
        """What the tab holds now, as it is remembered (the last values the scene
        accepted: a refused value is not kept)."""
        try:
            record = record_of(self.params(), **self.rendering(), seed=self.seed_spin.value())
        except (ValueError, TypeError):
            record = self.settings.scene_choice().record if self.settings else None
        default_folder = self.output_dir.resolve() == self.workspace.datasets_dir.resolve()
        return SceneChoice(
            record,
            self.train_spin.value(),
            self.test_spin.value(),
            self.steps_spin.value(),
            None if default_folder else str(self.output_dir),
        )

    def _remember(self) -> None:
        if self.settings is not None and not self._restoring and self.form is not None:
            self.settings.set_scene_choice(self.choice())

    def _reset(self) -> None:
        if self.form is not None:
            self.form.reset()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._preview_due:
            self.refresh_preview()

    def _schedule_preview(self) -> None:
        self.debounce.start()

    def refresh_preview(self) -> None:
        """Re-simulate the preview now (or right after the one being simulated). Refused
        parameters outline their fields, say why in the form's words, and clear the
        preview (its frames would pass for the refused parameters')."""
        self._preview_request += 1
        try:
            params = self.params()
        except (ValueError, TypeError) as err:
            self._preview_pending = False
            self.param_message.error(problem_words(err))
            self.form.show_problem(str(err), getattr(err, "fields", None))
            self.preview.clear("No preview: the parameters are refused (see the message).")
            return
        self.form.show_problem("", ())
        self.param_message.info("")
        self._remember()  # accepted values, as the preview shows them (not each keystroke)
        if self.preview_job is not None and self.preview_job.is_running():
            self._preview_pending = True
            return
        self._preview_pending = False
        self._preview_due = not self.isVisible()
        if self._preview_due:  # simulated when the tab is first shown, not at launch,
            return  # where its process would take a core from the model's first result
        steps = min(self.steps_spin.value(), 60)
        job = Job(preview_clip, params, steps, PREVIEW_SEED, **self.rendering(), parent=self)
        title = SCENES[self.scene_name()].title
        request = self._preview_request
        job.result.connect(lambda images: self._show_preview(request, images, title))
        job.failed.connect(self.param_message.error)
        job.finished.connect(self._preview_done)
        self.preview_job = job.start()

    def _show_preview(self, request: int, images: Any, title: str) -> None:
        if request == self._preview_request:  # else the form changed while it was made
            self.preview.set_sequences(images, title)

    def _preview_done(self) -> None:
        if self._preview_pending:
            self.refresh_preview()

    # Datasets.
    def generate(self) -> None:
        if self.generate_job is not None and self.generate_job.is_running():
            return
        try:
            params = self.params()
        except (ValueError, TypeError) as err:
            self.message.error(f"Cannot generate: {problem_words(err)}")
            self.form.show_problem(str(err), getattr(err, "fields", None))
            return
        name = self.name_edit.text().strip() or unique_name(self.scene_name())
        folder = self.output_dir
        seed = self.seed_spin.value()
        train, test = split_files(folder, name)
        plans = [DatasetPlan(train, self.train_spin.value(), seed)]
        if self.test_spin.value() > 0:
            plans.append(DatasetPlan(test, self.test_spin.value(), seed + 1))
        steps = self.steps_spin.value()
        job = Job(generate_datasets, params, plans, steps, **self.rendering(), parent=self)
        job.progress.connect(self._on_progress)
        job.item.connect(self._on_stage)
        job.result.connect(self._on_generated)
        self.message.tell_ending(job, "Generation failed", "Cancelled; no file was written.")
        job.finished.connect(self._generation_done)
        self.generate_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.start("simulating…")
        self.message.info(f"Generating {name}…")
        self.generate_job = job.start()

    def choose_folder(self) -> None:
        """Pick the folder new datasets are written to (the workspace's by default)."""
        chosen = QFileDialog.getExistingDirectory(self, "Write datasets to", str(self.output_dir))
        if chosen:
            self.output_dir = Path(chosen)
            self._show_folder()
            self._remember()

    def _show_folder(self) -> None:
        self.folder_label.setText(str(self.output_dir))
        self.folder_label.setToolTip(str(self.output_dir))

    def cancel_generation(self) -> None:
        if self.generate_job is not None and self.generate_job.is_running():
            self.generate_job.cancel()
            self.cancel_button.setEnabled(False)
            self.progress.busy("cancelling…")

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.update_progress(done, total, f"{done} / {total} sequences")

    def _on_stage(self, item: object) -> None:
        if isinstance(item, tuple) and item and item[0] == "saving":
            self.progress.busy(f"saving {Path(item[1]).name}…")

    def _on_generated(self, paths: list[str]) -> None:
        names = ", ".join(Path(p).name for p in paths)
        self.message.info(f"Wrote {names} in {self.output_dir}.")
        if self.output_dir.resolve() != self.workspace.datasets_dir.resolve():
            for path in paths:  # listed everywhere, as the workspace's own are
                self.workspace.add_dataset(path)
        self.workspace.notify_datasets()
        if paths:
            self.dataset_list.select(Path(paths[0]))
        self.name_edit.clear()

    def _generation_done(self) -> None:
        self.generate_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.setVisible(False)

    def shutdown(self) -> None:
        """Cancel background work and wait for it (the window is closing)."""
        self._remember()
        if self.settings is not None:
            self.settings.sync()
        self.preview.stop()
        for job in (self.preview_job, self.generate_job):
            if job is not None and job.is_running():
                job.cancel()
                job.wait()


def _accepted(record: SceneRecord) -> bool:
    """Whether the scene takes a stored record's values (any value at all may be stored)."""
    try:
        record.params()
    except (ValueError, TypeError, OverflowError):
        return False
    return True


def problem_words(err: Exception) -> str:
    """Why the form's values are refused, in the form's words and units (a scene's
    ParamError and the form's FieldError carry them; any other error as it is)."""
    return getattr(err, "words", None) or str(err)


def _spin(value: int, minimum: int, maximum: int, name: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(minimum, maximum)
    spin.setValue(value)
    spin.setObjectName(name)
    spin.setGroupSeparatorShown(True)
    return spin

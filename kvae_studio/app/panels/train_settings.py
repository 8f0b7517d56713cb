"""The Train panel's left column: which run, which data, which hardware, which config.

Kept apart from the panel so the panel only deals with running and showing a run.
The config form is generated from `KVAEConfig` (every option, the paper's defaults), the
run's own fields (test sequences, device, threads, seed, checkpoints) from the
`TrainingOptions` fields' metadata, as the command line's flags are; `options()` builds
the `TrainingOptions` a run is started with.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kvae_studio import colors
from kvae_studio.app.panels.choosers import DatasetCombo
from kvae_studio.app.panels.config_fields import COLLAPSED, GROUP_ORDER, config_hint
from kvae_studio.app.panels.forms import DataclassForm
from kvae_studio.app.panels.workspace import Workspace, dataset_info
from kvae_studio.services.file_names import TRAIN_SUFFIX, data_set_name, test_partner
from kvae_studio.services.hardware import device_choices
from kvae_studio.services.model_names import display_name
from kvae_studio.services.resources import (
    shipped_datasets,
    shipped_models,
    shipped_scene,
)
from kvae_studio.services.run_records import new_run_dir, read_options, read_run
from model.config import KVAEConfig
from model.data import frames_problem
from model.run_folder import MODEL_FILE
from model.training_options import TrainingOptions, default_of, option_of, value_type

NEW_RUN = "New run"
SHIPPED = "shipped:"  # run list data of "From pong (shipped)": a new run from its weights
DEFAULT_EVAL_SEQUENCES = 200
NO_TRAINING_SET = "(choose a training set)"


def is_test_file(path: Path | None) -> bool:
    """Whether `path` is a test set: a file the studio ships (the paper's test sequences,
    kept for evaluation) or one named like a test split ("box-test.npz")."""
    if path is None:
        return False
    shipped = {p.resolve() for p in shipped_datasets()}
    words = path.stem.lower().replace("_", "-").split("-")
    return path.resolve() in shipped or "test" in words


def default_threads() -> int:
    """Every core where the training can run at a lower priority (POSIX nice: a
    `BackgroundJob`), which gives a core back to the window whenever it needs one; else
    one core left to the window. On 2 cores, two threads train 1.3-1.6x faster than one
    and painting in Explore stalls no longer (`benchmarks/bench_train_panel.py`)."""
    cores = os.cpu_count() or 2
    return cores if hasattr(os, "nice") else max(1, cores - 1)


def option_editor(
    name: str,
    value: Any = None,
    maximum: int | None = None,
    items: list[tuple[str, str]] | None = None,
) -> QSpinBox | QComboBox:
    """The editor of `TrainingOptions` field `name`, from its `Option`: a spin box over
    its range (None shown as its `none_text`, at 0) with its unit, or a combo box of
    `items` (label, value) or its choices; its tooltip, and its name in camelCase.
    `value` starts it (default: the field's), `maximum` bounds what this machine allows."""
    option = option_of(name)
    value = default_of(name) if value is None else value
    if value_type(name) is int:
        editor: QSpinBox | QComboBox = QSpinBox()
        low = 0 if option.none_text else (option.minimum or 0)
        editor.setRange(low, maximum or option.maximum or 1_000_000)
        editor.setSpecialValueText(option.none_text or "")
        editor.setValue(value or 0)
        _counted_suffix(editor, option.unit)
    else:
        editor = QComboBox()
        for label, data in items or [(choice, choice) for choice in option.choices]:
            editor.addItem(label, data)
        editor.setCurrentIndex(max(0, editor.findData(value)))
    head, *rest = name.split("_")
    editor.setObjectName(head + "".join(word.title() for word in rest))
    editor.setToolTip(option.tip or option.help)
    return editor


def _counted_suffix(spin: QSpinBox, unit: str) -> None:
    """`unit` after the number, singular at 1 ("1 epoch", "2 epochs")."""

    def follow(value: int) -> None:
        spin.setSuffix(unit.removesuffix("s") if value == 1 and unit.endswith("s") else unit)

    follow(spin.value())
    spin.valueChanged.connect(follow)


def editor_value(name: str, editor: QSpinBox | QComboBox) -> Any:
    """The value `editor` (made by `option_editor`) holds for field `name`."""
    if isinstance(editor, QComboBox):
        return editor.currentData()
    if option_of(name).none_text:
        return editor.value() or None  # 0: None, shown as the none_text
    return editor.value()


def set_editor_value(name: str, editor: QSpinBox | QComboBox, value: Any) -> None:
    """Show `value` of field `name` in `editor` (made by `option_editor`)."""
    if isinstance(editor, QComboBox):
        editor.setCurrentIndex(max(0, editor.findData(value)))
    else:
        editor.setValue(value or 0)


def label_of(name: str) -> str:
    """The field's label on the tab, in words."""
    return option_of(name).label or name


class TrainSettings(QScrollArea):
    """Emits `runSelected(path or "")` when the user picks an existing run or New run."""

    runSelected = Signal(str)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.setWidgetResizable(True)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self._run_box())
        layout.addWidget(self._data_box())
        layout.addWidget(self._selection_box())
        layout.addWidget(self._hardware_box())
        self.form = DataclassForm(KVAEConfig, config_hint, collapsed=COLLAPSED, order=GROUP_ORDER)
        self.reset_button = QPushButton("Reset to paper defaults")
        self.reset_button.clicked.connect(self.form.reset)
        config_box = QGroupBox("Model and training config")
        config_layout = QVBoxLayout(config_box)
        config_layout.addWidget(self.form)
        config_layout.addWidget(self.reset_button)
        layout.addWidget(config_box)
        layout.addStretch(1)
        self.setWidget(body)
        self.setMinimumWidth(body.sizeHint().width() + 24)
        self.refresh_runs()
        self._on_train_changed()

    # Construction.
    def _run_box(self) -> QGroupBox:
        box = QGroupBox("Run")
        self.run_combo = QComboBox()
        self.run_combo.setObjectName("runCombo")
        self.run_combo.setToolTip(
            "Start a new run, pick a stopped one to continue it, or start a new run from a "
            "shipped model's weights"
        )
        self.run_combo.currentIndexChanged.connect(self._on_run)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("runName")
        self.name_edit.setPlaceholderText("name (default: dataset and time)")
        # A stored run's recorded files that are gone: said, not silently dropped.
        self.run_warning = QLabel()
        self.run_warning.setObjectName("runFilesGone")
        self.run_warning.setWordWrap(True)
        self.run_warning.setStyleSheet(f"QLabel {{ color: {colors.WARNING}; }}")
        self.run_warning.setVisible(False)
        form = QFormLayout(box)
        form.addRow("Run", self.run_combo)
        form.addRow(self.run_warning)
        form.addRow("Name", self.name_edit)
        return box

    def _data_box(self) -> QGroupBox:
        box = QGroupBox("Data")
        # No default but a training split: a test file is never picked for the user.
        self.train_combo = DatasetCombo(
            self.workspace, none_label=NO_TRAINING_SET, prefer=TRAIN_SUFFIX
        )
        self.train_combo.setObjectName("trainDataset")
        self.test_warning = QLabel()
        self.test_warning.setObjectName("trainOnTestWarning")
        self.test_warning.setWordWrap(True)
        self.test_warning.setStyleSheet(f"QLabel {{ color: {colors.WARNING}; }}")
        self.test_warning.setVisible(False)
        self.test_combo = DatasetCombo(self.workspace, none_label="(no test set)")
        self.test_combo.setObjectName("testDataset")
        self.eval_spin = option_editor("eval_sequences", DEFAULT_EVAL_SEQUENCES)
        self.train_combo.pathChanged.connect(self._on_train_changed)
        self.test_combo.pathChanged.connect(self._show_test_warning)
        form = QFormLayout(box)
        form.addRow(label_of("train_paths"), self.train_combo)
        form.addRow(self.test_warning)
        form.addRow(label_of("test_path"), self.test_combo)
        form.addRow(label_of("eval_sequences"), self.eval_spin)
        return box

    def _selection_box(self) -> QGroupBox:
        """Which epoch the run keeps: the last (the paper's), or the best on a validation
        set (`--keep-best`, as every shipped model was chosen), with patience."""
        box = QGroupBox("Best epoch")
        self.validation_combo = DatasetCombo(
            self.workspace, none_label="(none: keep the last epoch)"
        )
        self.validation_combo.setObjectName("validationDataset")
        self.validation_combo.setToolTip(option_of("validation_path").tip)
        self.keep_best_combo = option_editor("keep_best", "smoothing+filtering")
        self.patience_spin = option_editor("patience")
        self.validation_combo.pathChanged.connect(self._on_validation_changed)
        form = QFormLayout(box)
        form.addRow(label_of("validation_path"), self.validation_combo)
        form.addRow(label_of("keep_best"), self.keep_best_combo)
        form.addRow(label_of("patience"), self.patience_spin)
        self._on_validation_changed()
        return box

    def _on_validation_changed(self) -> None:
        chosen = self.validation_combo.path() is not None
        self.keep_best_combo.setEnabled(chosen)
        self.patience_spin.setEnabled(chosen)

    def _hardware_box(self) -> QGroupBox:
        box = QGroupBox("Hardware and checkpoints")
        self.device_combo = option_editor("device", items=device_choices())
        self.precision_combo = option_editor("precision")
        self.threads_spin = option_editor("threads", default_threads(), os.cpu_count() or 1)
        self.seed_spin = option_editor("seed")
        self.checkpoint_spin = option_editor("checkpoint_every")
        form = QFormLayout(box)
        row = QHBoxLayout()
        row.addWidget(self.device_combo, 1)
        row.addWidget(self.threads_spin)
        form.addRow(f"{label_of('device')} / {label_of('threads')}", row)
        form.addRow(label_of("precision"), self.precision_combo)
        form.addRow(label_of("seed"), self.seed_spin)
        form.addRow(label_of("checkpoint_every"), self.checkpoint_spin)
        return box

    def _run_editors(self) -> dict[str, QSpinBox | QComboBox]:
        """The editors of the `TrainingOptions` fields the tab edits as they are (the
        others follow the run, data and config chosen), by field name."""
        return {
            "eval_sequences": self.eval_spin,
            "device": self.device_combo,
            "precision": self.precision_combo,
            "threads": self.threads_spin,
            "seed": self.seed_spin,
            "checkpoint_every": self.checkpoint_spin,
        }

    # Runs.
    def refresh_runs(self, select: Path | None = None) -> None:
        """Re-list the workspace's runs; keeps (or sets) the selection without re-emitting."""
        current = select if select is not None else self.selected_run()
        self.run_combo.blockSignals(True)
        self.run_combo.clear()
        self.run_combo.addItem(NEW_RUN, "")
        for run in self.workspace.runs():
            if (run / MODEL_FILE).is_file():
                self.run_combo.addItem(run.name, str(run))
        for model in shipped_models().values():
            self.run_combo.addItem(f"From {display_name(model)}", f"{SHIPPED}{model}")
            self.run_combo.setItemData(
                self.run_combo.count() - 1,
                f"A new run that starts from the weights and config of {model.name}",
                Qt.ItemDataRole.ToolTipRole,
            )
        if current is None and (start := self.start_from()) is not None:
            current = f"{SHIPPED}{start}"
        index = self.run_combo.findData(str(current)) if current else 0
        self.run_combo.setCurrentIndex(max(index, 0))
        self.run_combo.blockSignals(False)
        self._apply_run_mode()

    def selected_run(self) -> Path | None:
        """The stored run to continue, or None (a new run)."""
        data = self.run_combo.currentData()
        return Path(data) if data and not data.startswith(SHIPPED) else None

    def start_from(self) -> Path | None:
        """The shipped model a new run starts from, or None."""
        data = self.run_combo.currentData() or ""
        return Path(data.removeprefix(SHIPPED)) if data.startswith(SHIPPED) else None

    def start_config(self) -> KVAEConfig | None:
        """The config of the shipped model a new run starts from (None: no such model)."""
        from model.model_file import ModelFileError, read_metadata

        start = self.start_from()
        if start is None:
            return None
        try:
            return KVAEConfig.from_stored_json(read_metadata(start)["config"])
        except (ModelFileError, KeyError, ValueError, TypeError):
            return None

    def _on_run(self) -> None:
        self._apply_run_mode()
        run = self.selected_run()
        gone: list[str] = []
        if run is not None:
            recorded = read_options(run)
            files = [("validation set", self.validation_combo, recorded.validation_path),
                     ("test set", self.test_combo, recorded.test_path)]  # fmt: skip
            if len(recorded.train_paths) == 1:  # the tab trains on one file
                files.insert(0, ("training set", self.train_combo, recorded.train_paths[0]))
            for role, combo, path in files:
                if not self._show_recorded(combo, path):
                    gone.append(f"its {role} {path.name} ({path.parent})")
            editors = self._run_editors()
            for name in ("eval_sequences", "seed", "checkpoint_every", "precision"):
                value = getattr(recorded, name)  # not the device: this machine's
                if value is not None:  # "all" is not recorded apart from none recorded
                    set_editor_value(name, editors[name], value)
            if recorded.keep_best is not None:
                set_editor_value("keep_best", self.keep_best_combo, recorded.keep_best)
            set_editor_value("patience", self.patience_spin, recorded.patience)
        self.run_warning.setVisible(bool(gone))
        self.run_warning.setText(
            f"{run.name} was started with files no longer found or readable: {'; '.join(gone)}. "
            "Choose them again (Browse) or others; continuing goes on with what is chosen "
            "below."
            if gone
            else ""
        )
        if (config := self.start_config()) is not None:
            self.show_config(config)
        self.runSelected.emit(str(run) if run else "")

    def _show_recorded(self, combo: DatasetCombo, path: Path | None) -> bool:
        """Select a run's recorded file, listing it first if the workspace does not (a
        run started on the command line names files from anywhere); False, the combo on
        its none entry, for a file gone or unreadable."""
        if combo.set_path(path) or path is None:
            return True
        try:
            self.workspace.add_dataset(path)
        except (OSError, ValueError):
            combo.set_path(None)
            return False
        return combo.set_path(path)

    def _apply_run_mode(self) -> None:
        """An existing run keeps its architecture; only num_epochs can change."""
        existing = self.selected_run() is not None
        fixed = existing or self.start_from() is not None  # the model's architecture
        self.name_edit.setEnabled(not existing)
        self.form.set_read_only(fixed, except_fields=("num_epochs",))
        self.reset_button.setEnabled(not fixed)

    def show_config(self, config: KVAEConfig) -> None:
        self.form.set_values(dataclasses.asdict(config))

    # Data.
    def _on_train_changed(self) -> None:
        """Frames follow the data; the matching -test file is the default test set."""
        path = self.train_combo.path()
        self._show_test_warning()
        if path is None:
            return
        info = dataset_info(path)
        if info is not None and self.selected_run() is None and self.start_from() is None:
            self.form.set_values({"frame_size": info.width})
        partner = test_partner(path)
        if partner is not None and partner.is_file():
            self.test_combo.set_path(partner)

    def _show_test_warning(self) -> None:
        testing = self.trains_on_test_file()
        self.test_warning.setVisible(testing)
        if testing:
            self.test_warning.setText(
                f"{self.train_combo.path().name} is a test set: a model trained on it "
                "scores falsely well on it. Make a training set in the Scene tab."
            )

    def trains_on_test_file(self) -> bool:
        """The chosen training set is a test set (see `is_test_file`), or the file chosen
        as this run's test set."""
        train, test = self.train_combo.path(), self.test_combo.path()
        same = train is not None and test is not None and train.resolve() == test.resolve()
        return same or is_test_file(train)

    def eval_sequences(self) -> int | None:
        return editor_value("eval_sequences", self.eval_spin)

    def device(self) -> str:
        return editor_value("device", self.device_combo)

    def default_run_name(self) -> str:
        path = self.train_combo.path()
        stem = data_set_name(path) if path else "run"
        if scene := shipped_scene(self.start_from()):
            stem = f"{stem}-from-{scene}"
        return self.name_edit.text().strip() or stem

    # The options.
    def options(self) -> TrainingOptions:
        """The run these settings describe (a new one, one continued, one started from a
        shipped model's weights); ValueError, one line for the user, if they make none."""
        train = self.train_combo.path()
        if train is None:
            raise ValueError("Choose a training set (make one in the Scene tab, or Browse).")
        run = self.selected_run()
        epochs = self.form.editor("num_epochs").value()
        runs_dir = self.workspace.runs_dir
        if run is not None:
            state = read_run(run)
            if not state.can_resume:
                raise ValueError(f"{run.name} has no resume state; start a new run instead.")
            if epochs <= state.epoch:
                raise ValueError(
                    f"{run.name} has done {state.epoch} epochs; raise num_epochs to continue it."
                )
            config, run_dir = state.config, run
        elif self.start_from() is not None:  # a new run from a shipped model's weights
            config = self.start_config()
            if config is None:
                raise ValueError(f"{self.start_from().name} cannot be read; choose another model.")
            config = config.with_changes({"num_epochs": epochs})
            run_dir = new_run_dir(runs_dir, self.default_run_name())
        else:
            config = self.form.build()
            run_dir = new_run_dir(runs_dir, self.default_run_name())
        info = dataset_info(train)
        if info is None:
            raise ValueError(f"{train.name} is not a readable dataset.")
        if problem := frames_problem((info.height, info.width), config.frame_size):
            raise ValueError(f"{train.name}: {problem} (frame_size).")
        validation = self.validation_combo.path()
        for role, other in (("training", train), ("test", self.test_combo.path())):
            if validation and other and validation.resolve() == other.resolve():
                raise ValueError(
                    f"{validation.name} is the {role} set: choose a validation set kept "
                    "apart from it (make one in the Scene tab)."
                )
        return TrainingOptions(
            train_paths=(train,),
            test_path=self.test_combo.path(),
            run_dir=run_dir,
            config=config,
            resume=run is not None,
            init_from=self.start_from() if run is None else None,
            epochs=epochs,
            validation_path=validation,
            keep_best=editor_value("keep_best", self.keep_best_combo) if validation else None,
            patience=editor_value("patience", self.patience_spin) if validation else None,
            **{name: editor_value(name, editor) for name, editor in self._run_editors().items()},
        )

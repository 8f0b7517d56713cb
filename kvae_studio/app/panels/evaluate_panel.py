"""Evaluate panel: the paper's imputation sweeps for a model, or two models compared.

The sweeps (`model.evaluation.sweep`, the same code as `kvae-studio evaluate`) run in a
background job with progress and cancel, scored by the studio's or the paper's protocol
(the Scoring choice, `--protocol` on the command line); the figure can be saved as PNG and
the numbers as CSV, in the command line's layout. A finished sweep is kept
(`services.sweep_results`: in the workspace, and the shipped models' own), drawn as soon as
the same model, test set and settings are chosen again and never run twice: comparing
with a second model sweeps only the second. When every later frame is hidden (drop
probability 1.0) smoothing and filtering coincide by construction; the panel says so, so
it does not look broken.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kvae_studio.app.panels.choosers import DatasetCombo, ModelCombo
from kvae_studio.app.panels.jobs import BackgroundJob, Job
from kvae_studio.app.panels.sweep_plot import SweepPlot
from kvae_studio.app.panels.widgets import MessageLabel, ProgressRow, make_button
from kvae_studio.app.panels.workspace import Workspace
from kvae_studio.services.file_names import TEST_SUFFIX, is_paper_test_set
from kvae_studio.services.hardware import device_choices
from kvae_studio.services.model_card import dataset_scene, model_file_scene
from kvae_studio.services.resources import shipped_test_set
from kvae_studio.services.sweep_results import SweepStore, sweep_labels

PROTOCOLS = (
    (
        "Studio protocol",
        "studio",
        "Encoder means filtered; every sequence its own random mask; pooled over the set",
    ),
    (
        "Paper protocol (original code)",
        "paper",
        "As the original code scores, comparable with the paper: codes sampled from q(a|x) "
        "(seeded), batches of 32 (a last partial one dropped), one random mask shared by "
        "every batch, each figure averaged over batches. Needs at least 32 sequences.",
    ),
)
PROTOCOL_TIP = "How the figures are scored; the CSV records it"
NOTE = (
    "At drop probability 1.0 every frame after the first 4 is hidden, so nothing later "
    "corrects the filter: smoothing and filtering coincide by construction."
)


class EvaluatePanel(QWidget):
    modelReady = Signal(str)
    datasetReady = Signal(str)

    def __init__(
        self,
        workspace: Workspace,
        current_model: Callable[[], str | Path | None] | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.workspace = workspace
        self.job: Job | None = None
        self.store = SweepStore(workspace.root / "sweeps")
        self._swept: dict[str, Path] = {}  # label -> model file, of the job running
        self._swept_settings: tuple = ()  # its test set, sequences, seed and protocol
        self._kept_stale = True  # the choice changed while hidden: draw when shown
        self._current_model = current_model or (lambda: None)
        extra = self._extra_models

        self.model_combo = ModelCombo(workspace, extra=extra)
        self.model_combo.setObjectName("modelCombo")
        self.compare_combo = ModelCombo(workspace, none_label="(none)", extra=extra)
        self.compare_combo.setObjectName("compareCombo")
        self.test_combo = DatasetCombo(workspace, prefer=TEST_SUFFIX)
        self.test_combo.setObjectName("testCombo")
        self._test_set_chosen = False  # by the user; until then it follows the model
        self.test_combo.activated.connect(self._mark_test_set_chosen)
        self.model_combo.pathChanged.connect(self._follow_model_scene)
        self._follow_model_scene()
        self.sequences_spin = QSpinBox(minimum=0, maximum=1_000_000, value=0)
        self.sequences_spin.setObjectName("sequences")
        self.sequences_spin.setSpecialValueText("all")
        self.sequences_spin.setToolTip("Use the first N test sequences (0 = all, as the paper)")
        self.seed_spin = QSpinBox(minimum=0, maximum=2**31 - 1)
        self.seed_spin.setToolTip(
            "Seed of the random masks and, under the paper's protocol, of the sampled codes "
            "(the same for both models)"
        )
        self.protocol_combo = QComboBox()
        self.protocol_combo.setObjectName("protocolCombo")
        for label, value, tip in PROTOCOLS:
            self.protocol_combo.addItem(label, value)
            self.protocol_combo.setItemData(
                self.protocol_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole
            )
        self.protocol_combo.setToolTip(PROTOCOL_TIP)
        self.device_combo = QComboBox()
        for label, value in device_choices():
            self.device_combo.addItem(label, value)

        self.run_button = make_button("Run sweeps", "runSweepButton", self.run)
        self.cancel_button = make_button("Cancel", "cancelSweepButton", self.cancel)
        self.png_button = make_button("Save PNG…", "pngButton", self._save_png)
        self.csv_button = make_button("Save CSV…", "csvButton", self._save_csv)
        self.paper_check = QCheckBox("Paper (box)")
        self.paper_check.setToolTip("Overlay the paper's box-scene results (Figure 3), dashed")
        self.plot = SweepPlot()
        self.paper_check.toggled.connect(self.plot.set_show_paper)
        self.progress = ProgressRow()
        self.message = MessageLabel()

        setup = QGroupBox("Sweep")
        form = QFormLayout(setup)
        form.addRow("Model", self.model_combo)
        form.addRow("Compare with", self.compare_combo)
        form.addRow("Test set", self.test_combo)
        row = QHBoxLayout()
        row.addWidget(self.sequences_spin)
        row.addWidget(self.seed_spin)
        row.addWidget(self.device_combo, 1)
        form.addRow("Sequences / seed / device", row)
        form.addRow("Scoring", self.protocol_combo)
        buttons = QHBoxLayout()
        for b in (self.run_button, self.cancel_button):
            buttons.addWidget(b)
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.paper_check)
        buttons.addWidget(self.png_button)
        buttons.addWidget(self.csv_button)
        layout = QVBoxLayout(self)
        layout.addWidget(setup)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(self.plot, 1)
        self._set_running(False)
        for changed in (
            self.model_combo.pathChanged,
            self.compare_combo.pathChanged,
            self.test_combo.pathChanged,
            self.sequences_spin.valueChanged,
            self.seed_spin.valueChanged,
            self.protocol_combo.currentIndexChanged,
        ):
            changed.connect(self.show_kept)

    def showEvent(self, event) -> None:
        # The model open in Explore may have changed while this tab was hidden.
        self.model_combo.refresh()
        self.compare_combo.refresh()
        super().showEvent(event)
        if self._kept_stale:
            self.show_kept()  # drawn when first seen, not at launch

    def _follow_model_scene(self) -> None:
        """A model that knows its scene gets the paper's file of that scene as its test set,
        in place of the default (the newest file), another paper file or a test set of
        another scene; a test set the user chose stays, unless it is of another scene."""
        scene = model_file_scene(self.model_combo.path())
        paper = shipped_test_set(scene)
        current = self.test_combo.path()
        if paper is None or current == paper:
            return
        other_scene = dataset_scene(current) not in (None, scene)
        chosen = self._test_set_chosen and current is not None and not is_paper_test_set(current)
        if not chosen or other_scene:
            self.test_combo.set_path(paper)

    def _mark_test_set_chosen(self, _index: int) -> None:
        self._test_set_chosen = True

    def _extra_models(self) -> list[Path]:
        path = self._current_model()
        return [Path(path)] if path else []

    def _chosen(self) -> list[tuple[str, Path]]:
        """(label, model file) of the model and the one to compare with."""
        first, second = self.model_combo.path(), self.compare_combo.path()
        if first is None:
            return []
        paths = [first] if second is None or second == first else [first, second]
        return list(zip(sweep_labels(paths), paths, strict=True))

    def _settings(self) -> tuple[Path | None, int | None, int, str]:
        """(test set, sequences, seed, protocol) as chosen."""
        sequences = self.sequences_spin.value() or None
        protocol = self.protocol_combo.currentData()
        return self.test_combo.path(), sequences, self.seed_spin.value(), protocol

    def _kept(self) -> dict[str, list]:
        """The chosen models' sweeps kept from earlier, by label."""
        test, sequences, seed, protocol = self._settings()
        if test is None:
            return {}
        kept = {}
        for label, path in self._chosen():
            rows = self.store.get(path, test, sequences, seed, protocol)
            if rows is not None:
                kept[label] = rows
        return kept

    def show_kept(self) -> None:
        """Draw what is kept for the choice on screen (nothing while a sweep runs, and
        nothing while the tab is hidden: its first showing draws it)."""
        if self.job is not None:
            return
        self._kept_stale = not self.isVisible()
        if self._kept_stale:
            return
        self.plot.clear()
        kept = self._kept()
        for label, rows in kept.items():
            self.plot.set_result(label, rows)
        if kept:
            self.message.info(
                f"Kept from an earlier sweep: {', '.join(kept)}. Run sweeps runs only what "
                "is not kept."
            )
        self._set_running(False)

    # Commands.
    def run(self) -> None:
        if self.job is not None:
            return
        test, sequences, seed, protocol = self._settings()
        chosen = self._chosen()
        if not chosen or test is None:
            self.message.error("Choose a model and a test set.")
            return
        self.show_kept()
        models = [(label, path) for label, path in chosen if label not in self.plot.results]
        if not models:
            self.message.info(f"Kept from an earlier sweep, nothing to run. {NOTE}")
            return
        self._swept, self._swept_settings = dict(models), (test, sequences, seed, protocol)
        job = BackgroundJob(  # own process, low priority: torch stays out of the window's
            "kvae_studio.services.evaluation:run_sweeps",
            models,
            test,
            sequences,
            seed,
            self.device_combo.currentData(),
            protocol,
            parent=self,
        )
        job.progress.connect(self._on_progress)
        job.item.connect(self._on_model_done)
        job.result.connect(self._on_result)
        self.message.tell_ending(job, "Sweep failed", "Cancelled.")
        job.finished.connect(self._on_finished)
        self.progress.start("loading…")
        names = ", ".join(label for label, _ in models)
        protocol = self.protocol_combo.currentText().lower()
        self.message.info(f"Sweeping {names} on {test.name}, {protocol}…")
        self._set_running(True)
        self.job = job.start()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.progress.busy("cancelling…")

    def shutdown(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job.wait()

    # Job events.
    def _on_progress(self, done: int, total: int) -> None:
        self.progress.update_progress(done, total, f"{done} / {total} sweep points")

    def _on_model_done(self, item: object) -> None:
        label, rows = item
        self.plot.set_result(label, rows)

    def _on_result(self, results: dict) -> None:
        for label, rows in results.items():  # kept under the settings it ran with
            path = self._swept.get(label)
            if path is not None:
                self.store.put(path, *self._swept_settings, rows)
        self.message.info(f"Done. {NOTE}")
        self.progress.finish("done")

    def _on_finished(self) -> None:
        self.job = None
        self._set_running(False)

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        has = bool(self.plot.results) and not running
        self.png_button.setEnabled(has)
        self.csv_button.setEnabled(has)

    # Export.
    def _save_png(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save figure", "imputation.png", "PNG (*.png)")
        if name:
            self.export_png(name)

    def _save_csv(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save numbers", "imputation.csv", "CSV (*.csv)")
        if name:
            self.export_csv(name)

    def export_png(self, path: str | Path) -> None:
        if self.plot.export_png(path):
            self.message.info(f"Saved {Path(path).name}.")
        else:
            self.message.error(f"Could not write {path}.")

    def export_csv(self, path: str | Path) -> None:
        try:
            self.plot.export_csv(path)
        except OSError as err:
            self.message.error(f"Could not write {path}: {err}")
            return
        self.message.info(f"Saved {Path(path).name}.")

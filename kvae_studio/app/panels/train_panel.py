"""Train panel: start, pause, resume and stop a KVAE training run, and watch it learn.

Training runs in a process of its own at a lower priority (`BackgroundJob`,
`services.work`) around `TrainSession`, which drives `model.training.Trainer`: torch
never enters the window's process, the training shares no interpreter lock with it, and
the window and the Explore model's process get the cores whenever they need them. Pause,
resume and stop travel as calls; every Trainer event arrives here as a queued signal;
step events only append to the curves' buffers, and the curves and the status line
repaint on timers, so the GUI's work per step is constant and small.

A run lives in a folder of the workspace (model, resume state, log.jsonl, studio.json).
Picking a stopped run in the Run box reloads its config and its curves from log.jsonl;
Continue then resumes it where it stopped, on the same step axis.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from kvae_studio.app.panels.curves import TrainingCurves
from kvae_studio.app.panels.jobs import BackgroundJob, Job
from kvae_studio.app.panels.run_comparison import RunComparison
from kvae_studio.app.panels.train_settings import TrainSettings
from kvae_studio.app.panels.widgets import MessageLabel, ProgressRow, make_button
from kvae_studio.app.panels.workspace import Workspace
from kvae_studio.services.run_records import Started, read_run
from model.run_folder import MODEL_FILE
from model.training_reports import EpochReport, Finished, StepReport

PHASES = {
    "vae": "VAE only",
    "vae+lgssm": "VAE and A, B, C, a₀ (alpha network frozen)",
    "all": "all parameters",
}
STATUS_MS = 250


class TrainPanel(QWidget):
    modelReady = Signal(str)
    datasetReady = Signal(str)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.session: BackgroundJob | None = None  # the running job, to pause, resume, stop
        self.job: Job | None = None
        self.run_dir: Path | None = None
        self.state = "idle"  # idle | loading | running | paused | stopping
        self.total_steps = 0
        self.last_step: dict | None = None
        self.skipped = 0
        self.epochs = 0
        self._started = False

        self.settings = TrainSettings(workspace)
        self.settings.runSelected.connect(self._on_run_selected)
        self.curves = TrainingCurves()
        # Compare runs is built when first shown: a plot fewer at launch (35 ms).
        self.comparison: RunComparison | None = None
        self._comparison_tab = self.curves.tabs.addTab(QWidget(), "Compare runs")
        self.curves.tabs.currentChanged.connect(self._on_curves_tab)
        self.start_button = make_button("Start", "startButton", self.start)
        self.pause_button = make_button("Pause", "pauseButton", self.toggle_pause)
        self.stop_button = make_button("Stop", "stopButton", self.stop)
        self.explore_button = make_button("Open in Explore", "exploreButton", self.open_in_explore)
        self.stop_button.setToolTip("Stop after the current step and write a checkpoint")
        self.status = QLabel()
        self.status.setObjectName("trainStatus")
        self.status.setWordWrap(True)
        self.folder_label = QLabel()
        self.folder_label.setObjectName("runFolder")
        self.folder_label.setToolTip("Open the run's folder: model, resume state, log")
        self.folder_label.linkActivated.connect(self.open_run_folder)
        self.test_question: QMessageBox | None = None
        self.progress = ProgressRow()
        self.message = MessageLabel()

        buttons = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.explore_button)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addLayout(buttons)
        right_layout.addWidget(self.progress)
        right_layout.addWidget(self.status)
        right_layout.addWidget(self.folder_label)
        right_layout.addWidget(self.message)
        right_layout.addWidget(self.curves, 1)
        splitter = QSplitter()
        splitter.addWidget(self.settings)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        self.status_timer = QTimer(self, interval=STATUS_MS, singleShot=True)
        self.status_timer.timeout.connect(self._show_status)
        self._set_state("idle")

    # Commands.
    def start(self) -> None:
        """Start a new run, or continue the selected one; training on a test set only
        after the user said yes to it."""
        if self.state != "idle":
            return
        if self.settings.trains_on_test_file():
            self._ask_train_on_test()
            return
        self._start()

    def _ask_train_on_test(self) -> None:
        name = self.settings.train_combo.path().name
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Train on a test set?",
            f"{name} is a test set. A model trained on it scores falsely well on it, and "
            "the paper's figures can no longer be compared. Make a training set in the "
            "Scene tab, or train on this file anyway.",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        anyway = box.addButton("Train anyway", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.buttonClicked.connect(lambda button: button is anyway and self._start())
        self.test_question = box
        box.open()

    def open_run_folder(self) -> None:
        if self.run_dir is not None and self.run_dir.is_dir():
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.run_dir)))

    def _show_folder(self) -> None:
        if self.run_dir is None:
            self.folder_label.setText("")
            return
        url = QUrl.fromLocalFile(str(self.run_dir)).toString()
        self.folder_label.setText(f'Saved in <a href="{url}">{self.run_dir}</a>')

    def _start(self) -> None:
        if self.state != "idle":
            return
        try:
            options = self.settings.options()
        except ValueError as err:
            self.message.error(str(err))
            self.settings.form.show_problem(str(err))  # outline the fields it names
            return
        self.settings.form.show_problem("")
        # Its own process: torch and the training stay out of the window's process (the
        # session there is `services.training.run_training`; pause, resume and stop
        # travel as calls).
        job = BackgroundJob("kvae_studio.services.training:run_training", options, parent=self)
        self.session = job
        job.item.connect(self._on_event)
        job.failed.connect(self._on_failed)
        job.finished.connect(self._on_job_finished)
        if not options.resume:
            self.curves.clear()
        self.run_dir = options.run_dir
        self._show_folder()
        self._started = False
        self.skipped = 0
        self.last_step = None
        self.message.info("Loading data…")
        self.progress.start("loading data…")
        self._set_state("loading")
        self.job = job.start()

    def toggle_pause(self) -> None:
        if self.session is None:
            return
        if self.state in ("running", "loading"):
            self.session.call("pause")
            self._set_state("paused")
        elif self.state == "paused":
            self.session.call("resume")
            self.progress.estimator.reset()
            self._set_state("running")
        self._show_status()

    def stop(self) -> None:
        if self.session is not None and self.state in ("running", "paused", "loading"):
            self.session.call("stop")
            self.progress.busy("stopping: finishing the step and writing a checkpoint…")
            self._set_state("stopping")

    def open_in_explore(self) -> None:
        path = self.model_path()
        if path is not None:
            self.modelReady.emit(str(path))

    def model_path(self) -> Path | None:
        if self.run_dir is None:
            return None
        path = self.run_dir / MODEL_FILE
        return path if path.is_file() else None

    def shutdown(self) -> None:
        """Stop training (writing a checkpoint) and wait: the window is closing."""
        if self.session is not None and self.job is not None and self.job.is_running():
            self.session.call("stop")
            self.job.wait(120_000)

    # Events from the worker.
    def _on_event(self, event: object) -> None:
        match event:
            case StepReport():
                record = asdict(event)
                self.curves.add_step(record)
                self.last_step = record
                if not self.status_timer.isActive():
                    self.status_timer.start()
                if event.skipped:
                    self.skipped += 1
            case EpochReport():
                self._on_epoch(event)
            case Finished():
                self._on_finished(event)
            case Started():
                self._on_started(event)

    def _on_started(self, event: Started) -> None:
        self._started = True
        self.curves.truncate(event.step)
        self.total_steps = event.epochs * event.batches
        self.epochs = event.epochs
        self.progress.estimator.reset()
        self.progress.update_progress(event.step, self.total_steps)
        verb = "Continuing" if event.step else "Training"
        self.message.info(
            f"{verb} on {event.device}: {event.sequences} sequences, {event.batches} steps "
            f"per epoch, from epoch {event.epoch + 1} of {event.epochs}."
        )
        self.settings.refresh_runs(select=Path(event.run_dir))
        self.workspace.notify_models()
        if self.state == "loading":
            self._set_state("running")

    def _on_curves_tab(self, index: int) -> None:
        if index != self._comparison_tab:
            return
        tabs = self.curves.tabs
        if self.comparison is None:
            self.comparison = RunComparison(self.workspace)
            placeholder = tabs.widget(index)
            tabs.blockSignals(True)
            tabs.removeTab(index)
            tabs.insertTab(index, self.comparison, "Compare runs")
            tabs.setCurrentIndex(index)
            tabs.blockSignals(False)
            placeholder.deleteLater()
        else:
            self.comparison.refresh()  # runs made or grown meanwhile

    def _on_epoch(self, event: object) -> None:
        self.curves.add_epoch(asdict(event))
        if self.comparison is not None and self.curves.tabs.currentWidget() is self.comparison:
            self.comparison.redraw()  # the running run's new epoch, if it is ticked
        parts = [f"Epoch {event.epoch}/{event.epochs} done in {event.seconds:.0f} s"]
        if event.test_elbo is not None and math.isfinite(event.test_elbo):
            parts.append(f"test ELBO {event.test_elbo:.2f}")
        if event.hamming:
            h = event.hamming
            parts.append(f"Hamming smoothing {h['smoothing']:.4f}, filtering {h['filtering']:.4f}")
        if event.checkpoint:
            parts.append("checkpoint saved")
        self.message.info("; ".join(parts) + ".")
        self.explore_button.setEnabled(self.model_path() is not None)

    def _on_finished(self, event: object) -> None:
        where = f"after {plural(event.epoch, 'epoch')} ({plural(event.step, 'step')})"
        if event.reason == "stopped":
            self.message.info(f"Stopped {where}; checkpoint written. Continue resumes from here.")
        else:
            self.message.info(f"Finished {where}. Open the model in Explore or Evaluate it.")
        self.progress.finish(event.reason, event.step, self.total_steps)

    def _on_failed(self, text: str) -> None:
        kept = self.model_path()
        tail = f" The last good checkpoint is kept ({kept.parent.name})." if kept else ""
        self.message.error(f"Training stopped: {text}{tail}")
        self.progress.finish("")

    def _on_job_finished(self) -> None:
        self.job = None
        self.session = None
        if not self._started and not self.message.is_error:
            self.message.info("Stopped before training started.")
            self.progress.finish("")
        if self.run_dir is not None and self.model_path() is not None:
            self.settings.refresh_runs(select=self.run_dir)
        self._set_state("idle")
        self._show_status()
        self.workspace.notify_models()

    def _on_run_selected(self, path: str) -> None:
        """Show a stored run: its config (read-only) and its curves from log.jsonl."""
        if self.state != "idle":
            return
        self.curves.clear()
        self.message.info("")
        if not path:
            self.run_dir = None
            self.status.setText("")
            self._show_folder()
            self._set_state("idle")
            return
        try:
            state = read_run(Path(path))
        except ValueError as err:
            self.message.error(str(err))
            return
        self.run_dir = state.run_dir
        self._show_folder()
        self.settings.show_config(state.config)
        self.curves.add_steps(state.steps)
        for record in state.epochs:
            self.curves.add_epoch(record)
        self.status.setText(
            f"{state.run_dir.name}: {state.epoch} of {state.config.num_epochs} epochs, "
            f"{state.step} steps"
            + ("" if state.can_resume else " (no resume state: cannot continue)")
        )
        self._set_state("idle")

    # Display.
    def _set_state(self, state: str) -> None:
        self.state = state
        idle = state == "idle"
        self.settings.setEnabled(idle)
        self.start_button.setEnabled(idle)
        self.start_button.setText("Continue" if self.settings.selected_run() else "Start")
        self.pause_button.setEnabled(state in ("running", "paused", "loading"))
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        self.stop_button.setEnabled(state in ("running", "paused", "loading"))
        self.explore_button.setEnabled(self.model_path() is not None)

    def _show_status(self) -> None:
        r = self.last_step
        if r is None:
            return
        done = r["step"]
        speed = r["sequences_per_second"]
        suffix = f"epoch {r['epoch']}/{self.epochs} · step {done} · {speed:.0f} seq/s"
        if self.state == "paused":
            self.progress.label.setText("paused")
        elif self.state == "running":
            self.progress.update_progress(done, self.total_steps, suffix)
        phase = PHASES.get(r["phase"], r["phase"])
        text = f"Epoch {r['epoch']}, batch {r['batch']}/{r['batches']} · training: {phase}"
        text += f" · ELBO {r['terms']['elbo']:.2f} · lr {r['lr']:.2g}"
        if self.skipped:
            text += f" · {self.skipped} steps skipped (non-finite loss)"
        self.status.setText(text)


def plural(count: int, noun: str) -> str:
    """'1 epoch', '2 epochs'."""
    return f"{count} {noun}{'' if count == 1 else 's'}"

"""The studio window: Explore plus the Scene/Train/Evaluate panels, menus, files, settings.

The window owns the session-level verbs (open a model, a dataset or a session; save;
export) and their failure handling: a file that cannot be used shows one line in a
window-modal message box (`open()`, never `exec()`, so nothing blocks and tests can read
it) and leaves the session exactly as it was.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QWidget,
)

from kvae_studio.app.dynamics.tab import DynamicsTab
from kvae_studio.app.explore.explore_view import ExploreView
from kvae_studio.app.model_checks import ModelChecks
from kvae_studio.app.settings import AppSettings
from kvae_studio.app.window_commands import WindowCommands
from kvae_studio.app.work_bridge import WorkBridge
from kvae_studio.document import opening
from kvae_studio.document.explore import ExploreDocument
from kvae_studio.document.opening import OpenError
from kvae_studio.services.model_names import display_name
from kvae_studio.services.model_ref import ExploredModel


class MainWindow(QMainWindow):
    """Tabs (Explore first), menus, status bar, drag-and-drop, remembered layout."""

    modelOpened = Signal(str)  # a model file is open in Explore (after its check)
    videoExported = Signal(str)  # a paper video is written (it is made in a process)

    def __init__(
        self,
        model: ExploredModel,
        model_path: str | None = None,
        settings: QSettings | AppSettings | None = None,
        panels: bool = True,
        restore_layout: bool = True,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.settings = settings if isinstance(settings, AppSettings) else AppSettings(settings)
        self.setWindowTitle("KVAE Studio")
        self.setAcceptDrops(True)
        self.error_box: QMessageBox | None = None
        self.notice_box: QMessageBox | None = None
        self.errors: list[str] = []  # every message shown, newest last (tests, logs)

        self.model_checks = ModelChecks(self)
        self.document = ExploreDocument(model, model_path, model_check=self.model_checks.require)
        self.explore = ExploreView(self.document)
        self.commands = WindowCommands(self)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.explore, "Explore")
        self.tabs.setTabToolTip(0, "Hide parts of a sequence and see what the model imputes")
        # The analysis process (Dynamics tab, Explore's samples): started on first use.
        self.analysis = WorkBridge(name="kvae-analysis", parent=self)
        self.explore.set_analysis(self.analysis)
        self.dynamics = DynamicsTab(self, self.analysis)
        self.tabs.addTab(self.dynamics, "Dynamics")
        self.tabs.setTabToolTip(1, "What the model has learned across a data set")
        self.panels: list[tuple[str, QWidget]] = self._add_panels() if panels else []
        self.setCentralWidget(self.tabs)
        self.tabs.currentChanged.connect(
            lambda _index: self.explore.set_active(self.tabs.currentWidget() is self.explore)
        )

        self.model_status = QLabel()
        self.statusBar().addPermanentWidget(self.model_status)
        self.explore.statusMessage.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.explore.modelWanted.connect(self.open_model)  # a scene's shipped model
        chooser = self.explore.sequence_controls.model_chooser
        chooser.modelChosen.connect(self.open_model)
        chooser.openRequested.connect(self.commands.ask_model)
        chooser.user_models = self._user_models
        chooser.show_current(self.document.model_path)
        self.document.swapped.connect(lambda _change: self._update_title())
        self.document.swapped.connect(lambda _change: self._follow_in_dynamics())
        self._build_menus()
        self._update_title()
        self.resize(1400, 900)
        if restore_layout:
            self._restore_layout()
        self.set_aside_notes = self._set_aside_notes()
        if self.set_aside_notes:  # said once: the files are gone from their place
            QTimer.singleShot(0, lambda: self.show_notice(" ".join(self.set_aside_notes)))

    # Public API.
    @property
    def current_model_path(self) -> str | None:
        return self.document.model_path

    def open_path(self, path: str | os.PathLike) -> bool:
        """Open a model, dataset or session, whichever the file is."""
        kind = opening.kind_of(path)
        if kind == "model":
            return self.open_model(path)
        if kind == "session":
            return self.open_session(path)
        if kind == "dataset":
            return self.open_dataset(path)
        self.show_error("Cannot open file", f"{Path(path).name}: not a model, dataset or session")
        return False

    def open_model(self, path: str | os.PathLike) -> bool:
        """Explore the current sequence with the model in `path`; False (and a message)
        if it cannot be used. A simulated sequence is re-simulated at another frame size.

        A user's model file is first loaded whole in a process of its own (a few seconds:
        torch loads there); meanwhile the window says so, paints, takes no other input and
        can cancel, and True means the model opens when the check passes (`modelOpened`).
        """
        if self.model_checks.wanted(path):
            try:
                opening.describe_model_file(path)  # a bad header is said at once
            except OpenError as err:
                return self.show_error("Cannot open model", _named(err, path))
            return self.model_checks.check(path, then=lambda: self.open_model(path))
        try:
            self.document.open_model(path)
        except OpenError as err:
            return self.show_error("Cannot open model", _named(err, path))
        self._opened(path)
        self.settings.set_last_model(str(path))
        self.statusBar().showMessage(f"Opened model {display_name(path)}", 5000)
        self.modelOpened.emit(str(path))
        return True

    def open_dataset(self, path: str | os.PathLike, index: int = 0) -> bool:
        """Explore sequence `index` of an .npz dataset (the index can be changed later)."""
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            data = self.document.open_dataset(path, index)
        except OpenError as err:
            return self.show_error("Cannot open dataset", _named(err, path))
        finally:
            QApplication.restoreOverrideCursor()
        self._opened(path)
        notes = f" ({'; '.join(data.notes)})" if data.notes else ""
        self.statusBar().showMessage(
            f"Opened {Path(path).name}: {data.num_sequences} sequences{notes}", 8000
        )
        self.explore.offer_scene_model(self.document.sequence_scene)
        return True

    def open_session(self, path: str | os.PathLike) -> bool:
        """Put back a saved session: sequence, masks, current frame and (if present) model
        (a user's model is checked first, as `open_model` does)."""
        try:
            wanted = opening.open_session_file(path).model_path
        except OpenError as err:
            return self.show_error("Cannot open session", _named(err, path))
        other = wanted and wanted != self.document.model_path and Path(wanted).is_file()
        if other and self.model_checks.wanted(wanted):
            return self.model_checks.check(wanted, then=lambda: self.open_session(path))
        try:
            note = self.document.open_session(path)
        except OpenError as err:
            return self.show_error("Cannot open session", _named(err, path))
        self._opened(path)
        note = f"; {note}" if note else ""
        self.statusBar().showMessage(f"Opened session {Path(path).name}{note}", 8000)
        return True

    def save_session(self, path: str | os.PathLike) -> bool:
        try:
            self.document.save_session(path)
        except OpenError as err:
            return self.show_error("Cannot save session", str(err))
        self._remember(str(path))
        self.statusBar().showMessage(f"Saved session {Path(path).name}", 5000)
        return True

    def export_png(self, path: str | os.PathLike, whole_window: bool = False) -> bool:
        return self.commands.export_png(path, whole_window)

    def export_video(
        self, path: str | os.PathLike, fps: float | None = None, options: Any = None
    ) -> bool:
        return self.commands.export_video(path, fps, options)

    def _opened(self, path: str | os.PathLike) -> None:
        self._remember(str(path))
        self._update_title()
        self.tabs.setCurrentWidget(self.explore)

    def show_error(self, title: str, message: str) -> bool:
        """One-line error in a window-modal box that does not block; returns False."""
        self.errors.append(message)
        if self.error_box is not None:
            self.error_box.close()
        box = QMessageBox(
            QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self
        )
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.error_box = box
        box.open()
        self.statusBar().showMessage(message, 8000)
        return False

    def show_notice(self, message: str) -> None:
        """Something the user should know once (not an error), in a box that does not block."""
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "KVAE Studio",
            message,
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.notice_box = box
        box.open()

    def _set_aside_notes(self) -> list[str]:
        """What was set aside at start-up (unreadable settings, a corrupt catalog)."""
        notes = list(self.settings.notes)
        for _, panel in self.panels:
            workspace = getattr(panel, "workspace", None)
            for note in getattr(workspace, "notes", ()):
                if note not in notes:
                    notes.append(note)
        return notes

    def _user_models(self) -> list[str]:
        """The user's models for Explore's list: those opened lately, the workspace's runs."""
        recent = [p for p in self.settings.recent_files() if p.endswith(".safetensors")]
        for _, panel in self.panels:
            if (workspace := getattr(panel, "workspace", None)) is not None:
                return [*recent, *(str(p) for p in workspace.models())]
        return recent

    # Panels.
    def _add_panels(self) -> list[tuple[str, QWidget]]:
        from kvae_studio.app.panels import build_panels

        panels = list(build_panels(self))  # a missing module is an error, never no tabs
        for title, widget in panels:
            self.tabs.addTab(widget, title)
            if hasattr(widget, "modelReady"):
                widget.modelReady.connect(self.open_model)
            if hasattr(widget, "datasetReady"):
                widget.datasetReady.connect(self.open_dataset)
        return panels

    # Menus.
    def _build_menus(self) -> None:
        from kvae_studio.app.menus import build_menus

        self.recent_menu = build_menus(self)
        self._fill_recent()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files()
        for path in recent:
            action = self.recent_menu.addAction(display_name(path))
            action.setToolTip(path)
            action.triggered.connect(lambda _=False, p=path: self._open_recent(p))
        if recent:
            self.recent_menu.addSeparator()
            clear = self.recent_menu.addAction("Clear List")
            clear.triggered.connect(self._clear_recent)
        self.recent_menu.setEnabled(bool(recent))

    def _open_recent(self, path: str) -> None:
        """Open a remembered file; one that cannot be opened (gone, or refused: the error
        says why) leaves the list, so it does not fail again from there."""
        if not self.open_path(path):
            self._forget_recent(path)
        elif (job := self.model_checks.job) is not None:  # opened once the check passes
            verdicts = self.model_checks.checked

            def forget(_checked: str, passed: bool) -> None:
                if not passed:
                    self._forget_recent(path)

            verdicts.connect(forget)
            job.finished.connect(lambda: verdicts.disconnect(forget))  # cancelled: no verdict

    def _forget_recent(self, path: str) -> None:
        self.settings.remove_recent_file(path)
        self._fill_recent()

    def _clear_recent(self) -> None:
        self.settings.clear_recent_files()
        self._fill_recent()

    def _remember(self, path: str) -> None:
        self.settings.add_recent_file(path)
        self.settings.set_last_dir(path)
        self._fill_recent()

    def shortcut_table(self) -> list[tuple[str, str]]:
        """(action, keys) for every action with a shortcut, as Help lists them."""
        from kvae_studio.app.menus import shortcut_table

        return shortcut_table(self)

    # Window events.
    def dragEnterEvent(self, ev: QDragEnterEvent) -> None:
        urls = ev.mimeData().urls() if ev.mimeData().hasUrls() else []
        if any(opening.kind_of(u.toLocalFile()) != "unknown" for u in urls if u.isLocalFile()):
            ev.acceptProposedAction()
        else:
            ev.ignore()

    def dropEvent(self, ev: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        ev.acceptProposedAction()
        # Open after the drop returns, so an error box does not sit inside the drag.
        for path in paths:
            QTimer.singleShot(0, lambda p=path: self.open_path(p))

    def closeEvent(self, ev: QCloseEvent) -> None:
        if self._ask_before_closing():
            ev.ignore()
            return
        self.settings.set_layout("geometry", self.saveGeometry())
        self.settings.set_layout("state", self.saveState())
        self.settings.set_layout("explore_splitter", self.explore.splitter.saveState())
        self.settings.set_layout("plots_splitter", self.explore.plots_splitter.saveState())
        self.settings.sync()
        self.shutdown()
        super().closeEvent(ev)

    def shutdown(self) -> None:
        """The one exit path: the model's process and the panels' jobs stop here."""
        from kvae_studio.app.panels import shutdown as stop_panels

        self.explore.shutdown()
        self.dynamics.shutdown()
        stop_panels(self.panels)

    def _follow_in_dynamics(self) -> None:
        if self.dynamics.isVisible():
            self.dynamics.refresh()

    def _ask_before_closing(self) -> bool:
        """Unsaved mask edits: ask (window-modal, not blocking) to save them before
        quitting; True while the question is open, and the close waits for its answer."""
        if getattr(self, "_close_confirmed", False) or not self.document.unsaved_edits:
            return False
        if not self.settings.ask_save_on_quit():
            return False
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Save your edits?",
            "The masks edited since the last save are not saved. Save the session before quitting?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        box.setCheckBox(QCheckBox("Don't ask again", box))  # parented: Qt owns it
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.finished.connect(lambda _result: self._answer_close(box))
        self.quit_box = box
        box.open()
        return True

    def _answer_close(self, box: QMessageBox) -> None:
        clicked = box.clickedButton()
        button = box.standardButton(clicked) if clicked is not None else None
        if button in (None, QMessageBox.StandardButton.Cancel):
            return
        if box.checkBox().isChecked():
            self.settings.set_ask_save_on_quit(False)
        if button == QMessageBox.StandardButton.Save:
            self.commands.ask_save()
            if self.document.unsaved_edits:
                return  # not saved (dialog cancelled or failed): stay open
        self._close_confirmed = True
        QTimer.singleShot(0, self.close)

    def _restore_layout(self) -> None:
        s = self.settings
        if (geometry := s.layout("geometry")) is not None:
            self.restoreGeometry(geometry)
        if (state := s.layout("state")) is not None:
            self.restoreState(state)
        if (split := s.layout("explore_splitter")) is not None:
            self.explore.splitter.restoreState(split)
        if (split := s.layout("plots_splitter")) is not None:
            self.explore.plots_splitter.restoreState(split)

    def _update_title(self) -> None:
        path = self.document.model_path
        model = display_name(path) if path else "untrained model"
        self.model_status.setText(model)
        self.model_status.setToolTip(path or "No trained model: a freshly initialised one")
        self.setWindowTitle(f"KVAE Studio — {model}")


def _named(err: OpenError, path: str | os.PathLike) -> str:
    """The error's line, beginning with the file's name (some loaders name it already)."""
    text, name = str(err), Path(path).name
    return text if text.startswith(name) else f"{name}: {text}"

"""The studio window: Explore plus the Scene/Train/Evaluate panels, menus, files, settings.

The window owns the session-level verbs (open a model, a dataset or a session; save;
export) and their failure handling: a file that cannot be used shows one line in a
window-modal message box (`open()`, never `exec()`, so nothing blocks and tests can read
it) and leaves the session exactly as it was.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QWidget,
)

from kvae_studio import __version__
from kvae_studio.app import documents
from kvae_studio.app.documents import OpenError
from kvae_studio.app.explore.explore_view import ExploreView, frame_size_problem
from kvae_studio.app.model_dialog import model_file_dialog
from kvae_studio.app.session import SUFFIX as SESSION_SUFFIX
from kvae_studio.app.session import Session, SessionError, save_session
from kvae_studio.app.settings import AppSettings
from model.kvae import KVAE

DATA_FILTER = "Sequence files (*.npz)"
SESSION_FILTER = f"KVAE Studio sessions (*{SESSION_SUFFIX})"
VIDEO_FILTER = "MP4 video (*.mp4);;Animated GIF (*.gif)"


def filter_suffix(chosen_filter: str) -> str | None:
    """'.gif' of 'Animated GIF (*.gif)': the extension a name typed without one gets, so
    the filter chosen in the save dialog decides the format."""
    match = re.search(r"\(\*(\.[^\s;)]+)", chosen_filter or "")
    return match.group(1) if match else None


class MainWindow(QMainWindow):
    """Tabs (Explore first), menus, status bar, drag-and-drop, remembered layout."""

    def __init__(
        self,
        model: KVAE,
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

        self.explore = ExploreView(model, model_path)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.explore, "Explore")
        self.tabs.setTabToolTip(0, "Hide parts of a sequence and see what the model imputes")
        self.panels: list[tuple[str, QWidget]] = self._add_panels() if panels else []
        self.setCentralWidget(self.tabs)

        self.model_status = QLabel()
        self.statusBar().addPermanentWidget(self.model_status)
        self.explore.statusMessage.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.explore.modelWanted.connect(self.open_model)  # a scene's shipped model
        chooser = self.explore.sequence_controls.model_chooser
        chooser.modelChosen.connect(self.open_model)
        chooser.openRequested.connect(self._ask_model)
        chooser.user_models = self._user_models
        chooser.show_current(self.explore.model_path)
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
        return self.explore.model_path

    def open_path(self, path: str | os.PathLike) -> bool:
        """Open a model, dataset or session, whichever the file is."""
        kind = documents.kind_of(path)
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
        if it cannot be used. A simulated sequence is re-simulated at another frame size."""
        path = str(path)
        try:
            model = documents.open_model_file(path)
        except OpenError as err:
            return self.show_error("Cannot open model", str(err))
        problem = frame_size_problem(model, self.explore.images)
        source = self.explore.source
        if problem and source.get("kind") != "scene":
            return self.show_error("Cannot use this model", f"{Path(path).name}: {problem}")

        def swap() -> None:
            self.explore.set_model(model, str(Path(path).resolve()), infer=not problem)
            if problem:
                self.explore.new_sequence(source["scene"], int(source.get("seed", 0)))

        if not self._swap("Cannot open model", path, swap):
            return False
        self._remember(path)
        self.settings.set_last_model(path)
        self._update_title()
        self.statusBar().showMessage(f"Opened model {documents.display_name(path)}", 5000)
        self.tabs.setCurrentWidget(self.explore)
        return True

    def open_dataset(self, path: str | os.PathLike, index: int = 0) -> bool:
        """Explore sequence `index` of an .npz dataset (the index can be changed later)."""
        path = str(path)
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            data = documents.open_dataset_file(path)
        except OpenError as err:
            return self.show_error("Cannot open dataset", str(err))
        finally:
            QApplication.restoreOverrideCursor()
        problem = frame_size_problem(self.explore.model, data.images[0])
        if problem:
            return self.show_error("Cannot use this dataset", f"{Path(path).name}: {problem}")
        swap = lambda: self.explore.set_dataset(data, str(Path(path).resolve()), index)  # noqa: E731
        if not self._swap("Cannot open dataset", path, swap):
            return False
        self._remember(path)
        self._update_title()
        notes = f" ({'; '.join(data.notes)})" if data.notes else ""
        self.statusBar().showMessage(
            f"Opened {Path(path).name}: {data.num_sequences} sequences{notes}", 8000
        )
        self.tabs.setCurrentWidget(self.explore)
        return True

    def open_session(self, path: str | os.PathLike) -> bool:
        """Put back a saved session: sequence, masks, current frame and (if present) model."""
        try:
            session = documents.open_session_file(path)
        except OpenError as err:
            return self.show_error("Cannot open session", str(err))
        model, model_path, note = self.explore.model, self.explore.model_path, ""
        wanted = session.model_path
        if wanted and wanted != model_path:
            if Path(wanted).is_file():
                try:
                    model, model_path = documents.open_model_file(wanted), wanted
                except OpenError as err:
                    note = f"; its model could not be loaded ({err}), kept the current one"
            else:
                note = f"; its model {Path(wanted).name} is missing, kept the current one"
        problem = frame_size_problem(model, session.images)
        if problem:
            return self.show_error("Cannot open session", f"{Path(path).name}: {problem}")

        def swap() -> None:
            if model is not self.explore.model:
                self.explore.set_model(model, model_path, infer=False)
            self.explore.dataset = None
            self.explore.sequence_controls.set_dataset(None)
            self.explore.set_sequence(
                session.images,
                session.source,
                session.state,
                session.hidden,
                session.occluded,
                session.frame,
            )

        if not self._swap("Cannot open session", path, swap):
            return False
        self._remember(str(path))
        self._update_title()
        self.statusBar().showMessage(f"Opened session {Path(path).name}{note}", 8000)
        self.tabs.setCurrentWidget(self.explore)
        return True

    def save_session(self, path: str | os.PathLike) -> bool:
        ex = self.explore
        try:
            session = Session(
                images=ex.images,
                hidden=ex.mask.hidden.copy(),
                occluded=ex.mask.occluded.copy(),
                model_path=ex.model_path,
                source=ex.source,
                frame=ex.current_frame,
                state=ex.state,
            )
            save_session(path, session)
        except SessionError as err:
            return self.show_error("Cannot save session", str(err))
        self._remember(str(path))
        self.explore.mark_saved()
        self.statusBar().showMessage(f"Saved session {Path(path).name}", 5000)
        return True

    def export_png(self, path: str | os.PathLike) -> bool:
        """Save the Explore view as it is on screen."""
        if not self.explore.grab().save(str(path), "PNG"):
            return self.show_error("Cannot export", f"{Path(path).name}: could not write the PNG")
        self.statusBar().showMessage(f"Exported {Path(path).name}", 5000)
        return True

    def export_video(self, path: str | os.PathLike, fps: float | None = None) -> bool:
        """Truth, observed and imputed side by side, one video frame per sequence frame."""
        from kvae_studio.app.export import ExportError, compose_frames, write_video

        result = self.explore.result
        if result is None:
            return self.show_error("Cannot export", "the model has not answered yet; try again")
        fps = fps or self.explore.timeline.fps.value()
        try:
            write_video(path, compose_frames(result), fps)
        except (ExportError, OSError) as err:
            return self.show_error("Cannot export", str(err).splitlines()[0])
        self.statusBar().showMessage(f"Exported {Path(path).name}", 5000)
        return True

    def export_paper_video(
        self,
        path: str | os.PathLike,
        kind: str,
        steps: int | None = None,
        drop_prob: float = 0.3,
        seed: int = 0,
        fps: float | None = None,
    ) -> bool:
        """The paper's imputation or generation video of the sequence on screen, as
        `kvae-studio export` makes it (the mask painted here plays no part)."""
        from kvae_studio.app.export import ExportError, write_video
        from kvae_studio.app.paper_videos import paper_video

        fps = fps or self.explore.timeline.fps.value()
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            frames = paper_video(
                self.explore.model, self.explore.images, kind, drop_prob, seed, steps
            )
            written = write_video(path, frames, fps)
        except (ExportError, OSError, ValueError) as err:
            return self.show_error("Cannot export", str(err).splitlines()[0])
        finally:
            QApplication.restoreOverrideCursor()
        self.statusBar().showMessage(
            f"Exported {Path(path).name}: {kind}, {len(frames)} frames, {written}", 8000
        )
        return True

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

    # Changing what Explore shows, in one step.
    def _swap(self, title: str, path: str | os.PathLike, change: Callable[[], None]) -> bool:
        """Run `change`, which replaces what Explore shows. The document was validated
        before; should the change fail all the same, the view is put back as it was and
        the failure is one line in a box, so the session stays usable (and savable)."""
        before = self._explore_state()
        try:
            change()
        except Exception as err:  # whatever broke, the window must stay usable
            self._put_back(before)
            return self.show_error(title, f"{Path(path).name}: {documents.one_line(err)}")
        return True

    def _explore_state(self) -> dict:
        ex = self.explore
        return {
            "model": ex.model,
            "model_path": ex.model_path,
            "images": ex.images,
            "source": dict(ex.source),
            "state": ex.state,
            "hidden": ex.mask.hidden.copy(),
            "occluded": ex.mask.occluded.copy(),
            "frame": ex.current_frame,
            "dataset": ex.dataset,
            "dataset_path": ex.dataset_path,
        }

    def _put_back(self, s: dict) -> None:
        ex = self.explore
        ex.set_model(s["model"], s["model_path"], infer=False)
        ex.set_sequence(
            s["images"], s["source"], s["state"], s["hidden"], s["occluded"], s["frame"]
        )
        ex.dataset, ex.dataset_path = s["dataset"], s["dataset_path"]
        if s["dataset"] is not None:
            ex.sequence_controls.set_dataset(s["dataset"].num_sequences, s["source"]["index"])
        else:
            ex.sequence_controls.set_dataset(None)

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
        try:
            from kvae_studio.app.panels import build_panels
        except ImportError:
            return []
        panels = list(build_panels(self))
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
            action = self.recent_menu.addAction(documents.display_name(path))
            action.setToolTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
        if recent:
            self.recent_menu.addSeparator()
            clear = self.recent_menu.addAction("Clear List")
            clear.triggered.connect(self._clear_recent)
        self.recent_menu.setEnabled(bool(recent))

    def _clear_recent(self) -> None:
        self.settings.clear_recent_files()
        self._fill_recent()

    def _remember(self, path: str) -> None:
        self.settings.add_recent_file(path)
        self.settings.set_last_dir(path)
        self._fill_recent()

    # Dialog-driven verbs (menus).
    def _ask_open(self, title: str, filters: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, title, self.settings.last_dir(), filters)
        return path or None

    def _ask_save_path(self, title: str, filters: str, suffix: str) -> str | None:
        path, chosen = QFileDialog.getSaveFileName(self, title, self.settings.last_dir(), filters)
        if not path:
            return None
        return path if Path(path).suffix else path + (filter_suffix(chosen) or suffix)

    def _ask_model(self) -> None:
        dialog = model_file_dialog(self, self.settings.last_dir())
        if dialog.exec() and dialog.selectedFiles():
            self.open_model(dialog.selectedFiles()[0])

    def _ask_dataset(self) -> None:
        if path := self._ask_open("Open dataset", DATA_FILTER):
            self.open_dataset(path)

    def _ask_session(self) -> None:
        if path := self._ask_open("Open session", f"{SESSION_FILTER};;All files (*)"):
            self.open_session(path)

    def _ask_save(self) -> None:
        path = self._ask_save_path("Save session", SESSION_FILTER, SESSION_SUFFIX)
        if path:
            if not path.endswith(SESSION_SUFFIX) and path.endswith(".npz"):
                path = path[: -len(".npz")] + SESSION_SUFFIX
            self.save_session(path)

    def _ask_png(self) -> None:
        if path := self._ask_save_path("Export view", "PNG image (*.png)", ".png"):
            self.export_png(path)

    def _ask_video(self) -> None:
        if path := self._ask_save_path("Export video", VIDEO_FILTER, ".mp4"):
            self.export_video(path)

    def _ask_paper_video(self, kind: str) -> None:
        steps = 2 * self.explore.steps if kind == "generation" else None
        title = f"Export the paper's {kind} video" + (f" ({steps} frames)" if steps else "")
        if path := self._ask_save_path(title, VIDEO_FILTER, ".mp4"):
            self.export_paper_video(path, kind, steps)

    def _ask_imputation_video(self) -> None:
        self._ask_paper_video("imputation")

    def _ask_generation_video(self) -> None:
        self._ask_paper_video("generation")

    def _new_sequence(self) -> None:
        self.explore.sequence_controls.request_new()  # the next seed, as the button does
        self.tabs.setCurrentWidget(self.explore)
        self._update_title()

    def shortcut_table(self) -> list[tuple[str, str]]:
        """(action, keys) for every action with a shortcut, as Help lists them."""
        from kvae_studio.app.menus import shortcut_table

        return shortcut_table(self)

    def _show_shortcuts(self) -> None:
        rows = "".join(
            f"<tr><td>{name}</td><td style='padding-left:16px'><b>{keys}</b></td></tr>"
            for name, keys in self.shortcut_table()
        )
        box = QMessageBox(
            QMessageBox.Icon.NoIcon,
            "Keyboard shortcuts",
            f"<table>{rows}</table>",
            QMessageBox.StandardButton.Close,
            self,
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About KVAE Studio",
            f"<b>KVAE Studio {__version__}</b><p>See what a Kalman Variational Auto-Encoder "
            "(Fraccaro et al., NIPS 2017) has understood of a video: hide frames or paint "
            "over them, and watch the model fill the gaps.</p>",
        )

    # Window events.
    def dragEnterEvent(self, ev: QDragEnterEvent) -> None:
        urls = ev.mimeData().urls() if ev.mimeData().hasUrls() else []
        if any(documents.kind_of(u.toLocalFile()) != "unknown" for u in urls if u.isLocalFile()):
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
        self.explore.shutdown()
        super().closeEvent(ev)

    def _ask_before_closing(self) -> bool:
        """Unsaved mask edits: ask (window-modal, not blocking) to save them before
        quitting; True while the question is open, and the close waits for its answer."""
        if getattr(self, "_close_confirmed", False) or not self.explore.unsaved_edits:
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
            self._ask_save()
            if self.explore.unsaved_edits:
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
        path = self.explore.model_path
        model = documents.display_name(path) if path else "untrained model"
        self.model_status.setText(model)
        self.model_status.setToolTip(path or "No trained model: a freshly initialised one")
        self.setWindowTitle(f"KVAE Studio — {model}")

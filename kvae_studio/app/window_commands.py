"""What the File and Help menus do: ask for a path, then open, save or export.

Apart from the window so that the window keeps the verbs that change what is explored
(open a model, a dataset, a session) and this module the dialogs in front of them and
the exports, which only read the document and the newest result. The menus are a table
of these bound methods (menus.py), not of method names.
"""

from __future__ import annotations

import os
import re
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from kvae_studio import __version__
from kvae_studio.app.model_dialog import model_file_dialog
from kvae_studio.services.file_names import (
    DATA_FILTER,
    SESSION_FILTER,
    SESSION_SUFFIX,
    VIDEO_FILTER,
)
from kvae_studio.services.model_ref import ModelRef

if TYPE_CHECKING:
    from kvae_studio.app.main_window import MainWindow


def filter_suffix(chosen_filter: str) -> str | None:
    """'.gif' of 'Animated GIF (*.gif)': the extension a name typed without one gets, so
    the filter chosen in the save dialog decides the format."""
    match = re.search(r"\(\*(\.[^\s;)]+)", chosen_filter or "")
    return match.group(1) if match else None


class WindowCommands:
    """The menu commands of one window."""

    def __init__(self, window: MainWindow):
        self.window = window
        self.video_options = None  # Export Video's last choices (VideoOptions), this session
        self.video_dialog = None  # Export Video's options while they are asked

    # Asking for a path.
    def _open_path(self, title: str, filters: str) -> str | None:
        w = self.window
        path, _ = QFileDialog.getOpenFileName(w, title, w.settings.last_dir(), filters)
        return path or None

    def _save_path(self, title: str, filters: str, suffix: str) -> str | None:
        w = self.window
        path, chosen = QFileDialog.getSaveFileName(w, title, w.settings.last_dir(), filters)
        if not path:
            return None
        return path if Path(path).suffix else path + (filter_suffix(chosen) or suffix)

    def ask_model(self) -> None:
        dialog = model_file_dialog(self.window, self.window.settings.last_dir())
        if dialog.exec() and dialog.selectedFiles():
            self.window.open_model(dialog.selectedFiles()[0])

    def ask_dataset(self) -> None:
        if path := self._open_path("Open dataset", DATA_FILTER):
            self.window.open_dataset(path)

    def ask_session(self) -> None:
        if path := self._open_path("Open session", f"{SESSION_FILTER};;All files (*)"):
            self.window.open_session(path)

    def ask_save(self) -> None:
        path = self._save_path("Save session", SESSION_FILTER, SESSION_SUFFIX)
        if path:
            if not path.endswith(SESSION_SUFFIX) and path.endswith(".npz"):
                path = path[: -len(".npz")] + SESSION_SUFFIX
            self.window.save_session(path)

    def ask_export_masks(self) -> None:
        """A file name for the masks: a `.masks.npz`, or a PNG stack by its filter."""
        from kvae_studio.services import file_names as names

        w = self.window
        filters = f"{names.MASKS_FILTER};;{names.MASK_PNG_FILTER}"
        path, chosen = QFileDialog.getSaveFileName(
            w, "Export masks", w.settings.last_dir(), filters
        )
        if path:
            png = chosen == names.MASK_PNG_FILTER or path.lower().endswith(".png")
            self.export_masks(path if png else names.masks_file_name(path), png_stack=png)

    def ask_import_masks(self) -> None:
        from kvae_studio.services.file_names import MASK_OPEN_FILTER

        if path := self._open_path("Import masks", f"{MASK_OPEN_FILTER};;All files (*)"):
            self.import_masks(path)

    def export_masks(self, path: str | os.PathLike, png_stack: bool = False) -> bool:
        """The masks of the sequence on screen, to reuse on others (document/mask_file.py)."""
        from kvae_studio.document.opening import OpenError

        w = self.window
        try:
            written = w.document.export_masks(path, png_stack)
        except OpenError as err:
            return w.show_error("Cannot export masks", str(err))
        w.settings.set_last_dir(str(path))
        names = written[0].name + (f" … {written[-1].name}" if len(written) > 1 else "")
        w.statusBar().showMessage(f"Exported the masks: {names}", 5000)
        return True

    def import_masks(self, path: str | os.PathLike) -> bool:
        """Put a mask file's masks on the sequence on screen (one undo step), or say in one
        line why not (another shape, not a mask file)."""
        from kvae_studio.document.opening import OpenError

        w = self.window
        try:
            changed = w.document.import_masks(path)
        except OpenError as err:
            return w.show_error("Cannot import masks", str(err))
        w.settings.set_last_dir(str(path))
        w.tabs.setCurrentWidget(w.explore)
        same = "" if changed else " (the same as on screen)"
        w.statusBar().showMessage(f"Imported the masks of {Path(path).name}{same}", 5000)
        return True

    def ask_png(self) -> None:
        if path := self._save_path("Export views", "PNG image (*.png)", ".png"):
            self.export_png(path)

    def ask_window_png(self) -> None:
        if path := self._save_path("Export window", "PNG image (*.png)", ".png"):
            self.export_png(path, whole_window=True)

    def ask_video(self) -> None:
        """The video's options in a window-modal dialog (the last ones of this session),
        then its file name; Export writes it."""
        from kvae_studio.app.video_dialog import VideoDialog
        from kvae_studio.services.video_options import VideoOptions

        w = self.window
        result = w.explore.result
        if result is None:
            w.show_error("Cannot export", "the model has not answered yet; try again")
            return
        dialog = VideoDialog(
            w,
            self.video_options or VideoOptions(),
            result.images.shape[:3],
            default_fps=w.explore.timeline.fps.value(),
            generated=result.x_generated is not None,
        )
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.accepted.connect(lambda: self._video_chosen(dialog))
        self.video_dialog = dialog
        dialog.open()

    def _video_chosen(self, dialog) -> None:
        self.video_options = dialog.options()
        self.video_dialog = None
        dialog.deleteLater()
        if path := self._save_path("Export video", VIDEO_FILTER, ".mp4"):
            self.export_video(path, options=self.video_options)

    def ask_paper_video(self, kind: str) -> None:
        steps = 2 * self.window.document.steps if kind == "generation" else None
        title = f"Export the paper's {kind} video" + (f" ({steps} frames)" if steps else "")
        if path := self._save_path(title, VIDEO_FILTER, ".mp4"):
            self.export_paper_video(path, kind, steps)

    def ask_imputation_video(self) -> None:
        self.ask_paper_video("imputation")

    def ask_generation_video(self) -> None:
        self.ask_paper_video("generation")

    def new_sequence(self) -> None:
        """The next seed of the chosen scene, as the New sequence button does."""
        self.window.explore.sequence_controls.request_new()
        self.window.tabs.setCurrentWidget(self.window.explore)

    # Exports: they read the document and the newest result, and change nothing.
    def export_png(self, path: str | os.PathLike, whole_window: bool = False) -> bool:
        """Save Explore's views (frames, film strip, plots) as they are on screen, without
        the controls column; or the whole window, menus and all."""
        w = self.window
        widget = w if whole_window else w.explore.splitter
        if not widget.grab().save(str(path), "PNG"):
            return w.show_error("Cannot export", f"{Path(path).name}: could not write the PNG")
        w.statusBar().showMessage(f"Exported {Path(path).name}", 5000)
        return True

    def export_video(self, path: str | os.PathLike, fps: float | None = None, options=None) -> bool:
        """The views of `options` (a VideoOptions; by default truth, observed and imputed)
        side by side, one video frame per sequence frame, at `fps`, else the options',
        else the timeline's rate."""
        from kvae_studio.services.export import ExportError, compose_frames, write_video
        from kvae_studio.services.video_options import VideoOptions

        w = self.window
        options = options or VideoOptions()
        result = w.explore.result
        if result is None:
            return w.show_error("Cannot export", "the model has not answered yet; try again")
        fps = fps or options.fps or w.explore.timeline.fps.value()
        try:
            write_video(path, compose_frames(result, options.scale, options.views), fps)
        except (ExportError, OSError) as err:
            return w.show_error("Cannot export", str(err).splitlines()[0])
        w.statusBar().showMessage(f"Exported {Path(path).name}", 5000)
        return True

    def export_paper_video(
        self, path: str | os.PathLike, kind: str, steps: int | None = None,
        drop_prob: float = 0.3, seed: int = 0, fps: float | None = None,
    ) -> bool:  # fmt: skip
        """The paper's imputation or generation video of the sequence on screen, as
        `kvae-studio export` makes it (the mask painted here plays no part). It is written
        in a process of its own (torch stays out of the window's) behind a window-modal
        progress dialog that can cancel it; True: under way (`videoExported` says when)."""
        from kvae_studio.app.modal_job import run_modal
        from kvae_studio.app.panels.jobs import ProcessJob

        w, doc = self.window, self.window.document
        model = doc.model if isinstance(doc.model, ModelRef) else ("payload", *doc.model.payload())
        fps = fps or w.explore.timeline.fps.value()
        job = ProcessJob(
            "kvae_studio.services.paper_videos:write_paper_video",
            model, doc.images, kind, str(path), drop_prob, seed, steps, fps, parent=w,
        )  # fmt: skip

        def written(value: tuple) -> None:
            count, how = value
            message = f"Exported {Path(path).name}: {kind}, {count} frames, {how}"
            w.statusBar().showMessage(message, 8000)
            w.videoExported.emit(str(path))

        self.export_dialog = run_modal(
            w, job, f"Writing the {kind} video {Path(path).name}…", written,
            lambda message: w.show_error("Cannot export", message), title="Export",
        )  # fmt: skip
        return True

    # Help.
    def show_shortcuts(self) -> None:
        from kvae_studio.app.menus import POINTER_GESTURES, shortcut_table

        def rows(pairs) -> str:
            return "".join(
                f"<tr><td>{escape(name)}</td>"
                f"<td style='padding-left:16px'><b>{escape(keys)}</b></td></tr>"
                for name, keys in pairs
            )

        box = QMessageBox(
            QMessageBox.Icon.NoIcon,
            "Keyboard shortcuts",
            f"<table>{rows(shortcut_table(self.window))}</table>"
            f"<p><b>With the mouse, in Explore</b></p><table>{rows(POINTER_GESTURES)}</table>",
            QMessageBox.StandardButton.Close,
            self.window,
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def about(self) -> None:
        QMessageBox.about(
            self.window,
            "About KVAE Studio",
            f"<b>KVAE Studio {__version__}</b><p>See what a Kalman Variational Auto-Encoder "
            "(Fraccaro et al., NIPS 2017) has understood of a video: hide frames or paint "
            "over them, and watch the model fill the gaps.</p>",
        )

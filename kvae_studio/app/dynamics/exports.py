"""Writing the Dynamics views' pictures and tables, and the one button that asks where.

Every file goes through `model.temp_files` (a temporary file beside the target, then a
rename), like the studio's other writers: a reader, or a crash mid-write, never leaves
half a CSV or PNG under the user's name. Numbers are written with `repr(float(v))`, the
shortest text that reads back to the same value, so a table parses back to the arrays
that were drawn.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterable, Sequence

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFileDialog, QMenu, QToolButton, QWidget

from model.temp_files import atomic_write_text, remove_stale, temporary_path, write_target


def number(value: float) -> str:
    """A float as the shortest text that reads back exactly ('nan' for NaN)."""
    return repr(float(value))


def write_csv(path: str | os.PathLike, header: Sequence[str], rows: Iterable[Sequence]) -> None:
    """One header line, then `rows`, written atomically; floats as `number` gives them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([number(v) if isinstance(v, float | np.floating) else v for v in row])
    atomic_write_text(path, out.getvalue())


def save_image(image: QImage | QPixmap, path: str | os.PathLike) -> None:
    """`image` as a PNG at `path`, atomically; OSError when Qt cannot write it."""
    path = write_target(path)
    remove_stale(path)
    tmp = temporary_path(path)
    try:
        if not image.save(str(tmp), "PNG"):
            raise OSError(f"could not write the picture {path}")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_widget_png(widget: QWidget, path: str | os.PathLike) -> None:
    """The widget as it is on screen (children included), as a PNG."""
    save_image(widget.grab(), path)


def gray_image(pixels: np.ndarray) -> QImage:
    """A (H, W) array in [0, 1] as an 8-bit grey QImage that owns its memory."""
    data = np.ascontiguousarray(np.clip(np.nan_to_num(pixels), 0.0, 1.0) * 255.0 + 0.5)
    data = data.astype(np.uint8)
    h, w = data.shape
    return QImage(data.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


class ExportButton(QToolButton):
    """The Export ▾ button: one entry per file the view can write, each asking where first.

    `entries` are (menu text, file filter, default file name, writer); the writer gets
    the chosen path. A write that fails says why through `failed` (the panel shows it on
    its message line), never as an exception out of a menu's slot.
    """

    failed = Signal(str)

    def __init__(
        self,
        entries: Sequence[tuple[str, str, str, Callable[[str], object]]],
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setText("Export")
        self.setToolTip("Save this view as a picture (PNG) or its numbers as a table (CSV)")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.directory = ""
        menu = QMenu(self)
        for text, filters, name, writer in entries:
            action = menu.addAction(text)
            action.triggered.connect(
                lambda _=False, f=filters, n=name, w=writer, t=text: self._ask(t, f, n, w)
            )
        self.setMenu(menu)

    def _ask(self, title: str, filters: str, name: str, writer: Callable[[str], object]) -> None:
        start = os.path.join(self.directory, name) if self.directory else name
        path, _ = QFileDialog.getSaveFileName(self, title.rstrip("…"), start, filters)
        if not path:
            return
        self.directory = os.path.dirname(path)
        try:
            writer(path)
        except OSError as error:
            self.failed.emit(f"Could not save {path}: {error}")


PNG_FILTER = "PNG pictures (*.png)"
CSV_FILTER = "CSV tables (*.csv)"

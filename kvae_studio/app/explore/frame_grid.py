"""A grid of labelled frames, drawn by one widget from cached images.

One paintEvent draws every cell: a title line (with an optional coloured suffix such as
"not seen") and the frame scaled up nearest-neighbour, square and centred, with a thin
border. Frames are converted to images once, when they change, with fixed grey levels
(0 = black, 1 = white): a frame never changes brightness because another pixel changed.
A plain widget rather than a graphics scene of view boxes: six frames repaint in well
under a millisecond, where the scene took about three (measured in the Explore view).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFontMetrics,
    QHelpEvent,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from kvae_studio import colors
from kvae_studio.app.explore.filmstrip import grey_qimages, to_qimage

TITLE_H = 18
GAP = 4
BORDER = QColor(colors.BORDER)


@dataclass
class _Cell:
    title: str
    tooltip: str
    row: int
    col: int
    suffix: str = ""
    suffix_colour: str | None = None
    frame: np.ndarray | None = None
    image: QImage = field(default_factory=QImage)
    note: str = ""  # said inside an empty cell: why there is nothing to show


class FrameGrid(QWidget):
    """Named frames laid out in a grid; `show_frame(name, array)` updates one of them;
    `cellClicked(name)` when a cell is clicked (to show it large)."""

    cellClicked = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.cells: dict[str, _Cell] = {}
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 220)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.large: str | None = None  # the cell shown large elsewhere: outlined

    def add(self, name: str, title: str, tooltip: str, row: int, col: int) -> None:
        self.cells[name] = _Cell(title, tooltip, row, col)
        self.update()

    def remove(self, name: str) -> None:
        """Take a cell away (the others then share its room)."""
        if self.cells.pop(name, None) is not None:
            if self.large == name:
                self.large = None
            self.update()

    def show_frame(self, name: str, frame: np.ndarray | None, note: str = "") -> None:
        """Grey (H, W) or RGB (H, W, 3) in [0, 1]; None blanks the cell, where `note`
        says why."""
        cell = self.cells[name]
        if frame is not None and cell.frame is not None and np.array_equal(frame, cell.frame):
            return  # the same picture (the truth, a roll-out an edit left alone): no repaint
        cell.note = note if frame is None else ""
        if frame is None:
            cell.frame, cell.image = None, QImage()
        else:
            cell.frame = np.array(frame)  # a copy: the comparison above must not alias
            if cell.frame.ndim == 3:
                cell.image = to_qimage(cell.frame)
            else:
                cell.image = grey_qimages(cell.frame[None])[0]
        self.update(self.frame_rect(name).adjusted(-1, -1, 1, 1))  # not the title line

    def set_large(self, name: str | None) -> None:
        if name != self.large:
            self.large = name
            self.update()

    def mousePressEvent(self, ev: QMouseEvent) -> None:
        name = self.cell_at(ev.position().toPoint())
        if ev.button() == Qt.MouseButton.LeftButton and name is not None:
            self.cellClicked.emit(name)
        ev.accept()

    def set_title(self, name: str, suffix: str = "", colour: str | None = None) -> None:
        cell = self.cells[name]
        if (cell.suffix, cell.suffix_colour) != (suffix, colour):
            cell.suffix, cell.suffix_colour = suffix, colour
            self.update(self.cell_rect(name))

    def image(self, name: str) -> np.ndarray | None:
        """What the cell shows now (for tests and exports)."""
        return self.cells[name].frame

    def note(self, name: str) -> str:
        """What an empty cell says (tests read what the user reads)."""
        return self.cells[name].note

    def title(self, name: str) -> str:
        cell = self.cells[name]
        return cell.title if not cell.suffix else f"{cell.title}  ·  {cell.suffix}"

    # Geometry.
    def sizeHint(self) -> QSize:
        return QSize(380, 600)

    def _shape(self) -> tuple[int, int]:
        rows = 1 + max((c.row for c in self.cells.values()), default=0)
        cols = 1 + max((c.col for c in self.cells.values()), default=0)
        return rows, cols

    def cell_rect(self, name: str) -> QRect:
        """The cell's whole area: title line and frame."""
        rows, cols = self._shape()
        cell = self.cells[name]
        w = (self.width() - GAP * (cols - 1)) // cols
        h = (self.height() - GAP * (rows - 1)) // rows
        return QRect(cell.col * (w + GAP), cell.row * (h + GAP), w, h)

    def frame_rect(self, name: str) -> QRect:
        """Where the frame itself is drawn: the largest square under the title, centred."""
        area = self.cell_rect(name).adjusted(0, TITLE_H, 0, 0)
        side = max(min(area.width(), area.height()) - 2, 1)
        left = area.left() + (area.width() - side) // 2
        top = area.top() + (area.height() - side) // 2
        return QRect(left, top, side, side)

    def cell_at(self, pos: QPoint) -> str | None:
        for name in self.cells:
            if self.cell_rect(name).contains(pos):
                return name
        return None

    # Drawing and tooltips.
    def paintEvent(self, ev: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(ev.rect(), QColor(colors.BASE))
        metrics = QFontMetrics(painter.font())
        for name, cell in self.cells.items():
            rect = self.cell_rect(name)
            if not rect.intersects(ev.rect()):
                continue
            if ev.region().intersects(QRect(rect.left(), rect.top(), rect.width(), TITLE_H)):
                self._draw_title(painter, metrics, rect, cell)
            target = self.frame_rect(name)
            if not cell.image.isNull():
                painter.drawImage(target, cell.image)  # no smoothing: nearest neighbour
            elif cell.note:
                painter.setPen(QColor(colors.MUTED))
                flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
                painter.drawText(target.adjusted(6, 6, -6, -6), flags, cell.note)
            painter.setPen(QColor(colors.ACCENT) if name == self.large else BORDER)
            painter.drawRect(target.adjusted(-1, -1, 0, 0))
        painter.end()

    def _draw_title(self, painter: QPainter, metrics: QFontMetrics, rect: QRect, cell) -> None:
        line = QRect(rect.left(), rect.top(), rect.width(), TITLE_H)
        suffix = f"  ·  {cell.suffix}" if cell.suffix else ""
        full = metrics.horizontalAdvance(cell.title + suffix)
        left = line.left() + max((line.width() - full) // 2, 0)
        title_w = min(metrics.horizontalAdvance(cell.title), line.width())
        painter.setPen(QColor(cell.suffix_colour or colors.TEXT))
        title_line = QRect(left, line.top(), title_w, line.height())
        painter.drawText(title_line, Qt.AlignmentFlag.AlignVCenter, cell.title)
        if suffix:
            rest = QRect(left + title_w, line.top(), line.right() - left - title_w, line.height())
            text = metrics.elidedText(suffix, Qt.TextElideMode.ElideRight, rest.width())
            painter.drawText(rest, Qt.AlignmentFlag.AlignVCenter, text)

    def event(self, ev: QEvent) -> bool:
        if ev.type() == QEvent.Type.ToolTip and isinstance(ev, QHelpEvent):
            name = self.cell_at(ev.pos())
            if name is None:
                QToolTip.hideText()
            else:
                tip = f"{self.cells[name].tooltip}\nClick to show it large."
                QToolTip.showText(ev.globalPos(), tip, self)
            return True
        return super().event(ev)

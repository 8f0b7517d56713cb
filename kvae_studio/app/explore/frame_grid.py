"""A grid of labelled frames, each one ViewBox with one ImageItem, redrawn with setImage.

All frames share one graphics scene (one GraphicsLayoutWidget), which is cheaper than a
widget per frame and keeps their sizes equal. Pixels are drawn nearest-neighbour with
fixed levels (0, 1): a frame never changes brightness because another pixel changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from kvae_studio.app import theme
from kvae_studio.app.qtsetup import pg


class _TitleItem(pg.LabelItem):
    """A cell title that never widens its column: columns stay equal, long titles elide."""

    def updateMin(self) -> None:
        super().updateMin()
        self.setMinimumWidth(0)
        self.setPreferredWidth(0)


@dataclass
class _Cell:
    label: pg.LabelItem
    box: pg.ViewBox
    image: pg.ImageItem
    title: str


class FrameGrid(pg.GraphicsLayoutWidget):
    """Named frames laid out in a grid; `show(name, array)` updates one of them."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent=parent)
        self.setBackground(theme.BASE)
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.ci.setSpacing(2)
        self.cells: dict[str, _Cell] = {}
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def add(self, name: str, title: str, tooltip: str, row: int, col: int) -> None:
        label = _TitleItem(title, color=theme.TEXT, size="9pt")
        self.addItem(label, row=2 * row, col=col)
        box = self.addViewBox(row=2 * row + 1, col=col, lockAspect=True, enableMouse=False)
        box.invertY(True)
        box.setMenuEnabled(False)
        box.setDefaultPadding(0.0)
        box.setToolTip(tooltip)
        label.setToolTip(tooltip)
        box.setBorder(pg.mkPen("#34373c"))
        image = pg.ImageItem(axisOrder="row-major")
        box.addItem(image)
        self.cells[name] = _Cell(label, box, image, title)
        grid = self.ci.layout
        grid.setColumnStretchFactor(col, 1)
        grid.setRowStretchFactor(2 * row, 0)
        grid.setRowStretchFactor(2 * row + 1, 1)

    def show_frame(self, name: str, frame: np.ndarray | None) -> None:
        """Grey (H, W) or RGB (H, W, 3) in [0, 1]; None blanks the cell."""
        cell = self.cells[name]
        if frame is None:
            cell.image.clear()
            return
        first = cell.image.image is None or cell.image.image.shape != frame.shape
        cell.image.setImage(frame, autoLevels=False, levels=(0.0, 1.0))
        if first:
            cell.box.autoRange(padding=0.0)

    def set_title(self, name: str, suffix: str = "", colour: str | None = None) -> None:
        cell = self.cells[name]
        text = cell.title if not suffix else f"{cell.title}  ·  {suffix}"
        cell.label.setText(text, color=colour or theme.TEXT, size="9pt")

    def image(self, name: str) -> np.ndarray | None:
        """What the cell shows now (for tests and exports)."""
        return self.cells[name].image.image

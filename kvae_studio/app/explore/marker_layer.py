"""Sets of fixed-size markers drawn by one graphics item.

The a-space plot shows five sets of points (the encoder's codes, seen and hidden; the
smoothed codes, seen and hidden; the current frame's ring), about sixty markers. As five
pyqtgraph ScatterPlotItems they cost about 0.19 ms each per repaint, mostly Python
bookkeeping around a handful of markers (culling, pixel vectors, the symbol atlas); one
item that maps the points to pixels with numpy and draws them directly costs a fraction
of that, and every edit repaints the plot.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QBrush, QPainter, QPen, QTransform

from kvae_studio.app.plot_parts import PixelSizedItem
from kvae_studio.app.qtsetup import pg


@dataclass
class MarkerSet:
    """One style of marker and its points; `setData(x, y)` replaces the points."""

    layer: MarkerLayer
    size: float  # diameter (or side) in pixels
    pen: QPen
    brush: QBrush
    symbol: str  # "o" or "s"
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    y: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def setData(self, x=(), y=()) -> None:
        self.x = np.asarray(x, dtype=np.float64).ravel()
        self.y = np.asarray(y, dtype=np.float64).ravel()
        self.layer.points_changed()

    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x, self.y


class MarkerLayer(PixelSizedItem):
    """Marker sets drawn in the order they were added (the last on top)."""

    def __init__(self) -> None:
        super().__init__()
        self.sets: list[MarkerSet] = []

    def add(self, size: float, pen, brush, symbol: str = "o") -> MarkerSet:
        marker_set = MarkerSet(self, size, pg.mkPen(pen), pg.mkBrush(brush), symbol)
        self.sets.append(marker_set)
        return marker_set

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        values = [s.x if ax == 0 else s.y for s in self.sets]
        values = np.concatenate(values) if values else np.zeros(0)
        values = values[np.isfinite(values)]
        if values.size == 0:
            return None, None
        return float(values.min()), float(values.max())

    def pad_pixels(self) -> float:
        return max((s.size for s in self.sets), default=0.0) + 4.0  # pen widths

    def paint(self, painter: QPainter, *args) -> None:
        transform = painter.transform()
        painter.resetTransform()  # draw in pixels, so that markers keep their size
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for marker_set in self.sets:
            if marker_set.x.size:
                _draw(painter, transform, marker_set)
        painter.setTransform(transform)


def _draw(painter: QPainter, transform: QTransform, marker_set: MarkerSet) -> None:
    x, y = marker_set.x, marker_set.y
    px = transform.m11() * x + transform.m21() * y + transform.dx()
    py = transform.m12() * x + transform.m22() * y + transform.dy()
    ok = np.isfinite(px) & np.isfinite(py)
    half = marker_set.size / 2
    painter.setPen(marker_set.pen)
    painter.setBrush(marker_set.brush)
    if marker_set.symbol == "s":
        for a, b in zip(px[ok].tolist(), py[ok].tolist(), strict=True):
            painter.drawRect(QRectF(a - half, b - half, 2 * half, 2 * half))
    else:
        for a, b in zip(px[ok].tolist(), py[ok].tolist(), strict=True):
            painter.drawEllipse(QPointF(a, b), half, half)

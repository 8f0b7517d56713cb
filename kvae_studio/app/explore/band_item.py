"""Filled areas of the time plots, each drawn as one path item.

`BandItem`: the region between two curves. pyqtgraph's FillBetweenItem follows two
curve items and rebuilds its path whenever either changes, so a band cost three items
and two rebuilds per update; this item takes both edges at once.

`ColumnShade`: full-height columns over runs of frames (the hidden ones). Bars a million
units tall (the previous way to reach beyond any data) cost the raster engine about a
millisecond each repaint to clip; these columns span the plot's current range only.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from kvae_studio.app.qtsetup import pg


class BandItem(QGraphicsPathItem):
    """The region between `lower` and `upper` over `x`; NaN points are left out."""

    def __init__(self, brush: QBrush) -> None:
        super().__init__()
        self.setBrush(brush)
        self.setPen(QPen(Qt.PenStyle.NoPen))

    def set_band(self, x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        ok = np.isfinite(x) & np.isfinite(lower) & np.isfinite(upper)
        x, lower, upper = x[ok], lower[ok], upper[ok]
        path = QPainterPath()
        if len(x) > 1:
            # the outline written into the polygon's memory (no QPointF per point)
            polygon = pg.functions.create_qpolygonf(2 * len(x))
            points = pg.functions.ndarray_from_qpolygonf(polygon)
            points[:, 0] = np.concatenate([x, x[::-1]])
            points[:, 1] = np.concatenate([upper, lower[::-1]])
            path.addPolygon(polygon)
            path.closeSubpath()
        self.setPath(path)


class ColumnShade(QGraphicsPathItem):
    """Columns [t - 1/2, t + 1/2] over the given frames, one rectangle per run."""

    def __init__(self, brush: QBrush) -> None:
        super().__init__()
        self.setBrush(brush)
        self.setPen(QPen(Qt.PenStyle.NoPen))

    def set_columns(self, frames: np.ndarray, y_range: tuple[float, float]) -> None:
        path = QPainterPath()
        frames = np.asarray(frames, dtype=int)
        if frames.size:
            breaks = np.flatnonzero(np.diff(frames) > 1)
            starts = np.concatenate([[frames[0]], frames[breaks + 1]])
            ends = np.concatenate([frames[breaks], [frames[-1]]])
            y0, y1 = y_range
            for a, b in zip(starts, ends, strict=True):
                path.addRect(QRectF(a - 0.5, y0, b - a + 1.0, y1 - y0))
        self.setPath(path)

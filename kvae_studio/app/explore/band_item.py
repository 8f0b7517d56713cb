"""A filled band between two curves, drawn as one closed path.

pyqtgraph's FillBetweenItem follows two curve items and rebuilds its path whenever
either changes, so a band costs three items and two rebuilds per update; this item
takes both edges at once and builds its polygon once.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QBrush, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsPathItem


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
            xs = np.concatenate([x, x[::-1]])
            ys = np.concatenate([upper, lower[::-1]])
            path.addPolygon(QPolygonF([QPointF(a, b) for a, b in zip(xs, ys, strict=True)]))
            path.closeSubpath()
        self.setPath(path)

"""Media icons drawn with QPainter: crisp at any scale and independent of installed fonts.

Fusion's standard media icons are dark grey on the dark theme, and glyphs such as ⏮ are
missing from many fonts; four polygons are simpler than shipping image files.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap, QPolygonF

from kvae_studio import colors

SIZE = 32


def _polygon(*points: tuple[float, float]) -> QPolygonF:
    return QPolygonF([QPointF(x * SIZE, y * SIZE) for x, y in points])


def media_icon(kind: str, colour: str = colors.TEXT) -> QIcon:
    """'play', 'pause', 'previous' or 'next' (a bar and a triangle: jump to an end), or
    'step-back' or 'step' (a small triangle: one frame)."""
    pixmap = QPixmap(SIZE, SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour))
    if kind == "play":
        painter.drawPolygon(_polygon((0.3, 0.2), (0.8, 0.5), (0.3, 0.8)))
    elif kind == "pause":
        painter.drawRect(QRectF(0.27 * SIZE, 0.22 * SIZE, 0.16 * SIZE, 0.56 * SIZE))
        painter.drawRect(QRectF(0.57 * SIZE, 0.22 * SIZE, 0.16 * SIZE, 0.56 * SIZE))
    elif kind == "previous":
        painter.drawRect(QRectF(0.22 * SIZE, 0.25 * SIZE, 0.1 * SIZE, 0.5 * SIZE))
        painter.drawPolygon(_polygon((0.78, 0.25), (0.36, 0.5), (0.78, 0.75)))
    elif kind == "next":
        painter.drawRect(QRectF(0.68 * SIZE, 0.25 * SIZE, 0.1 * SIZE, 0.5 * SIZE))
        painter.drawPolygon(_polygon((0.22, 0.25), (0.64, 0.5), (0.22, 0.75)))
    elif kind == "step-back":
        painter.drawPolygon(_polygon((0.65, 0.28), (0.33, 0.5), (0.65, 0.72)))
    elif kind == "step":
        painter.drawPolygon(_polygon((0.35, 0.28), (0.67, 0.5), (0.35, 0.72)))
    else:
        painter.end()
        raise ValueError(f"unknown icon {kind!r}")
    painter.end()
    return QIcon(pixmap)


def dice_icon(colour: str = colors.TEXT) -> QIcon:
    """A die showing five: the random-seed button (no font has to carry ⚄)."""
    pixmap = QPixmap(SIZE, SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QColor(colour))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(QRectF(0.15 * SIZE, 0.15 * SIZE, 0.7 * SIZE, 0.7 * SIZE), 4, 4)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour))
    for x, y in ((0.32, 0.32), (0.68, 0.32), (0.5, 0.5), (0.32, 0.68), (0.68, 0.68)):
        painter.drawEllipse(QPointF(x * SIZE, y * SIZE), 0.06 * SIZE, 0.06 * SIZE)
    painter.end()
    return QIcon(pixmap)

"""A plot item whose marks keep their size in pixels while its points are in data units
(Explore's markers, the Dynamics tab's point cloud).

Why a class: such an item's bounding rect is its data's extent widened by its marks'
size in pixels, which depends on the view's scale; it must be recomputed when the view
zooms, or a mark at the edge is clipped, and cached otherwise, since pyqtgraph asks for
it at every repaint.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF

from kvae_studio.app.qtsetup import pg


class PixelSizedItem(pg.GraphicsObject):
    """Subclasses give `dataBounds` (pyqtgraph's) and `pad_pixels`, and call
    `points_changed` when their points change."""

    def __init__(self) -> None:
        super().__init__()
        self._bounds = QRectF()

    def pad_pixels(self) -> float:
        """How far marks reach past their points, in pixels."""
        raise NotImplementedError

    def points_changed(self) -> None:
        self.prepareGeometryChange()
        self._bounds = QRectF()  # computed again when asked
        self.update()

    def viewTransformChanged(self) -> None:  # the pixels' size in data units changed
        self.prepareGeometryChange()
        self._bounds = QRectF()
        super().viewTransformChanged()

    def boundingRect(self) -> QRectF:
        if self._bounds.isNull():
            (x0, x1), (y0, y1) = self.dataBounds(0), self.dataBounds(1)
            if x0 is None or y0 is None:
                return QRectF()
            px, py = self.pixelVectors()
            pad = self.pad_pixels()
            dx = 0.0 if px is None else px.length() * pad
            dy = 0.0 if py is None else py.length() * pad
            self._bounds = QRectF(x0 - dx, y0 - dy, x1 - x0 + 2 * dx, y1 - y0 + 2 * dy)
        return self._bounds

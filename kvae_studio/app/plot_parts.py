"""What the studio adds to pyqtgraph's plots: their look, and items that repaint cheaply.

- `plain_plot`: how the analysis plots look (Explore's time plots and a-space, the
  Dynamics views);
- `cache_axes`: axes drawn through a pixmap cache, kept out of every repaint;
- `FastCurveItem`: a curve whose data bounds cost a tenth of pyqtgraph's;
- `PixelSizedItem`: the base of items whose marks keep their size in pixels.

Each says below why it exists; the numbers are the Explore view's, measured in software
rendering (docs/display-rate.md).
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsItem

from kvae_studio.app.qtsetup import pg

GRID_ALPHA = 0.12


def plain_plot(
    plot: pg.PlotItem,
    bottom: str | None = None,
    left: str | None = None,
    grid: bool = True,
    to_scale: bool = False,
) -> pg.PlotItem:
    """Style `plot` as the studio's analysis plots look: no context menu or auto-range
    button (the views have their own controls), plain tick numbers (no "×1e-3" SI
    prefixes on a code axis), a faint grid, axes drawn through a pixmap cache
    (`cache_axes`), and, with `to_scale`, for a plot of one space such as a-space or the
    complex plane, equal units on both axes. Axis labels `bottom` and `left` where given."""
    if bottom is not None:
        plot.setLabel("bottom", bottom)
    if left is not None:
        plot.setLabel("left", left)
    if grid:
        plot.showGrid(x=True, y=True, alpha=GRID_ALPHA)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    cache_axes(plot)
    for axis in ("bottom", "left"):
        plot.getAxis(axis).enableAutoSIPrefix(False)
    if to_scale:
        plot.getViewBox().setAspectLocked(True)
    return plot


def cache_axes(plot: pg.PlotItem) -> None:
    """Render `plot`'s axes (with their grid lines) through a pixmap cache.

    Why: with a grid, an AxisItem's bounding rect covers the whole plot, so any change
    inside the plot (a curve's setData, the current-frame marker moving) repaints both
    axes, and replaying their tick labels is the slowest part of a repaint in software
    rendering (measured in the Explore view: 29 of 58 ms per edit, 5 ms per axis). A
    device-coordinate cache turns those repaints into a pixmap copy; the axis is redrawn
    only when it calls `update()` itself (range, ticks, style) or its geometry changes,
    which Qt tracks.
    """
    for entry in plot.axes.values():
        entry["item"].setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


class FastCurveItem(pg.PlotCurveItem):
    """`pg.PlotCurveItem` with the common case of `dataBounds` done directly.

    Why: every edit gives the Explore plots' twelve curves new data, and the first paint
    after it asks each for its bounding rect: pyqtgraph's `dataBounds` runs nanmin and
    nanmax under a `warnings.catch_warnings()` block per axis, about 44 us per curve
    (half a millisecond per edit). NaN-skipping `fmin`/`fmax` reductions need no warning
    filter; anything unusual (a percentile, an orthogonal range, infinite values, a pen
    that scales with the data) still goes through pyqtgraph's own code.
    """

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        cache = self._boundsCache[ax]
        if cache is not None and cache[0] == (frac, orthoRange):
            return cache[1]
        x, y = self.getData()
        pen = self.opts["pen"]
        usual = (
            frac >= 1.0
            and orthoRange is None
            and ax in (0, 1)
            and self.opts["fillLevel"] is None
            and (pen is None or pen.isCosmetic())
            and self.opts["shadowPen"] is None
        )
        if not usual or x is None or len(x) == 0:
            return super().dataBounds(ax, frac, orthoRange)
        values = x if ax == 0 else y
        bounds = (float(np.fmin.reduce(values)), float(np.fmax.reduce(values)))
        if not (math.isfinite(bounds[0]) and math.isfinite(bounds[1])):
            return super().dataBounds(ax, frac, orthoRange)  # all NaN, or infinities
        self._boundsCache[ax] = [(frac, orthoRange), bounds]
        return bounds


class PixelSizedItem(pg.GraphicsObject):
    """A plot item whose marks keep their size in pixels while its points are in data
    units (Explore's markers, the Dynamics tab's point cloud). Subclasses give
    `dataBounds` (pyqtgraph's) and `pad_pixels`, and call `points_changed` when their
    points change.

    Why a class: such an item's bounding rect is its data's extent widened by its marks'
    size in pixels, which depends on the view's scale; it must be recomputed when the
    view zooms, or a mark at the edge is clipped, and cached otherwise, since pyqtgraph
    asks for it at every repaint.
    """

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

"""The a-space: where the encoder, the filter, the smoother and the roll-out put the object.

Every item is created once and updated with setData. Frames the model saw are filled
dots; hidden ones hollow squares, so a gap bridged by the dynamics is visible at once.
The smoothed codes carry their 2-sigma ellipses (from C Sigma_{t|T} C^T + R), and a ring
marks the current frame.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import QWidget

from kvae_studio import colors
from kvae_studio.app.explore.marker_layer import MarkerLayer
from kvae_studio.app.plot_parts import FastCurveItem, cache_axes
from kvae_studio.app.plot_ranges import settled_box
from kvae_studio.app.qtsetup import pg
from kvae_studio.services.inference import InferenceResult


def _nan_joined(outlines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, P, 2) outlines -> x, y with a NaN between outlines (one curve, connect='finite')."""
    if len(outlines) == 0:
        return np.zeros(0), np.zeros(0)
    padded = np.concatenate([outlines, np.full((len(outlines), 1, 2), np.nan)], axis=1)
    flat = padded.reshape(-1, 2)
    return flat[:, 0], flat[:, 1]


class ASpacePlot(pg.PlotWidget):
    """a_t in the plane of its first two dimensions; a click on a frame's point (smoothed
    or encoded) asks for that frame (`frameClicked`)."""

    frameClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent=parent, background=colors.BASE)
        plot = self.getPlotItem()
        plot.setTitle(_legend_title(), size="8pt")  # a legend in the title never hides data
        self._title_lines = 1
        plot.setLabel("bottom", "a₁")
        plot.setLabel("left", "a₂")
        frame_plot(plot, grid_alpha=0.12)
        cache_axes(plot)
        plot.setMenuEnabled(False)
        plot.getViewBox().setAspectLocked(True)
        plot.getViewBox().disableAutoRange()
        for axis in ("bottom", "left"):
            plot.getAxis(axis).enableAutoSIPrefix(False)
        self.setToolTip(
            "Where the model thinks the object is, in its 2-d code a_t.\n"
            "White dots: the encoder on frames the model saw (hollow grey: hidden frames'\n"
            "codes, shown for reference only). Blue: smoothed a_t with 2σ ellipses; filled =\n"
            "seen, hollow squares = hidden. Orange dashes: filtered. Green: free-running\n"
            "generation. The ring marks the current frame; click a point to show its frame."
        )
        self.scene().sigMouseClicked.connect(self._clicked)
        # Curves with one style each (no per-point pens): an update is only setData, the
        # cheapest path through pyqtgraph; the point sets share one item (marker_layer).
        self.ellipses_seen = self._curve(pg.mkPen(colors.SMOOTHED + "55", width=1), "finite")
        self.ellipses_hidden = self._curve(pg.mkPen(colors.HIDDEN + "66", width=1), "finite")
        dotted, dashed = pg.QtCore.Qt.PenStyle.DotLine, pg.QtCore.Qt.PenStyle.DashLine
        self.generated = self._curve(pg.mkPen(colors.GENERATED, width=1.6, style=dotted))
        self.filtered = self._curve(pg.mkPen(colors.FILTERED, width=1.4, style=dashed))
        self.smoothed_line = self._curve(pg.mkPen(colors.SMOOTHED, width=1.8))
        markers = self.markers = MarkerLayer()  # every point set in one item: cheaper
        self.getPlotItem().addItem(markers)
        self.smoothed_seen = markers.add(
            8, pg.mkPen(colors.SMOOTHED, width=1.5), pg.mkBrush(colors.SMOOTHED), "o"
        )
        self.smoothed_hidden = markers.add(
            8, pg.mkPen(colors.HIDDEN, width=1.5), pg.mkBrush(None), "s"
        )
        self.encoder_hidden = markers.add(7, pg.mkPen(colors.BASELINE, width=1), None, "o")
        self.encoder = markers.add(6, pg.mkPen(None), pg.mkBrush(colors.ENCODER), "o")
        self.marker = markers.add(18, pg.mkPen(colors.CURRENT, width=2), None, "o")  # on top
        self._result: InferenceResult | None = None
        self._refit = True  # the next result sets the range afresh (`forget_range`)

    def _curve(self, pen, connect: str = "all") -> pg.PlotCurveItem:
        curve = FastCurveItem(pen=pen, antialias=True, connect=connect)
        self.getPlotItem().addItem(curve)
        return curve

    def resizeEvent(self, ev) -> None:
        # The key's lines first: the plot takes the new size below, and a one-line key
        # wider than the plot would hold the plot wider than the widget, its right part
        # (axis, ticks, key) cut off.
        width = self.width() if ev is None else ev.size().width()  # None: pyqtgraph's own
        lines = 2 if width < NARROW else 1
        if lines != getattr(self, "_title_lines", lines):  # (not while being built)
            self._title_lines = lines
            self.getPlotItem().setTitle(_legend_title(lines), size="8pt")
        super().resizeEvent(ev)

    def show_result(self, result: InferenceResult) -> None:
        self._result = result
        seen = result.fully_visible_frames
        a_enc, a_s, a_f = result.a_encoded, result.a_smoothed, result.a_filtered
        xy = _xy
        self.encoder.setData(*xy(a_enc[seen]))
        self.encoder_hidden.setData(*xy(a_enc[~seen]))
        self.smoothed_line.setData(*xy(a_s))
        self.smoothed_seen.setData(*xy(a_s[seen]))
        self.smoothed_hidden.setData(*xy(a_s[~seen]))
        self.filtered.setData(*xy(a_f))
        if result.a_generated is None:
            self.generated.setData([], [])
        else:
            self.generated.setData(*xy(result.a_generated[result.n_init - 1 :]))
        self.ellipses_seen.setData(*_nan_joined(result.ellipses[seen]))
        self.ellipses_hidden.setData(*_nan_joined(result.ellipses[~seen]))
        self._fit(result)

    def _fit(self, result: InferenceResult) -> None:
        """Set the range from the data at once (auto-range would find it only while
        painting and then paint the plot a second time), and only when the data has
        left it or shrunk well inside it, so the axes hold still while the user paints."""
        outlines = result.ellipses.reshape(-1, result.ellipses.shape[-1])
        parts = [result.a_encoded, result.a_smoothed, result.a_filtered, outlines]
        if result.a_generated is not None:
            parts.append(result.a_generated)
        points = np.concatenate([np.stack(_xy(p), axis=1) for p in parts])
        points = points[np.isfinite(points).all(axis=1)]
        if len(points):
            (x0, y0), (x1, y1) = points.min(axis=0).tolist(), points.max(axis=0).tolist()
            box = self.getPlotItem().getViewBox()
            current = [(math.inf, -math.inf)] * 2 if self._refit else box.viewRange()
            target = settled_box(current, (x0, x1), (y0, y1))
            if target is not None:
                box.setRange(xRange=target[0], yRange=target[1], padding=0.0)
                box.updateMatrix()  # now, not while painting (which would paint again)
                self._refit = False

    def forget_range(self) -> None:
        """Fit the next result, not keep this range: another model's a-space is another
        plane, whose codes would sit small in this one's range."""
        self._refit = True

    def _clicked(self, ev) -> None:
        """The frame of the smoothed or encoded point nearest the click, within
        `PICK_RADIUS` pixels; a click elsewhere changes nothing."""
        box = self.getPlotItem().getViewBox()
        if (
            self._result is None
            or ev.button() != Qt.MouseButton.LeftButton
            or not box.sceneBoundingRect().contains(ev.scenePos())
        ):
            return
        best, frame = PICK_RADIUS, None
        for codes in (self._result.a_smoothed, self._result.a_encoded):
            for t, (x, y) in enumerate(zip(*_xy(codes), strict=True)):
                if not (np.isfinite(x) and np.isfinite(y)):
                    continue
                d = box.mapViewToScene(QPointF(float(x), float(y))) - ev.scenePos()
                if (distance := float(np.hypot(d.x(), d.y()))) <= best:
                    best, frame = distance, t
        if frame is not None:
            self.frameClicked.emit(frame)

    def set_current(self, frame: int) -> None:
        if self._result is None or frame >= len(self._result.a_smoothed):
            self.marker.setData([], [])
            return
        x, y = _xy(self._result.a_smoothed[frame : frame + 1])
        self.marker.setData(x=x, y=y)


NARROW = 380  # below this width (px) the key takes two lines rather than overflow
PICK_RADIUS = 12.0  # px: how near a point a click must be to show its frame
RIGHT_MARGIN = 14  # px right of the plot: room for half the last tick label on the a₁ axis
LABEL_OVERFLOW = 12  # px a tick label may reach past the end of its axis


def frame_plot(plot: pg.PlotItem, grid_alpha: float) -> None:
    """A border on all four sides and a grid, with room for the end ticks' labels.

    The top and right axes (no values) draw the border and the grid: an axis that draws
    a grid may not draw a label past its ends, so the bottom and left axes draw only
    their values and may let the last one reach `LABEL_OVERFLOW` px into the margin.
    """
    plot.showGrid(x=True, y=True, alpha=grid_alpha)
    for name in ("top", "right"):
        plot.showAxis(name)
        plot.getAxis(name).setStyle(showValues=False, tickLength=0)
    plot.getAxis("right").setWidth(RIGHT_MARGIN)
    for name in ("bottom", "left"):
        plot.getAxis(name).setGrid(False)
        plot.getAxis(name).setStyle(hideOverlappingLabels=LABEL_OVERFLOW)


def _legend_title(lines: int = 1) -> str:
    """The key as the plot's title, on one line or (a narrow plot) two."""
    entries = [
        (colors.SMOOTHED, "━ smoothed"),
        (colors.FILTERED, "╌ filtered"),
        (colors.GENERATED, "┈ generated"),
        (colors.ENCODER, "● encoder"),
    ]
    spans = [f"<span style='color:{c}'>{t}</span>" for c, t in entries]
    if lines == 1:
        return "&nbsp; ".join(spans)
    return "&nbsp; ".join(spans[:2]) + "<br>" + "&nbsp; ".join(spans[2:])


def _xy(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First two columns of codes (N, da); a 1-d code is drawn on y = 0."""
    if a.shape[1] >= 2:
        return a[:, 0], a[:, 1]
    return a[:, 0], np.zeros(len(a))

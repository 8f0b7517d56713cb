"""The latent state and the regime weights over time, with the hidden frames shaded.

z_t: each component's smoothed mean with a ±2σ band (from Sigma_{t|T}). alpha_t: the K
regime weights stacked to 1, so a switch of regime reads as one colour giving way to
another. Both plots share the time axis and a vertical line at the current frame.
Items are created once (per number of components) and updated with setData.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QWidget

from kvae_studio import colors
from kvae_studio.app.explore.band_item import BandItem, ColumnShade
from kvae_studio.app.plot_parts import FastCurveItem, cache_axes
from kvae_studio.app.plot_ranges import settled
from kvae_studio.app.qtsetup import pg
from kvae_studio.services.inference import InferenceResult


class TimePlots(pg.GraphicsLayoutWidget):
    """z_t (top) and alpha_t (bottom) against the frame index; a click on either asks
    for the frame under the pointer (`frameClicked`)."""

    frameClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent=parent)
        self._steps = 0
        self._refit = True  # the next result sets the z range afresh (`forget_range`)
        self.setBackground(colors.BASE)
        self.ci.setContentsMargins(2, 2, 6, 2)
        self.z_plot = self.addPlot(row=0, col=0)
        self.alpha_plot = self.addPlot(row=1, col=0)
        self.alpha_plot.setXLink(self.z_plot)
        self.ci.layout.setRowStretchFactor(0, 3)
        self.ci.layout.setRowStretchFactor(1, 2)
        for plot, title in ((self.z_plot, "z_t (smoothed, ±2σ)"), (self.alpha_plot, "α_t")):
            plot.setTitle(title, color=colors.TEXT, size="9pt")
            plot.showGrid(x=True, y=True, alpha=0.12)
            cache_axes(plot)
            plot.setMenuEnabled(False)
            plot.getViewBox().setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.getAxis("left").setWidth(34)
        self.alpha_plot.setYRange(0.0, 1.0, padding=0.02)
        for plot in (self.z_plot, self.alpha_plot):
            plot.getViewBox().disableAutoRange()
        self.alpha_plot.setLabel("bottom", "frame")
        self.setToolTip(
            "Top: each component of the LGSSM state z_t, smoothed, with its ±2σ band.\n"
            "Bottom: α_t, the weights of the K linear regimes, stacked (they sum to 1).\n"
            "Red shading: frames the model did not see whole. White line: current frame.\n"
            "Click to show that frame."
        )
        self.scene().sigMouseClicked.connect(self._clicked)
        self.shades = []
        self.markers = []
        for plot in (self.z_plot, self.alpha_plot):
            shade = ColumnShade(pg.mkBrush(colors.HIDDEN + "26"))
            plot.addItem(shade, ignoreBounds=True)
            marker = pg.InfiniteLine(
                angle=90, movable=False, pen=pg.mkPen(colors.CURRENT + "aa", width=1.2)
            )
            plot.addItem(marker, ignoreBounds=True)
            self.shades.append(shade)
            self.markers.append(marker)
        self.z_curves: list[pg.PlotCurveItem] = []
        self.z_bands: list[BandItem] = []
        self.alpha_edges: list[pg.PlotCurveItem] = []
        self.alpha_fills: list[BandItem] = []

    def show_result(self, result: InferenceResult) -> None:
        t = np.arange(len(result.z_smoothed), dtype=np.float64)
        self._steps = len(t)
        self._ensure_items(result.z_smoothed.shape[1], result.alpha.shape[1])
        mean, std = result.z_smoothed, result.z_smoothed_std
        for i, curve in enumerate(self.z_curves):
            curve.setData(t, mean[:, i])
            self.z_bands[i].set_band(t, mean[:, i] - 2 * std[:, i], mean[:, i] + 2 * std[:, i])
        stacked = np.cumsum(result.alpha, axis=1)
        below = np.zeros_like(t)
        for k, edge in enumerate(self.alpha_edges):
            edge.setData(t, stacked[:, k])
            self.alpha_fills[k].set_band(t, below, stacked[:, k])
            below = stacked[:, k]
        # Ranges set here, not by auto-range, which would paint the plots twice; the
        # z range only when the bands have left it or shrunk well inside it.
        if tuple(self.z_plot.getViewBox().viewRange()[0]) != (-0.5, len(t) - 0.5):
            self.z_plot.setXRange(-0.5, len(t) - 0.5, padding=0.0)
        band = np.concatenate([mean + 2 * std, mean - 2 * std])
        band = band[np.isfinite(band)]
        kept = self.z_plot.getViewBox().viewRange()[1]
        current = (math.inf, -math.inf) if self._refit else tuple(kept)
        target = settled(current, float(band.min()), float(band.max())) if band.size else None
        if target is not None:
            self.z_plot.setYRange(*target, padding=0.0)
            self._refit = False
        unseen = np.flatnonzero(result.evaluated)
        for plot, shade in zip((self.z_plot, self.alpha_plot), self.shades, strict=True):
            y0, y1 = plot.getViewBox().viewRange()[1]
            margin = y1 - y0  # the columns reach past the plot's edges, never short of them
            shade.set_columns(unseen, (y0 - margin, y1 + margin))
            plot.getViewBox().updateMatrix()  # now, not while painting (a second paint)

    def forget_range(self) -> None:
        """Fit the z range to the next result, not keep this one: another model's z_t
        means something else, and its range held the new one's curves squeezed."""
        self._refit = True

    def set_current(self, frame: int) -> None:
        for marker in self.markers:
            marker.setValue(frame)

    def _clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or self._steps == 0:
            return
        for plot in (self.z_plot, self.alpha_plot):
            box = plot.getViewBox()
            if box.sceneBoundingRect().contains(ev.scenePos()):
                x = box.mapSceneToView(ev.scenePos()).x()
                self.frameClicked.emit(int(np.clip(round(x), 0, self._steps - 1)))
                return

    def _ensure_items(self, dim_z: int, regimes: int) -> None:
        """Create curves the first time (or when another model has other sizes)."""
        if len(self.z_curves) != dim_z:
            old = (*self.z_curves, *self.z_bands)
            self.z_curves, self.z_bands = _replace_series(
                self.z_plot, old, dim_z, colors.COMPONENTS, fill_alpha="30", width=1.6
            )
        if len(self.alpha_edges) != regimes:
            old = (*self.alpha_edges, *self.alpha_fills)
            self.alpha_edges, self.alpha_fills = _replace_series(
                self.alpha_plot, old, regimes, colors.REGIMES, fill_alpha="90", width=1.0
            )


def _replace_series(
    plot: pg.PlotItem,
    old: tuple,
    count: int,
    palette: tuple[str, ...],
    fill_alpha: str,
    width: float,
) -> tuple[list[pg.PlotCurveItem], list[BandItem]]:
    """Take `old` items off `plot`; add `count` curves, each over a band of its colour
    (the palette's, cycled; `fill_alpha` two hex digits). Returns (curves, bands)."""
    for item in old:
        plot.removeItem(item)
    curves, bands = [], []
    for i in range(count):
        colour = palette[i % len(palette)]
        band = BandItem(pg.mkBrush(colour + fill_alpha))
        curve = FastCurveItem(pen=pg.mkPen(colour, width=width), antialias=True)
        plot.addItem(band)
        plot.addItem(curve)
        bands.append(band)
        curves.append(curve)
    return curves, bands

"""How the error grows with time: Hamming distance per step across the data set.

For one mask (planning: the frames after the first few hidden; random: each frame
dropped with probability p), the median over sequences of each estimate's error at
each step, with the band between the quartiles: generated (the model running on its
own), filtered (past frames only), smoothed (all seen frames) and the baseline. Steps
no sequence hid are gaps. The mask controls ask for another curve (`maskRequested`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLabel, QWidget

from kvae_studio import colors
from kvae_studio.app.dynamics.exports import (
    CSV_FILTER,
    PNG_FILTER,
    ExportButton,
    save_widget_png,
    write_csv,
)
from kvae_studio.app.dynamics.view_frame import view_frame
from kvae_studio.app.plot_parts import cache_axes
from kvae_studio.app.qtsetup import pg
from kvae_studio.services.dynamics import ERROR_KINDS, ErrorOverTime

SERIES = {  # ErrorOverTime's kinds -> the palette's series names
    "generated": "generation",
    "filtered": "filtering",
    "smoothed": "smoothing",
    "baseline": "baseline",
}
DRAW_ORDER = ("baseline", "generated", "smoothed", "filtered")  # filtered over generated
WIDTH = {"baseline": 1.2, "generated": 3.0, "smoothed": 2.0, "filtered": 2.0}
BAND_ALPHA = 48  # of 255: four bands overlap and stay readable
Y_LABEL = "Hamming distance (fraction of incorrect pixels)"
MASKS = {  # kind: (menu text, value label, minimum, maximum, step, decimals, default)
    "planning": ("Planning: hide the frames after the first few", "hidden steps", 1, 200, 1, 0, 12),
    "random": ("Random: drop each frame with probability p", "p", 0.0, 1.0, 0.05, 2, 0.5),
}


def colour(kind: str) -> str:
    return colors.SERIES[SERIES[kind]]


class ErrorOverTimeView(QWidget):
    """`set_error(e)`: median and quartile band per kind; the mask controls."""

    maskRequested = Signal(str, float)  # "planning" or "random", hidden steps or p

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.data: ErrorOverTime | None = None
        self.plot_widget = pg.PlotWidget(background=colors.BASE)
        plot = self.plot = self.plot_widget.getPlotItem()
        plot.setLabel("bottom", "step")
        plot.setLabel("left", Y_LABEL)
        plot.getAxis("left").enableAutoSIPrefix(False)
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setMenuEnabled(False)
        cache_axes(plot)
        plot.setTitle(self.key_html(), size="9pt")
        self.medians: dict[str, pg.PlotCurveItem] = {}
        self.lower: dict[str, pg.PlotCurveItem] = {}
        self.upper: dict[str, pg.PlotCurveItem] = {}
        self.bands: dict[str, pg.FillBetweenItem] = {}
        for kind in DRAW_ORDER:
            edge = pg.mkPen(colour(kind) + "60", width=0.8)
            lower = pg.PlotCurveItem(pen=edge, connect="finite")
            upper = pg.PlotCurveItem(pen=edge, connect="finite")
            fill = pg.mkColor(colour(kind))
            fill.setAlpha(BAND_ALPHA)
            band = pg.FillBetweenItem(lower, upper, brush=pg.mkBrush(fill))
            median = pg.PlotCurveItem(
                pen=pg.mkPen(colour(kind), width=WIDTH[kind]), connect="finite", name=kind
            )
            for item in (band, lower, upper, median):
                plot.addItem(item)
            self.medians[kind], self.lower[kind], self.upper[kind] = median, lower, upper
            self.bands[kind] = band
        self.plot_widget.setToolTip(
            "Hamming distance to the true frame at each step: the median over the data\n"
            "set's sequences (line) and the quartiles (band). Generated: the model on its\n"
            "own after the last seen frame; filtered: past frames only; smoothed: every\n"
            "seen frame; baseline: a per-sequence reference, the same at every step."
        )
        self.mask = QComboBox()
        for kind, (text, *_rest) in MASKS.items():
            self.mask.addItem(text, kind)
        self.mask.setToolTip("Which frames the model is not shown")
        self.value_label = QLabel()
        self.value = QDoubleSpinBox()
        self.value.setKeyboardTracking(False)  # ask once the number is typed, not per key
        self.value.setToolTip("Planning: how many frames are hidden; random: the drop probability")
        self.mask.currentIndexChanged.connect(self._mask_kind_changed)
        self.value.valueChanged.connect(self._request)
        self.caption = QLabel()
        self.caption.setStyleSheet(f"color: {colors.MUTED}")
        self.export = ExportButton(
            [
                ("Picture (PNG)…", PNG_FILTER, "error_over_time.png", self.export_png),
                ("Quartiles (CSV)…", CSV_FILTER, "error_over_time.csv", self.export_csv),
            ]
        )
        controls = [QLabel("Mask:"), self.mask, self.value_label, self.value]
        view_frame(self, [*controls, (self.caption, 1), self.export], self.plot_widget)
        self._configure_value(self.mask_kind(), emit=False)
        self._set_caption()

    @staticmethod
    def key_html() -> str:
        entries = [f"<span style='color:{colour(k)}'>━ {k}</span>" for k in ERROR_KINDS]
        entries.append(f"<span style='color:{colors.MUTED}'>bands: quartiles</span>")
        return "&nbsp;&nbsp;".join(entries)

    # -- mask -------------------------------------------------------------------------------

    def mask_kind(self) -> str:
        return self.mask.currentData()

    def mask_choice(self) -> tuple[str, float]:
        """The mask the controls show: kind and value."""
        return self.mask_kind(), float(self.value.value())

    def set_mask(self, kind: str, value: float) -> None:
        """Show `kind` and `value` in the controls without asking for a curve."""
        self.mask.blockSignals(True)
        self.mask.setCurrentIndex(max(0, self.mask.findData(kind)))
        self.mask.blockSignals(False)
        self._configure_value(kind, emit=False)
        self.value.blockSignals(True)
        self.value.setValue(value)
        self.value.blockSignals(False)

    def _configure_value(self, kind: str, emit: bool) -> None:
        _text, label, low, high, step, decimals, default = MASKS[kind]
        self.value_label.setText(label + ":")
        self.value.blockSignals(True)
        self.value.setDecimals(decimals)
        self.value.setRange(low, high)
        self.value.setSingleStep(step)
        self.value.setValue(default)
        self.value.blockSignals(False)
        if emit:
            self._request()

    def _mask_kind_changed(self) -> None:
        self._configure_value(self.mask_kind(), emit=True)

    def _request(self) -> None:
        self.maskRequested.emit(self.mask_kind(), float(self.value.value()))

    # -- data -------------------------------------------------------------------------------

    def set_error(self, e: ErrorOverTime) -> None:
        """Draw each kind's median and quartile band against the step."""
        self.data = e
        x = np.asarray(e.steps, dtype=float)
        for kind in DRAW_ORDER:
            if kind not in e.median:
                for curve in (self.medians[kind], self.lower[kind], self.upper[kind]):
                    curve.setData([], [])
                continue
            self.lower[kind].setData(x, np.asarray(e.lower_quartile[kind], float))
            self.upper[kind].setData(x, np.asarray(e.upper_quartile[kind], float))
            self.medians[kind].setData(x, np.asarray(e.median[kind], float))
        self.set_mask(e.mask, e.value)
        self._fit(x, e)
        self._set_caption()

    def _fit(self, x: np.ndarray, e: ErrorOverTime) -> None:
        """From zero up: an error is read against no error."""
        tops = [np.asarray(v, float) for v in e.upper_quartile.values()]
        tops += [np.asarray(v, float) for v in e.median.values()]
        top = max((float(np.nanmax(v)) for v in tops if np.isfinite(v).any()), default=1.0)
        x_lo, x_hi = (float(x.min()), float(x.max())) if len(x) else (0.0, 1.0)
        self.plot.getViewBox().setRange(
            xRange=(x_lo - 0.5, x_hi + 0.5),
            yRange=(0.0, 1.05 * top if top > 0 else 1.0),
            padding=0.0,
        )

    def band(self, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """The lower and upper edges of `kind`'s band, as drawn."""
        return self.lower[kind].getData()[1], self.upper[kind].getData()[1]

    def clear(self) -> None:
        self.data = None
        for kind in DRAW_ORDER:
            for curve in (self.medians[kind], self.lower[kind], self.upper[kind]):
                curve.setData([], [])
        self._set_caption()

    def _set_caption(self) -> None:
        e = self.data
        if e is None:
            self.caption.setText("No curves yet.")
        elif e.mask == "planning":
            text = f"Planning mask, {e.value:g} hidden steps"
            if _same_curve(e, "generated", "filtered"):
                text += (
                    " · generated = filtered: with nothing seen after the first frames, the"
                    " filter's frames are the roll-out from them"
                )
            self.caption.setText(text)
        else:
            self.caption.setText(f"Random mask, p = {e.value:g}")

    # -- exports ----------------------------------------------------------------------------

    def export_png(self, path: str | Path) -> None:
        """The plot as on screen."""
        save_widget_png(self.plot_widget, path)

    def export_csv(self, path: str | Path) -> None:
        """mask, value, step, kind, median, lower_quartile, upper_quartile."""
        e = self.data
        header = ["mask", "value", "step", "kind", "median", "lower_quartile", "upper_quartile"]
        rows = []
        if e is not None:
            for kind in ERROR_KINDS:
                if kind not in e.median:
                    continue
                for i, step in enumerate(np.asarray(e.steps).tolist()):
                    rows.append(
                        [
                            e.mask,
                            float(e.value),
                            int(step),
                            kind,
                            float(e.median[kind][i]),
                            float(e.lower_quartile[kind][i]),
                            float(e.upper_quartile[kind][i]),
                        ]
                    )
        write_csv(path, header, rows)


def _same_curve(e: ErrorOverTime, one: str, other: str) -> bool:
    """Whether two kinds' medians coincide (one curve hides the other)."""
    if one not in e.median or other not in e.median:
        return False
    a, b = np.asarray(e.median[one], float), np.asarray(e.median[other], float)
    return bool(np.allclose(a, b, equal_nan=True))

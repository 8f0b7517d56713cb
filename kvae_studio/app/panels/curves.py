"""Live training curves: ELBO and its six terms, optimiser state, per-epoch test figures.

Why it is built this way:

- Every curve is created once and updated with `setData`; appending a step only writes
  into growable numpy buffers. Redraws happen on a 10 Hz timer and only when new data
  arrived, and only for the visible tab, so a fast GPU run (hundreds of steps per
  second) cannot saturate the GUI thread.
- Raw per-step values are drawn faint and a debiased exponential moving average over
  them bold (the TensorBoard convention), so the trend is readable through mini-batch
  noise while outliers stay visible. Non-finite values (skipped steps) leave gaps.
- The x axis of every plot is the global optimiser step, so per-epoch points line up
  with the step curves and a resumed run continues the same axis.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kvae_studio import colors
from kvae_studio.app.panels.plotting import (
    add_legend,
    make_layout_widget,
    make_plot_widget,
    palette_colors,
    pen,
    style_plot,
)
from kvae_studio.app.qtsetup import pg

TERMS = ("log_px", "log_qa", "transition", "emission", "initial", "entropy")
STEP_SERIES = ("elbo", *TERMS, "grad_norm", "sequences_per_second")
HAMMING = ("smoothing", "filtering", "generation", "baseline")
VALIDATION_FIGURES = (
    "planning smoothing",
    "planning filtering",
    "random smoothing",
    "random filtering",
)
"""The figures a validation score may average, as the epoch records name them."""
REDRAW_MS = 100


class Series:
    """A growable (x, y) buffer with an incrementally updated moving average."""

    def __init__(self, capacity: int = 1024):
        self.x = np.empty(capacity)
        self.y = np.empty(capacity)
        self.smooth = np.empty(capacity)
        self.n = 0
        self._avg = 0.0
        self._norm = 0.0

    def append(self, x: float, y: float, weight: float) -> None:
        if self.n == len(self.x):
            for name in ("x", "y", "smooth"):
                old = getattr(self, name)
                new = np.empty(2 * len(old))
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        self.x[self.n] = x
        self.y[self.n] = y
        if math.isfinite(y):
            self._avg = weight * self._avg + (1 - weight) * y
            self._norm = weight * self._norm + (1 - weight)
        self.smooth[self.n] = self._avg / self._norm if self._norm > 0 else math.nan
        self.n += 1

    def resmooth(self, weight: float, max_x: float = math.inf) -> None:
        """Recompute the average with a new weight, keeping only points up to `max_x`."""
        keep = int(np.searchsorted(self.x[: self.n], max_x, side="right"))
        x, y = self.x[:keep].copy(), self.y[:keep].copy()
        self.clear()
        for xi, yi in zip(x, y, strict=True):
            self.append(xi, yi, weight)

    def clear(self) -> None:
        self.n, self._avg, self._norm = 0, 0.0, 0.0

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x[: self.n], self.y[: self.n]

    def smoothed(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x[: self.n], self.smooth[: self.n]


class ScientificAxis(pg.AxisItem):
    """Tick labels with three significant digits: 0.007 and 7e-05 stay readable where
    the default SI-prefixed labels read 0 or m-units."""

    def __init__(self, orientation: str = "left", **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values, scale, spacing):
        if self.logMode:
            return [f"{10.0**v:.3g}" for v in values]
        step = abs(spacing * scale)
        out = []
        for v in values:
            x = v * scale
            # As many significant digits as the tick spacing needs: 9.99, 10, 10.01.
            need = math.ceil(math.log10(abs(x) / step)) + 1 if x and step else 1
            out.append(f"{x:.{min(max(need, 1), 8)}g}")
        return out


def fit_flat_range(plot: pg.PlotItem, y: np.ndarray) -> None:
    """A curve that barely varies (a constant learning rate) gets a range around its
    value rather than pyqtgraph's +-0.5 around it, where 0.007 reads as 0."""
    finite = y[np.isfinite(y)]
    if plot.getAxis("left").logMode or finite.size == 0:
        return
    low, high = float(finite.min()), float(finite.max())
    if high - low <= 1e-3 * max(abs(high), abs(low)) and high != 0:
        pad = 0.5 * max(abs(high), abs(low))
        plot.setYRange(low - pad, high + pad, padding=0)
    else:
        plot.enableAutoRange(axis="y")


class TrainingCurves(QWidget):
    """Tabs of plots fed with step and epoch records (dicts shaped like log.jsonl lines)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.weight = 0.9
        self.steps = {name: Series() for name in (*STEP_SERIES, "lr")}
        self.epoch_series = {
            name: Series(64)
            for name in (
                "train_elbo",
                "test_elbo",
                *[f"h_{h}" for h in HAMMING],
                *TERMS,
                "validation",
                *[f"v_{v}" for v in VALIDATION_FIGURES],
            )
        }
        self._curves: dict[str, list[tuple[pg.PlotDataItem, Series, str]]] = {}
        self._dirty: set[str] = set()
        self._flat_fit: dict[int, pg.PlotItem] = {}  # id(series) -> plot ranged by its data
        self.log_plots: list[pg.PlotItem] = []  # positive values that may span decades

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self._build_elbo_tab()
        self._build_terms_tab()
        self._build_optimiser_tab()
        self._build_test_tab()
        self._build_validation_tab()
        self.tabs.currentChanged.connect(self._on_tab)

        self.smoothing = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=0.99, singleStep=0.05)
        self.smoothing.setValue(self.weight)
        self.smoothing.setToolTip("Weight of the moving average drawn over the raw steps (0 = off)")
        self.smoothing.valueChanged.connect(self.set_smoothing)
        self.log_y = QCheckBox("Log scale")
        self.log_y.setObjectName("logScale")
        self.log_y.setToolTip(
            "Logarithmic y axis for the learning rate, gradient norm, speed and the test "
            "and validation Hamming distances (values that span decades)"
        )
        self.log_y.toggled.connect(self.set_log_y)
        bar = QHBoxLayout()
        bar.addWidget(self.log_y)
        bar.addStretch(1)
        bar.addWidget(QLabel("Smoothing"))
        bar.addWidget(self.smoothing)
        bar.setContentsMargins(0, 0, 0, 0)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(bar)

        # One-shot, armed by new data: at most 10 redraws a second, and no wake-ups at all
        # while nothing arrives (each wake-up takes the GIL from the training thread).
        self._timer = QTimer(self, interval=REDRAW_MS, singleShot=True)
        self._timer.timeout.connect(self.flush)

    # Construction.
    def _track(self, tab: int, item: pg.PlotDataItem, series: Series, which: str) -> None:
        self._curves.setdefault(str(tab), []).append((item, series, which))

    def _step_pair(self, tab: int, plot: pg.PlotItem, name: str, label: str) -> None:
        color = colors.SERIES.get(name, colors.ACCENT)
        # Not antialiased (whatever the global option): thousands of points redrawn live.
        raw = plot.plot(pen=pen(color, 1.0, alpha=90), connect="finite", antialias=False)
        smooth = plot.plot(pen=pen(color, 1.8), name=label, connect="finite", antialias=False)
        for item in (raw, smooth):
            item.setDownsampling(auto=True, method="peak")
            item.setClipToView(True)
        self._track(tab, raw, self.steps[name], "raw")
        self._track(tab, smooth, self.steps[name], "smooth")

    def _epoch_curve(
        self, tab: int, plot: pg.PlotItem, name: str, color: str, label: str, dash: bool = False
    ) -> None:
        item = plot.plot(
            pen=pen(color, 1.5, dash=dash),
            symbol="o",
            symbolSize=6,
            symbolBrush=color,
            symbolPen=None,
            name=label,
            connect="finite",
        )
        self._track(tab, item, self.epoch_series[name], "raw")

    def _build_elbo_tab(self) -> None:
        widget = make_plot_widget("ELBO per observed frame (higher is better)")
        plot = widget.getPlotItem()
        add_legend(plot, widget, offset=(-10, -10))
        plot.setLabel("bottom", "step")
        tab = self.tabs.addTab(widget, "ELBO")
        self._step_pair(tab, plot, "elbo", "train (per step)")
        self._epoch_curve(tab, plot, "train_elbo", colors.SERIES["train"], "train (epoch mean)")
        self._epoch_curve(tab, plot, "test_elbo", colors.SERIES["test"], "test (scale 1.0)")
        self.elbo_plot = widget

    def _build_terms_tab(self) -> None:
        layout = make_layout_widget()
        tab = self.tabs.addTab(layout, "ELBO terms")
        first = None
        for i, name in enumerate(TERMS):
            plot = layout.addPlot(row=i // 3, col=i % 3, title=name)
            style_plot(plot, layout)
            plot.setTitle(name, color=palette_colors(layout)[1], size="9pt")
            if first is None:
                first = plot
            else:
                plot.setXLink(first)
            self._step_pair(tab, plot, name, name)
            self._epoch_curve(tab, plot, name, colors.SERIES[name], f"{name} (epoch mean)")
        self.terms_layout = layout

    def _build_optimiser_tab(self) -> None:
        layout = make_layout_widget()
        tab = self.tabs.addTab(layout, "Optimiser")
        fg = palette_colors(layout)[1]
        lr = layout.addPlot(row=0, col=0, axisItems={"left": ScientificAxis()})
        lr.setTitle("learning rate", color=fg, size="9pt")
        self.lr_plot = lr
        item = lr.plot(pen=pen(colors.SERIES["log_qa"], 1.8), stepMode=None)
        self._track(tab, item, self.steps["lr"], "raw")
        grad = layout.addPlot(row=1, col=0, axisItems={"left": ScientificAxis()})
        grad.setTitle("gradient norm (before clipping)", color=fg, size="9pt")
        self._step_pair(tab, grad, "grad_norm", "gradient norm")
        speed = layout.addPlot(row=2, col=0, axisItems={"left": ScientificAxis()})
        speed.setTitle("sequences per second", color=fg, size="9pt")
        self._step_pair(tab, speed, "sequences_per_second", "sequences/s")
        for plot in (lr, grad, speed):
            style_plot(plot, layout)
        grad.setXLink(lr)
        speed.setXLink(lr)
        speed.setLabel("bottom", "step")
        self.log_plots += [lr, grad, speed]
        for name, plot in (("lr", lr), ("grad_norm", grad), ("sequences_per_second", speed)):
            self._flat_fit[id(self.steps[name])] = plot

    def _figures_tab(self, title: str, name: str) -> tuple[int, pg.PlotItem, QWidget]:
        """A tab of per-epoch Hamming distances against the step, log-scalable."""
        widget = make_plot_widget(title)
        plot = widget.getPlotItem()
        add_legend(plot, widget)
        plot.setLabel("bottom", "step")
        plot.getAxis("left").enableAutoSIPrefix(False)
        self.log_plots.append(plot)
        return self.tabs.addTab(widget, name), plot, widget

    def _build_test_tab(self) -> None:
        tab, plot, widget = self._figures_tab(
            "Hamming distance on the test set, planning mask (lower is better)", "Test set"
        )
        for h in HAMMING:
            self._epoch_curve(tab, plot, f"h_{h}", colors.SERIES[h], h)
        self.test_plot = widget

    def _build_validation_tab(self) -> None:
        """The score that picks best.safetensors (--keep-best) and the figures it averages:
        whether a run is trading smoothing for filtering shows here, not in the score."""
        tab, plot, widget = self._figures_tab(
            "Validation score and its figures (lower is better)", "Validation"
        )
        self._epoch_curve(tab, plot, "validation", colors.COMPONENTS[4], "score")
        for name in VALIDATION_FIGURES:
            mask, estimate = name.split()
            label = f"{estimate}, {'planning' if mask == 'planning' else 'random 0.5'}"
            color = colors.SERIES[estimate]
            self._epoch_curve(tab, plot, f"v_{name}", color, label, dash=mask == "random")
        self.validation_plot = widget

    # Data in.
    def clear(self) -> None:
        for series in (*self.steps.values(), *self.epoch_series.values()):
            series.clear()
        self._dirty = set(self._curves)
        self.flush()

    def add_step(self, record: dict) -> None:
        step = float(record["step"])
        terms = record.get("terms", {})
        w = self.weight
        for name in ("elbo", *TERMS):
            self.steps[name].append(step, _number(terms.get(name)), w)
        self.steps["grad_norm"].append(step, _number(record.get("grad_norm")), w)
        speed = _number(record.get("sequences_per_second"))
        self.steps["sequences_per_second"].append(step, speed if speed > 0 else math.nan, w)
        self.steps["lr"].append(step, _number(record.get("lr")), 0.0)
        self._mark_dirty()

    def add_steps(self, records: Iterable[dict]) -> None:
        for record in records:
            self.add_step(record)

    def add_epoch(self, record: dict) -> None:
        """Per-epoch figures; each term's epoch mean is taken from the steps already added."""
        step = float(record["step"])
        previous = self.epoch_series["train_elbo"]
        start = previous.x[previous.n - 1] if previous.n else -math.inf
        for name in TERMS:
            x, y = self.steps[name].data()
            inside = y[(x > start) & (x <= step)]
            inside = inside[np.isfinite(inside)]
            mean = float(inside.mean()) if inside.size else math.nan
            self.epoch_series[name].append(step, mean, 0.0)
        self.epoch_series["train_elbo"].append(step, _number(record.get("train_elbo")), 0.0)
        test = record.get("test_elbo")
        if test is not None:
            self.epoch_series["test_elbo"].append(step, _number(test), 0.0)
        for h, value in (record.get("hamming") or {}).items():
            if f"h_{h}" in self.epoch_series:
                self.epoch_series[f"h_{h}"].append(step, _number(value), 0.0)
        validation = record.get("validation") or {}
        if "score" in validation and validation.get("metric") != "elbo":  # an ELBO: ELBO tab
            self.epoch_series["validation"].append(step, _number(validation["score"]), 0.0)
        for name, value in (validation.get("figures") or {}).items():
            if f"v_{name}" in self.epoch_series:
                self.epoch_series[f"v_{name}"].append(step, _number(value), 0.0)
        self._mark_dirty()

    def truncate(self, step: int) -> None:
        """Forget points after `step` (a resumed run restarts from its checkpoint)."""
        for name, series in self.steps.items():
            series.resmooth(self.weight if name in STEP_SERIES else 0.0, max_x=step)
        for series in self.epoch_series.values():
            series.resmooth(0.0, max_x=step)
        self._mark_dirty()

    def set_log_y(self, on: bool) -> None:
        for plot in self.log_plots:
            plot.setLogMode(y=bool(on))
            plot.enableAutoRange(axis="y")
        self._mark_dirty()
        self.flush()

    def set_smoothing(self, weight: float) -> None:
        self.weight = float(weight)
        for name in STEP_SERIES:
            self.steps[name].resmooth(self.weight)
        self._mark_dirty()
        self.flush()

    # Queries (tests, status line).
    def step_count(self) -> int:
        return self.steps["elbo"].n

    def epoch_count(self) -> int:
        return self.epoch_series["train_elbo"].n

    def last_step(self) -> int:
        s = self.steps["elbo"]
        return int(s.x[s.n - 1]) if s.n else 0

    # Drawing.
    def _mark_dirty(self) -> None:
        self._dirty.update(self._curves)
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Push new data to the visible tab's curves (called at 10 Hz)."""
        key = str(self.tabs.currentIndex())
        if key not in self._dirty:
            return
        self._dirty.discard(key)
        for item, series, which in self._curves.get(key, []):
            x, y = series.data() if which == "raw" else series.smoothed()
            item.setData(x, y)
            if (plot := self._flat_fit.get(id(series))) is not None and which == "raw":
                fit_flat_range(plot, y)

    def _on_tab(self, _index: int) -> None:
        self.flush()


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan

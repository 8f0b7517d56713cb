"""The paper's imputation figure: Hamming distance against hidden steps and drop probability.

Two plots side by side, like Figure 3 of Fraccaro et al. (2017): planning masks with 1
to 15 hidden steps, and random masks with drop probability 0.1 to 1.0. Each model gets
smoothing, filtering, generation and the baseline in fixed colours; a second model is
drawn dashed with hollow markers so the two read apart at a glance. The paper's box
numbers (kvae-model.md, section 11) can be overlaid, dotted, as a yardstick.

The key is a line of coloured text above the plots, never a legend box over the data.
On planning masks filtering equals generation by construction (no frame after the first
four is seen before the hidden ones), so generation is drawn first and wider, filtering
on top of it: both stay visible, and the key says why they coincide.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kvae_studio import colors
from kvae_studio.app.panels.plotting import COLORS, make_plot_widget, pen
from kvae_studio.services.sweep_results import SweepResults, SweepRows
from model.sweep_csv import PAPER_FIGURE_3_BOX

METRICS = ("smoothing", "filtering", "generation", "baseline")
DRAW_ORDER = ("baseline", "generation", "smoothing", "filtering")  # filtering over generation
WIDTH = {"baseline": 1.2, "generation": 4.0, "smoothing": 2.0, "filtering": 2.0}
COINCIDE = (
    "planning: filtering equals generation (nothing after the first 4 frames is seen "
    "before the hidden ones)"
)
KINDS = {
    "planning": ("Planning: frames hidden after the first 4", "hidden steps"),
    "random": ("Random: each later frame hidden with probability p", "drop probability p"),
}
Y_LABEL = "fraction of incorrect pixels"


class SweepPlot(QWidget):
    """Holds the sweep results of up to two models and draws them."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.results: SweepResults = {}
        self.show_paper = False
        self.plots = {}
        self.hidden: set[str] = set()  # models whose curves are switched off
        self.key = QLabel()
        self.key.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # One check box per model (shows or hides its curves), then the log scale.
        self.toggles: dict[str, QCheckBox] = {}
        self.toggle_row = QHBoxLayout()
        self.toggle_row.setContentsMargins(0, 0, 0, 0)
        self.toggle_row.addStretch(1)
        self.log_y = QCheckBox("Log scale")
        self.log_y.setObjectName("sweepLogScale")
        self.log_y.setToolTip("Logarithmic y axis: small distances and the baseline together")
        self.log_y.toggled.connect(self.set_log_y)
        self.toggle_row.addWidget(self.log_y)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.key)
        layout.addLayout(self.toggle_row)
        layout.addLayout(row, 1)
        for kind, (title, x_label) in KINDS.items():
            widget = make_plot_widget(title, grid=True)
            item = widget.getPlotItem()
            item.setLabel("bottom", x_label)
            item.setLabel("left", Y_LABEL)
            item.getAxis("left").enableAutoSIPrefix(False)
            self.plots[kind] = widget
            row.addWidget(widget)

    def clear(self) -> None:
        self.results.clear()
        self.hidden.clear()
        for box in self.toggles.values():
            self.toggle_row.removeWidget(box)
            box.deleteLater()
        self.toggles.clear()
        self.redraw()

    def set_result(self, label: str, rows: SweepRows) -> None:
        """A model's rows so far (called again as more points arrive)."""
        self.results[label] = rows
        if label not in self.toggles:
            box = QCheckBox(label)
            box.setChecked(label not in self.hidden)
            box.setToolTip(f"Show or hide the curves of {label}")
            box.toggled.connect(lambda on, name=label: self.set_visible(name, on))
            self.toggle_row.insertWidget(len(self.toggles), box)
            self.toggles[label] = box
        self.redraw()

    def set_visible(self, label: str, visible: bool) -> None:
        (self.hidden.discard if visible else self.hidden.add)(label)
        self.redraw()

    def set_log_y(self, on: bool) -> None:
        for widget in self.plots.values():
            widget.getPlotItem().setLogMode(y=bool(on))

    def set_show_paper(self, show: bool) -> None:
        self.show_paper = show
        self.redraw()

    def point_count(self, kind: str) -> int:
        """Points drawn in one plot (tests)."""
        return sum(
            len(item.xData)
            for item in self.plots[kind].getPlotItem().listDataItems()
            if item.xData is not None
        )

    def key_html(self) -> str:
        """Colours, line styles and models, as one line of rich text above the plots."""
        entries = [f"<span style='color:{COLORS[m]}'>━ {m}</span>" for m in METRICS]
        if self.show_paper:
            entries.append(f"<span style='color:{colors.MUTED}'>╌ the paper's box curves</span>")
        lines = ["&nbsp;&nbsp;".join(entries)]
        labels = list(self.results)
        if len(labels) > 1:
            lines.append(
                f"solid lines, filled dots: <b>{labels[0]}</b> &nbsp;·&nbsp; "
                f"dashed lines, hollow triangles: <b>{labels[1]}</b>"
            )
        elif labels:
            lines.append(f"<b>{labels[0]}</b>")
        if labels:
            lines.append(f"<span style='color:{colors.MUTED}'>{COINCIDE}</span>")
            protocols = sorted(
                {r.get("protocol", "studio") for v in self.results.values() for r in v}
            )
            lines.append(f"scored by the {' and '.join(protocols)} protocol")
        return "<br>".join(lines)

    def redraw(self) -> None:
        self.key.setText(self.key_html())
        for kind, widget in self.plots.items():
            plot = widget.getPlotItem()
            plot.clear()  # a few dozen points, redrawn once per point: clearing is fine
            for index, (label, rows) in enumerate(self.results.items()):
                points = [r for r in rows if r["kind"] == kind]
                if not points or label in self.hidden:
                    continue
                xs = [float(r["x"]) for r in points]
                for metric in DRAW_ORDER:
                    ys = [float(r[metric]) for r in points]
                    color = COLORS[metric]
                    dashed = index > 0
                    plot.plot(
                        xs,
                        ys,
                        pen=pen(color, WIDTH[metric], dash=dashed),
                        symbol="t" if dashed else "o",
                        symbolSize=9 if metric == "generation" else 7,
                        symbolPen=pen(color, 1.2),
                        symbolBrush=None if dashed else color,
                        name=metric,
                    )
            if self.show_paper:
                ref = PAPER_FIGURE_3_BOX[kind]
                for metric in ("smoothing", "filtering"):
                    plot.plot(
                        list(ref["x"]),
                        list(ref[metric]),
                        pen=pen(COLORS[metric], 1.0, alpha=150, dash=True),
                        name=f"paper {metric} (box)",
                    )

    def export_csv(self, path: str | Path) -> None:
        """One line per model and point: model, protocol, kind, x, the four Hamming
        distances; the command line's writer (model.evaluation.write_sweep_csv), so the
        same sweep gives the same bytes (tests/gui/test_sweep_csv_same.py)."""
        from model.sweep_csv import write_sweep_csv

        write_sweep_csv(path, self.results)

    def export_png(self, path: str | Path) -> bool:
        """Both plots as they are on screen, as one image."""
        return self.grab().save(str(path), "PNG")

"""The Train panel's Compare runs tab: the workspace's runs overlaid, as TensorBoard does.

Tick runs in the list; choose the figure (validation score, ELBO, test Hamming distances,
time per epoch) and the x axis (epoch, step or wall time); the pointer's readout says
each run's value at the nearest epoch; Export CSV writes the curves drawn. The numbers
come from `services.run_comparison`; this only draws them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from kvae_studio import colors
from kvae_studio.app.panels.plotting import add_legend, make_plot_widget, pen
from kvae_studio.app.panels.widgets import MessageLabel, make_button
from kvae_studio.app.panels.workspace import Workspace
from kvae_studio.app.qtsetup import pg
from kvae_studio.services.run_comparison import AXES, FIGURES, Curve, run_curve, write_curves_csv

PALETTE = (*colors.COMPONENTS, *colors.REGIMES)
NOT_LOGGED = "Not in the log of"


class RunComparison(QWidget):
    """Runs of the workspace, ticked in a list, drawn on one plot."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.curves: dict[str, Curve] = {}
        self.run_list = QListWidget()
        self.run_list.setObjectName("compareRuns")
        self.run_list.setToolTip("Tick the runs to draw")
        self.run_list.itemChanged.connect(lambda _item: self.redraw())
        self.figure_combo = QComboBox()
        self.figure_combo.setObjectName("compareFigure")
        self.figure_combo.addItems(list(FIGURES))
        self.axis_combo = QComboBox()
        self.axis_combo.setObjectName("compareAxis")
        self.axis_combo.addItems(list(AXES))
        for combo in (self.figure_combo, self.axis_combo):
            combo.currentIndexChanged.connect(lambda _i: self.redraw())
            # Sized by a few characters, not the longest entry: the Train tab shares
            # the window's width with the settings, down to 1024 pixels.
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(8)
        self.csv_button = make_button("Export CSV…", "compareCsvButton", self._save_csv)
        self.readout = QLabel()
        self.readout.setObjectName("compareReadout")
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.message = MessageLabel()

        self.plot_widget = make_plot_widget()
        self.plot = self.plot_widget.getPlotItem()
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        add_legend(self.plot, self.plot_widget)
        self._proxy = pg.SignalProxy(
            self.plot.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse_moved
        )

        bar = QHBoxLayout()
        bar.addWidget(self.figure_combo, 2)
        bar.addWidget(QLabel("against"))
        bar.addWidget(self.axis_combo, 1)
        bar.addWidget(self.csv_button)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(bar)
        right_layout.addWidget(self.plot_widget, 1)
        self.readout.setMinimumWidth(1)  # a long readout is cut, never widens the tab
        right_layout.addWidget(self.readout)
        right_layout.addWidget(self.message)
        split = QSplitter()
        split.addWidget(self.run_list)
        split.addWidget(right)
        split.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        workspace.modelsChanged.connect(self.refresh)
        self.refresh()

    # The runs.
    def refresh(self) -> None:
        """List the workspace's runs, keeping what was ticked."""
        ticked = set(self.ticked_runs())
        self.run_list.blockSignals(True)
        self.run_list.clear()
        for run in self.workspace.runs():
            item = QListWidgetItem(run.name)
            item.setData(Qt.ItemDataRole.UserRole, str(run))
            item.setToolTip(str(run))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = run in ticked
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.run_list.addItem(item)
        self.run_list.blockSignals(False)
        self.redraw()

    def ticked_runs(self) -> list[Path]:
        items = (self.run_list.item(i) for i in range(self.run_list.count()))
        return [
            Path(item.data(Qt.ItemDataRole.UserRole))
            for item in items
            if item.checkState() == Qt.CheckState.Checked
        ]

    # Drawing.
    def redraw(self) -> None:
        figure, axis = self.figure_combo.currentText(), self.axis_combo.currentText()
        self.plot.clear()
        self.curves = {}
        without = []  # runs whose logs do not hold this figure (older logs)
        for i, run in enumerate(self.ticked_runs()):
            curve = run_curve(run, figure, axis)
            if not np.isfinite(curve.y).any():
                without.append(curve.label)
                continue
            self.curves[curve.label] = curve
            color = PALETTE[i % len(PALETTE)]
            self.plot.plot(curve.x, curve.y, pen=pen(color, 1.8), name=curve.label,
                           symbol="o", symbolSize=5, symbolBrush=color, symbolPen=None,
                           connect="finite")  # fmt: skip
        self.plot.setLabel("bottom", axis)
        self.plot.setTitle(figure, color=self.palette().text().color(), size="9pt")
        self.csv_button.setEnabled(bool(self.curves))
        empty = not self.curves and not without and self.run_list.count()
        self.readout.setText("Tick runs to compare them." if empty else "")
        if without:
            self.message.info(f"{NOT_LOGGED} {', '.join(without)}: {figure}.")
        elif self.message.text().startswith(NOT_LOGGED):  # other messages stay
            self.message.info("")

    def show_values_at(self, x: float) -> str:
        """The readout for the pointer at `x`: each run's value at its nearest point."""
        parts = []
        for i, (label, curve) in enumerate(self.curves.items()):
            point = curve.value_at(x)
            if point is not None:
                color = PALETTE[i % len(PALETTE)]
                parts.append(f"<span style='color:{color}'>{label}</span> {point[1]:.5g}")
        axis = self.axis_combo.currentText()
        text = f"{axis} {x:.4g}: " + ", ".join(parts) if parts else ""
        self.readout.setText(text)
        return text

    def _on_mouse_moved(self, event) -> None:
        position = event[0]
        if self.plot.sceneBoundingRect().contains(position):
            self.show_values_at(self.plot.vb.mapSceneToView(position).x())

    # Export.
    def _save_csv(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export curves", "runs.csv", "CSV (*.csv)")
        if name:
            self.export_csv(name)

    def export_csv(self, path: str | Path) -> None:
        figure, axis = self.figure_combo.currentText(), self.axis_combo.currentText()
        try:
            write_curves_csv(path, self.curves, figure, axis)
        except OSError as err:
            self.message.error(f"Could not write {path}: {err.strerror or err}")
            return
        self.message.info(f"Saved {Path(path).name}.")

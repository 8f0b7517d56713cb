"""The K linear regimes: their matrices as Hinton diagrams and numbers, their eigenvalues.

A Hinton diagram shows a matrix at a glance: one square per entry, its area in proportion
to |value| (one scale for all A_k, another for all C_k, so regimes compare), light for
positive and red for negative entries. The same numbers are in a table (3 decimals).
The eigenvalues of each A_k lie in the complex plane beside the unit circle: |λ| is how
much the mode keeps per step (decay inside the circle, growth outside), arg λ how far it
turns per step, so a regime's motion reads from where its eigenvalues sit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from kvae_studio import colors
from kvae_studio.app.dynamics.exports import (
    CSV_FILTER,
    PNG_FILTER,
    ExportButton,
    save_widget_png,
    write_csv,
)
from kvae_studio.app.dynamics.regime_map import regime_key
from kvae_studio.app.dynamics.view_frame import split, view_frame
from kvae_studio.app.plot_parts import plain_plot
from kvae_studio.app.qtsetup import pg
from kvae_studio.services.dynamics import RegimeMatrices

POSITIVE = colors.ENCODER
NEGATIVE = colors.ERROR
FILL = 0.92  # the largest entry's square spans this fraction of its cell


def regime_colour(k: int) -> str:
    return colors.REGIMES[k % len(colors.REGIMES)]


def hinton_sizes(matrix: np.ndarray, largest: float) -> np.ndarray:
    """Square side per entry (cells 1 apart): area in proportion to |value| / largest."""
    if largest <= 0:
        return np.zeros(matrix.shape)
    return FILL * np.sqrt(np.abs(matrix) / largest)


def eigen_tip(x: float, y: float, data: object) -> str:
    """Tooltip of an eigenvalue: regime, λ, decay and rotation per step."""
    k = data[0] if isinstance(data, tuple | list) else data
    modulus = float(np.hypot(x, y))
    angle = float(np.degrees(np.arctan2(y, x)))
    return (
        f"regime {k}: λ = {x:.4f} {'+' if y >= 0 else '−'} {abs(y):.4f}i\n"
        f"|λ| = {modulus:.4f} (kept per step: decay below 1)\n"
        f"arg λ = {angle:.2f}° (rotation per step)"
    )


def _hinton_tip(x: float, y: float, data: object) -> str:
    name, row, col, value = data
    return f"{name}[{row}, {col}] = {value:.4f}"


class RegimesView(QWidget):
    """`set_matrices(m)`: Hinton diagrams of A_k and C_k, a table, the eigenvalues."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.data: RegimeMatrices | None = None
        self.hinton = pg.GraphicsLayoutWidget()
        self.hinton.setBackground(colors.BASE)
        self.hinton.setToolTip(
            "One square per matrix entry, its area in proportion to |value| (one scale for\n"
            "the A's, one for the C's): light = positive, red = negative. Hover a square\n"
            "for its value."
        )
        self.hinton_plots: dict[tuple[str, int], pg.PlotItem] = {}
        self.hinton_items: dict[tuple[str, int], pg.ScatterPlotItem] = {}
        self.eigen = pg.PlotWidget(background=colors.BASE)
        plot = plain_plot(self.eigen.getPlotItem(), "Re λ", "Im λ", to_scale=True)
        angle = np.linspace(0.0, 2 * np.pi, 241)
        self.circle = pg.PlotCurveItem(
            np.cos(angle), np.sin(angle), pen=pg.mkPen(colors.MUTED, width=1.2)
        )
        plot.addItem(self.circle)
        self.eigen_points = pg.ScatterPlotItem(size=11, hoverable=True, tip=eigen_tip)
        plot.addItem(self.eigen_points)
        self.eigen.setToolTip(
            "Eigenvalues of each A_k with the unit circle: |λ| < 1 decays, |λ| > 1 grows,\n"
            "arg λ is the rotation per step. Hover a point for its numbers."
        )
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setToolTip("The entries of A_k (dz × dz) and C_k (da × dz), 3 decimals")
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet(f"color: {colors.MUTED}")
        self.export = ExportButton(
            [
                ("Picture (PNG)…", PNG_FILTER, "regimes.png", self.export_png),
                ("Matrices (CSV)…", CSV_FILTER, "regime_matrices.csv", self.export_csv),
                ("Eigenvalues (CSV)…", CSV_FILTER, "eigenvalues.csv", self.export_eigenvalues_csv),
            ]
        )
        right = split(Qt.Orientation.Vertical, (self.eigen, 3), (self.table, 2))
        self.splitter = split(Qt.Orientation.Horizontal, (self.hinton, 3), (right, 2))
        view_frame(self, [(self.caption, 1), self.export], self.splitter)
        self._set_caption()

    def set_matrices(self, m: RegimeMatrices) -> None:
        """Draw A (K, dz, dz), C (K, da, dz) and their eigenvalues (K, dz)."""
        A, C = np.asarray(m.A, float), np.asarray(m.C, float)
        eig = np.asarray(m.eigenvalues, complex)
        self.data = RegimeMatrices(A, C, eig)
        self._draw_hinton(A, C)
        self._draw_eigenvalues(eig)
        self._fill_table(A, C)
        self._set_caption()

    def clear(self) -> None:
        self.data = None
        self.hinton.clear()
        self.hinton_plots.clear()
        self.hinton_items.clear()
        self.eigen_points.setData([], [])
        self.table.clear()
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self._set_caption()

    def _set_caption(self) -> None:
        m = self.data
        if m is None:
            self.caption.setText("No regimes yet.")
            return
        k, dz, da = m.A.shape[0], m.A.shape[1], m.C.shape[1]
        self.caption.setText(
            f"{k} regimes: z_t = A_k z_(t−1) + noise (dz = {dz}), a_t = C_k z_t + noise "
            f"(da = {da}), mixed by α_t. Squares: area ∝ |value|, light positive, red "
            "negative. " + regime_key(k)
        )

    def _draw_hinton(self, A: np.ndarray, C: np.ndarray) -> None:
        self.hinton.clear()
        self.hinton_plots.clear()
        self.hinton_items.clear()
        positive, negative = pg.mkBrush(POSITIVE), pg.mkBrush(NEGATIVE)
        largest = {"A": float(np.abs(A).max(initial=0.0)), "C": float(np.abs(C).max(initial=0.0))}
        for k in range(A.shape[0]):
            for col, (name, matrices) in enumerate((("A", A), ("C", C))):
                matrix = matrices[k]
                plot = self.hinton.addPlot(row=k, col=col)
                plot.setTitle(
                    f"<span style='color:{regime_colour(k)}'>{name}{k}</span>"
                    f" <span style='color:{colors.MUTED}'>{matrix.shape[0]}×{matrix.shape[1]}"
                    "</span>",
                    size="9pt",
                )
                plot.setMenuEnabled(False)
                plot.hideButtons()
                plot.hideAxis("left")
                plot.hideAxis("bottom")
                box = plot.getViewBox()
                box.setAspectLocked(True)
                box.invertY(True)  # row 0 at the top, as a matrix is written
                box.setMouseEnabled(x=False, y=False)
                rows, cols = matrix.shape
                frame = pg.PlotCurveItem(
                    [-0.5, cols - 0.5, cols - 0.5, -0.5, -0.5],
                    [-0.5, -0.5, rows - 0.5, rows - 0.5, -0.5],
                    pen=pg.mkPen(colors.BORDER, width=1),
                )
                plot.addItem(frame)
                r, c = np.mgrid[0:rows, 0:cols]
                values = matrix.ravel()
                item = pg.ScatterPlotItem(
                    x=c.ravel().astype(float),
                    y=r.ravel().astype(float),
                    size=hinton_sizes(values, largest[name]),
                    symbol="s",
                    pxMode=False,
                    pen=None,
                    brush=[positive if v >= 0 else negative for v in values.tolist()],
                    data=[
                        (f"{name}{k}", int(i), int(j), float(v))
                        for i, j, v in zip(r.ravel(), c.ravel(), values.tolist(), strict=True)
                    ],
                    hoverable=True,
                    tip=_hinton_tip,
                )
                plot.addItem(item)
                self.hinton_plots[(name, k)] = plot
                self.hinton_items[(name, k)] = item

    def _draw_eigenvalues(self, eig: np.ndarray) -> None:
        spots = []
        for k in range(eig.shape[0]):
            brush = pg.mkBrush(regime_colour(k))
            for i, value in enumerate(eig[k].tolist()):
                spots.append(
                    {
                        "pos": (value.real, value.imag),
                        "brush": brush,
                        "pen": pg.mkPen("#000000", width=1),
                        "data": (k, i),
                    }
                )
        self.eigen_points.setData(spots)
        extent = max(1.1, float(np.abs(eig).max(initial=0.0)) * 1.08)
        self.eigen.getPlotItem().getViewBox().setRange(
            xRange=(-extent, extent), yRange=(-extent, extent), padding=0.0
        )
        self.eigen.getPlotItem().setTitle(regime_key(eig.shape[0]), size="9pt")

    def _fill_table(self, A: np.ndarray, C: np.ndarray) -> None:
        k, dz = A.shape[0], A.shape[2]
        rows = [(f"A{i}", i, r, A[i, r]) for i in range(k) for r in range(A.shape[1])]
        rows += [(f"C{i}", i, r, C[i, r]) for i in range(k) for r in range(C.shape[1])]
        self.table.clear()
        self.table.setRowCount(len(rows))
        self.table.setColumnCount(dz)
        self.table.setHorizontalHeaderLabels([f"col {j}" for j in range(dz)])
        self.table.setVerticalHeaderLabels([f"{name} row {r}" for name, _, r, _ in rows])
        for row, (_name, regime, _r, values) in enumerate(rows):
            for col, value in enumerate(values.tolist()):
                cell = QTableWidgetItem(f"{value:.3f}")
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                cell.setToolTip(f"{value:.6g}")
                cell.setForeground(QBrush(QColor(regime_colour(regime))))
                self.table.setItem(row, col, cell)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def table_text(self, row: int, col: int) -> str:
        item = self.table.item(row, col)
        return "" if item is None else item.text()

    def export_png(self, path: str | Path) -> None:
        """Diagrams, eigenvalues and table as on screen."""
        save_widget_png(self.splitter, path)

    def export_csv(self, path: str | Path) -> None:
        """regime, matrix, row, col, value: every entry of every A_k and C_k."""
        rows = []
        m = self.data
        if m is not None:
            for k in range(m.A.shape[0]):
                for name, matrix in (("A", m.A[k]), ("C", m.C[k])):
                    for (r, c), value in np.ndenumerate(matrix):
                        rows.append([k, name, r, c, float(value)])
        write_csv(path, ["regime", "matrix", "row", "col", "value"], rows)

    def export_eigenvalues_csv(self, path: str | Path) -> None:
        """regime, index, real, imag, modulus, angle_deg: each eigenvalue of each A_k."""
        rows = []
        m = self.data
        if m is not None:
            for (k, i), value in np.ndenumerate(m.eigenvalues):
                rows.append(
                    [
                        k,
                        i,
                        float(value.real),
                        float(value.imag),
                        float(abs(value)),
                        float(np.degrees(np.angle(value))),
                    ]
                )
        header = ["regime", "index", "real", "imag", "modulus", "angle_deg"]
        write_csv(path, header, rows)

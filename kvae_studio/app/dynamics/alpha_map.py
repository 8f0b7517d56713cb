"""Where in a-space the dynamics network picks each regime: alpha_k over a grid of codes.

One small image per regime, from dark (weight 0) to the regime's colour (weight 1), its
axes in a-space coordinates so that it lines up with the regime map beside it; the K
plots share their range, so zooming one zooms all. For an MLP network the map is the
network itself (the original's `img_alpha_nn`). An LSTM's weights also depend on what it
has seen: its map is taken in one sequence at one step, named in the caption, and the
step slider asks for another (`stepRequested`).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QSpinBox, QWidget

from kvae_studio import colors
from kvae_studio.app.dynamics.exports import (
    CSV_FILTER,
    PNG_FILTER,
    ExportButton,
    save_widget_png,
    write_csv,
)
from kvae_studio.app.dynamics.view_frame import view_frame
from kvae_studio.app.plot_parts import plain_plot
from kvae_studio.app.qtsetup import pg
from kvae_studio.services.dynamics import AlphaMap


def regime_lut(k: int, n: int = 256) -> np.ndarray:
    """(n, 3) uint8: a ramp from black to regime k's colour."""
    colour = colors.rgb(colors.REGIMES[k % len(colors.REGIMES)])
    ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)[:, None]
    return np.rint(ramp * colour * 255.0).astype(np.uint8)


def grid_rect(xs: np.ndarray, ys: np.ndarray) -> QRectF:
    """The rectangle the grid's cells cover: each grid point at its cell's centre."""
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    dx = (xs[-1] - xs[0]) / (len(xs) - 1) if len(xs) > 1 else 1.0
    dy = (ys[-1] - ys[0]) / (len(ys) - 1) if len(ys) > 1 else 1.0
    return QRectF(xs[0] - dx / 2, ys[0] - dy / 2, dx * len(xs), dy * len(ys))


class AlphaMapView(QWidget):
    """`set_alpha_map(m)`: K images alpha_k(a); the step slider for an LSTM network."""

    stepRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.data: AlphaMap | None = None
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.layout_widget.setBackground(colors.BASE)
        self.layout_widget.setToolTip(
            "α_k(a): the weight the dynamics network gives regime k when the code is a\n"
            "(dark: 0, the regime's colour: 1). Axes in code coordinates, as the regime map."
        )
        self.plots: list[pg.PlotItem] = []
        self.images: list[pg.ImageItem] = []
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet(f"color: {colors.MUTED}")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setTracking(False)  # a drag asks once, on release; keys ask at once
        self.slider.setToolTip(
            "The step of the sequence whose LSTM state the map is taken in (←/→ to step)"
        )
        self.slider.valueChanged.connect(self._step_changed)
        self.step_label = QLabel()
        self.sequence_box = QSpinBox()
        self.sequence_box.setRange(0, 0)
        self.sequence_box.setKeyboardTracking(False)  # typing "12" asks once, not twice
        self.sequence_box.setToolTip("The sequence whose codes make the LSTM's state")
        self.sequence_box.valueChanged.connect(lambda _: self.stepRequested.emit(self.step))
        self.step_row = QWidget()
        row = QHBoxLayout(self.step_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Sequence:"))
        row.addWidget(self.sequence_box)
        row.addWidget(QLabel("Step:"))
        row.addWidget(self.slider, 1)
        row.addWidget(self.step_label)
        self.step_row.setVisible(False)
        self.hover = QLabel()
        self.hover.setStyleSheet(f"color: {colors.MUTED}")
        self.export = ExportButton(
            [
                ("Picture (PNG)…", PNG_FILTER, "alpha_map.png", self.export_png),
                ("Weights on the grid (CSV)…", CSV_FILTER, "alpha_map.csv", self.export_csv),
            ]
        )
        title = QLabel("Regime weights over a-space")
        view_frame(
            self, [title, None, self.export], self.layout_widget,
            self.caption, self.step_row, self.hover,
        )  # fmt: skip
        self.layout_widget.scene().sigMouseMoved.connect(self._hover)
        self._set_caption()

    def set_recurrent(self, recurrent: bool) -> None:
        """Show the step slider (an LSTM network: the map depends on the step)."""
        self.step_row.setVisible(recurrent)

    @property
    def sequence(self) -> int:
        """The sequence whose state the map is asked in."""
        return self.sequence_box.value()

    @property
    def step(self) -> int:
        return self.slider.value()

    def set_sequence_count(self, count: int) -> None:
        self.sequence_box.blockSignals(True)
        self.sequence_box.setRange(0, max(0, count - 1))
        self.sequence_box.blockSignals(False)

    def set_step_range(self, first: int, last: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setRange(first, last)
        self.slider.blockSignals(False)
        self.step_label.setText(str(self.slider.value()))

    def set_step(self, step: int) -> None:
        """Move the slider without asking for a map (the map shown is for `step`)."""
        self.slider.blockSignals(True)
        self.slider.setValue(step)
        self.slider.blockSignals(False)
        self.step_label.setText(str(self.slider.value()))

    def _step_changed(self, step: int) -> None:
        self.step_label.setText(str(step))
        self.stepRequested.emit(step)

    def _ensure_plots(self, k: int) -> None:
        if len(self.plots) == k:
            return
        self.layout_widget.clear()
        self.plots, self.images = [], []
        cols = max(1, math.ceil(math.sqrt(k)))
        for i in range(k):
            plot = self.layout_widget.addPlot(row=i // cols, col=i % cols)
            colour = colors.REGIMES[i % len(colors.REGIMES)]
            plot.setTitle(f"<span style='color:{colour}'>α of regime {i}</span>", size="9pt")
            plain_plot(plot, grid=False, to_scale=True)
            image = pg.ImageItem()
            image.setLookupTable(regime_lut(i))
            plot.addItem(image)
            if self.plots:
                plot.setXLink(self.plots[0])
                plot.setYLink(self.plots[0])
            self.plots.append(plot)
            self.images.append(image)
        if self.plots:
            self.plots[-1].setLabel("bottom", "a₁")
            self.plots[0].setLabel("left", "a₂")

    def set_alpha_map(self, m: AlphaMap) -> None:
        """Draw alpha (K, ny, nx) on the grid xs (nx,) x ys (ny,)."""
        alpha = np.asarray(m.alpha, dtype=np.float32)
        xs, ys = np.asarray(m.xs, float), np.asarray(m.ys, float)
        if len(xs) > 1 and xs[1] < xs[0]:
            xs, alpha = xs[::-1], alpha[:, :, ::-1]
        if len(ys) > 1 and ys[1] < ys[0]:
            ys, alpha = ys[::-1], alpha[:, ::-1, :]
        self.data = AlphaMap(xs, ys, alpha, m.sequence, m.step)
        self._ensure_plots(alpha.shape[0])
        rect = grid_rect(xs, ys)
        for image, weights in zip(self.images, alpha, strict=True):
            image.setImage(weights, autoLevels=False, levels=(0.0, 1.0))
            image.setRect(rect)
        if self.plots:
            self.plots[0].getViewBox().setRange(rect, padding=0.0)
        if m.step is not None:
            self.set_step(m.step)
        self._set_caption()

    def image(self, k: int) -> np.ndarray:
        """The weights regime k's image shows, rows from the smallest a₂ up."""
        return self.images[k].image

    def clear(self) -> None:
        self.data = None
        for image in self.images:
            image.clear()
        self._set_caption()

    def _set_caption(self) -> None:
        m = self.data
        if m is None:
            self.caption.setText("No map yet.")
        elif m.step is None:
            self.caption.setText(
                "The network's weights at each code of the grid (the same for every sequence)."
            )
        else:
            where = "" if m.sequence is None else f"sequence {m.sequence}, "
            self.caption.setText(
                f"In {where}step {m.step}: the LSTM's state after the codes before step "
                f"{m.step}, the grid point standing in for the code at step {m.step}."
            )

    def _hover(self, scene_pos) -> None:
        m = self.data
        if m is None:
            return
        for plot in self.plots:
            box = plot.getViewBox()
            if box.sceneBoundingRect().contains(scene_pos):
                p = box.mapSceneToView(scene_pos)
                i = int(np.argmin(np.abs(m.ys - p.y())))
                j = int(np.argmin(np.abs(m.xs - p.x())))
                if grid_rect(m.xs, m.ys).contains(p):
                    weights = ", ".join(f"{w:.2f}" for w in m.alpha[:, i, j].tolist())
                    self.hover.setText(f"a = ({m.xs[j]:.3g}, {m.ys[i]:.3g}): α = ({weights})")
                    return
        self.hover.setText("")

    def export_png(self, path: str | Path) -> None:
        """The K maps as on screen."""
        save_widget_png(self.layout_widget, path)

    def export_csv(self, path: str | Path) -> None:
        """x, y, alpha_0 .. alpha_(K-1): one line per grid point."""
        m = self.data
        k = 0 if m is None else m.alpha.shape[0]
        rows = []
        if m is not None:
            for i, y in enumerate(m.ys.tolist()):
                for j, x in enumerate(m.xs.tolist()):
                    rows.append([x, y, *m.alpha[:, i, j].astype(float).tolist()])
        write_csv(path, ["x", "y", *(f"alpha_{i}" for i in range(k))], rows)

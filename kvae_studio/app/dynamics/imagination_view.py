"""Imagination: what the model makes of a few sequences when left to run on its own.

Left, the paths in a-space over a faint copy of the regime map: the mean roll-out solid,
the sampled one (with the model's noise) dashed, the encoder's codes of the real
sequence dotted; one sequence at a time is drawn bold (chosen in the list or by clicking
its row of frames). Right, the frames of every sequence over time, one row each, the
whole grid composed in numpy and shown as one image; the scroll bar moves along time.
`export_grid_png` writes that grid, as the original's figure does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QScrollBar,
    QVBoxLayout,
    QWidget,
)

from kvae_studio import colors
from kvae_studio.app.dynamics.exports import (
    CSV_FILTER,
    PNG_FILTER,
    ExportButton,
    gray_image,
    save_image,
    save_widget_png,
    write_csv,
)
from kvae_studio.app.dynamics.point_cloud import PointCloud, PointCloudItem
from kvae_studio.app.dynamics.regime_map import nan_joined
from kvae_studio.app.dynamics.view_frame import split, view_frame
from kvae_studio.app.plot_parts import plain_plot
from kvae_studio.app.qtsetup import pg
from kvae_studio.services.dynamics import Imagination

GAP = 1  # pixels between frames in the grid
GAP_VALUE = 0.25  # their grey
FAINT = 0.22  # opacity of the regime map's points behind the paths


def tile_frames(frames: np.ndarray, gap: int = GAP, gap_value: float = GAP_VALUE) -> np.ndarray:
    """(n, steps, H, W) -> one (n (H + gap) - gap, steps (W + gap) - gap) picture: row i
    holds sequence i's frames in time order, `gap` pixels of `gap_value` between them."""
    n, steps, h, w = frames.shape
    out = np.full((n, h + gap, steps, w + gap), gap_value, dtype=np.float32)
    out[:, :h, :, :w] = np.asarray(frames, np.float32).transpose(0, 2, 1, 3)
    out = out.reshape(n * (h + gap), steps * (w + gap))
    return out[: n * (h + gap) - gap, : steps * (w + gap) - gap]


class ImaginationView(QWidget):
    """`set_imagination(im)`: paths in a-space and the grid of imagined frames."""

    sequenceSelected = Signal(int)  # row (0 .. n-1) of the sequence drawn bold

    def __init__(self, cloud: PointCloud | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.data: Imagination | None = None
        self.selected = 0
        self.cloud = cloud if cloud is not None else PointCloud()
        # a-space
        self.paths_plot = pg.PlotWidget(background=colors.BASE)
        plot = plain_plot(self.paths_plot.getPlotItem(), "a₁", "a₂", to_scale=True)
        plot.setTitle(_paths_key(), size="9pt")
        self.points = PointCloudItem(self.cloud, radius=1.5, opacity=FAINT)
        plot.addItem(self.points)
        dash, dot = Qt.PenStyle.DashLine, Qt.PenStyle.DotLine
        self.curves: dict[str, tuple[pg.PlotCurveItem, pg.PlotCurveItem]] = {}
        styles = {  # all sequences faint, the selected one bold
            "truth": (colors.ENCODER, dot),
            "sampled": (colors.GENERATED, dash),
            "mean": (colors.GENERATED, Qt.PenStyle.SolidLine),
        }
        for kind, (colour, style) in styles.items():
            faint = pg.PlotCurveItem(
                pen=pg.mkPen(colour + "55", width=1.0, style=style), connect="finite"
            )
            bold = pg.PlotCurveItem(
                pen=pg.mkPen(colour, width=2.2, style=style),
                shadowPen=pg.mkPen("#000000a0", width=4),
                connect="finite",
            )
            plot.addItem(faint)
            plot.addItem(bold)
            self.curves[kind] = (faint, bold)
        self.start = pg.ScatterPlotItem(
            size=10, pen=pg.mkPen("#000000"), brush=pg.mkBrush(colors.GENERATED)
        )
        plot.addItem(self.start)
        self.paths_plot.setToolTip(
            "Imagined paths in a-space over the data set's codes (faint, coloured by regime).\n"
            "Solid: the mean roll-out (no noise); dashed: one roll-out with the model's noise;\n"
            "dotted white: the encoder's codes of the real sequence. The dot marks the start."
        )
        # frames
        self.grid = pg.PlotWidget(background=colors.BASE)
        gplot = self.grid.getPlotItem()
        gplot.setMenuEnabled(False)
        gplot.hideButtons()
        gplot.setLabel("bottom", "step")
        gplot.setLabel("left", "sequence")
        box = gplot.getViewBox()
        box.invertY(True)
        box.setMouseEnabled(x=False, y=False)
        box.sigResized.connect(self._apply_scroll)
        self.grid_image = pg.ImageItem()
        self.grid_image.setLevels((0.0, 1.0))
        gplot.addItem(self.grid_image)
        self.row_mark = pg.PlotCurveItem(pen=pg.mkPen(colors.GENERATED, width=2))
        gplot.addItem(self.row_mark)
        self.grid.setToolTip(
            "Each row: one sequence's imagined frames over time (scroll along time below).\n"
            "Click a row to draw its path bold."
        )
        self.grid.scene().sigMouseClicked.connect(self._grid_clicked)
        self.scroll = QScrollBar(Qt.Orientation.Horizontal)
        self.scroll.setToolTip("The first step shown")
        self.scroll.valueChanged.connect(self._apply_scroll)
        self.sampled = QCheckBox("Sampled roll-out")
        self.sampled.setToolTip("Show the roll-out with the model's noise instead of the mean")
        self.sampled.toggled.connect(self._draw_grid)
        self.choice = QComboBox()
        self.choice.setToolTip("The sequence whose paths are drawn bold")
        self.choice.currentIndexChanged.connect(self.select)
        self.caption = QLabel()
        self.caption.setStyleSheet(f"color: {colors.MUTED}")
        self.export = ExportButton(
            [
                ("Picture (PNG)…", PNG_FILTER, "imagination.png", self.export_png),
                ("Grid of frames (PNG)…", PNG_FILTER, "imagination_grid.png", self.export_grid_png),
                ("Paths (CSV)…", CSV_FILTER, "imagination_paths.csv", self.export_csv),
            ]
        )
        controls = [QLabel("Bold:"), self.choice, self.sampled, (self.caption, 1), self.export]
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.grid, 1)
        right_layout.addWidget(self.scroll)
        self.splitter = split(Qt.Orientation.Horizontal, (self.paths_plot, 2), (right, 3))
        view_frame(self, controls, self.splitter)
        self._set_caption()

    def points_changed(self) -> None:
        """The shared regime map's points changed: redraw the faint copy."""
        self.points.points_changed()

    # -- data -------------------------------------------------------------------------------

    def set_imagination(self, im: Imagination) -> None:
        self.data = im
        self.choice.blockSignals(True)
        self.choice.clear()
        for i, s in enumerate(np.asarray(im.sequences).tolist()):
            self.choice.addItem(f"row {i}: sequence {s}")
        self.selected = min(self.selected, max(len(im.sequences) - 1, 0))
        self.choice.setCurrentIndex(self.selected)
        self.choice.blockSignals(False)
        steps = im.mean_frames.shape[1]
        self.scroll.setRange(0, max(steps - 1, 0))
        self._draw_paths()
        self._draw_grid()
        self._set_caption()
        self._fit_paths()

    def clear(self) -> None:
        self.data = None
        self.choice.clear()
        for faint, bold in self.curves.values():
            faint.setData([], [])
            bold.setData([], [])
        self.start.setData([], [])
        self.grid_image.clear()
        self.row_mark.setData([], [])
        self._set_caption()

    def select(self, row: int) -> None:
        """Draw sequence `row`'s paths bold and mark its row of frames."""
        if self.data is None or not 0 <= row < len(self.data.sequences):
            return
        self.selected = row
        if self.choice.currentIndex() != row:
            self.choice.setCurrentIndex(row)  # comes back here once, then stops
            return
        self._draw_paths()
        self._mark_row()
        self.sequenceSelected.emit(row)

    def _set_caption(self) -> None:
        im = self.data
        if im is None:
            self.caption.setText("No imagination yet.")
            return
        n, steps = im.mean_frames.shape[:2]
        self.caption.setText(
            f"{n} sequences, {steps} steps imagined from their first {im.n_init} frames"
        )

    def _draw_paths(self) -> None:
        im = self.data
        if im is None:
            return
        row = self.selected
        kinds = {"truth": im.truth_codes, "sampled": im.sampled_codes, "mean": im.mean_codes}
        for kind, codes in kinds.items():
            faint, bold = self.curves[kind]
            codes = np.asarray(codes, np.float32)
            others = np.delete(codes, row, axis=0) if len(codes) else codes
            faint.setData(*nan_joined(others))
            bold.setData(*nan_joined(codes[row : row + 1]))
        mean = np.asarray(im.mean_codes, np.float32)
        if mean.size:
            self.start.setData(*nan_joined(mean[row : row + 1, :1]))

    def _fit_paths(self) -> None:
        im = self.data
        paths = (im.mean_codes, im.sampled_codes, im.truth_codes)
        parts = [np.asarray(c, float)[..., :2].reshape(-1, 2) for c in paths]
        if self.cloud.count:
            parts.append(np.stack(self.cloud.xy(), axis=1).astype(float))
        points = np.concatenate(parts)
        points = points[np.isfinite(points).all(axis=1)]
        if len(points) and points.shape[1] == 2:
            (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
            self.paths_plot.getPlotItem().getViewBox().setRange(
                xRange=(x0, x1), yRange=(y0, y1), padding=0.05
            )

    def frames_shown(self) -> np.ndarray:
        """(n, steps, H, W): the roll-out the grid shows (mean, or sampled when chosen)."""
        im = self.data
        if im is None:
            return np.zeros((0, 0, 1, 1), np.float32)
        return np.asarray(im.sampled_frames if self.sampled.isChecked() else im.mean_frames)

    def grid_picture(self) -> np.ndarray:
        """The grid of the frames shown, as `tile_frames` composes it."""
        frames = self.frames_shown()
        return tile_frames(frames) if frames.size else np.zeros((0, 0), np.float32)

    def _draw_grid(self) -> None:
        im = self.data
        if im is None:
            return
        picture = self.grid_picture()
        self.grid_image.setImage(picture, autoLevels=False, levels=(0.0, 1.0))
        _n, steps, h, w = self.frames_shown().shape
        axis_left = self.grid.getPlotItem().getAxis("left")
        axis_left.setTicks(
            [[((h + GAP) * i + h / 2, str(s)) for i, s in enumerate(np.asarray(im.sequences))]]
        )
        every = max(1, steps // 16)
        axis_bottom = self.grid.getPlotItem().getAxis("bottom")
        axis_bottom.setTicks([[((w + GAP) * t + w / 2, str(t)) for t in range(0, steps, every)]])
        self._mark_row()
        self._apply_scroll()

    def _mark_row(self) -> None:
        frames = self.frames_shown()
        if self.data is None or not frames.size:
            return
        _n, steps, h, w = frames.shape
        top, bottom = (h + GAP) * self.selected - 0.5, (h + GAP) * self.selected + h + 0.5
        right = steps * (w + GAP)
        self.row_mark.setData([-0.5, right, right, -0.5, -0.5], [top, top, bottom, bottom, top])

    def _apply_scroll(self) -> None:
        """Show all rows; as many steps as fit at one pixel per pixel or more, from the
        scroll bar's step."""
        frames = self.frames_shown()
        if self.data is None or not frames.size:
            return
        n, steps, h, w = frames.shape
        box = self.grid.getPlotItem().getViewBox()
        height = n * (h + GAP) - GAP
        px_w, px_h = max(box.width(), 1.0), max(box.height(), 1.0)
        width = height * px_w / px_h  # square pixels
        first = self.scroll.value() * (w + GAP)
        total = steps * (w + GAP) - GAP
        shown_steps = max(1, int(width // (w + GAP)))
        self.scroll.setPageStep(shown_steps)
        self.scroll.setMaximum(max(0, steps - shown_steps))
        first = min(first, max(0.0, total - width))
        box.setRange(xRange=(first - 1, first + width), yRange=(-1, height + 1), padding=0.0)

    def _grid_clicked(self, ev) -> None:
        frames = self.frames_shown()
        if self.data is None or not frames.size or ev.button() != Qt.MouseButton.LeftButton:
            return
        box = self.grid.getPlotItem().getViewBox()
        if not box.sceneBoundingRect().contains(ev.scenePos()):
            return
        p = box.mapSceneToView(ev.scenePos())
        row = int(p.y() // (frames.shape[2] + GAP))
        if 0 <= row < frames.shape[0]:
            self.select(row)

    # -- exports ----------------------------------------------------------------------------

    def export_png(self, path: str | Path) -> None:
        """Paths and frames as on screen."""
        save_widget_png(self.splitter, path)

    def export_grid_png(self, path: str | Path) -> None:
        """Every frame of the roll-out shown, one row per sequence, at one pixel per pixel."""
        save_image(gray_image(self.grid_picture()), path)

    def export_csv(self, path: str | Path) -> None:
        """sequence, step, a0 .. a(da-1), kind (mean, sampled or truth)."""
        im = self.data
        rows = []
        da = 2
        if im is not None:
            da = np.asarray(im.mean_codes).shape[-1]
            kinds = {"mean": im.mean_codes, "sampled": im.sampled_codes, "truth": im.truth_codes}
            for kind, codes in kinds.items():
                codes = np.asarray(codes, float)
                for i, s in enumerate(np.asarray(im.sequences).tolist()):
                    for t, a in enumerate(codes[i].tolist()):
                        rows.append([int(s), t, *a, kind])
        write_csv(path, ["sequence", "step", *(f"a{i}" for i in range(da)), "kind"], rows)


def _paths_key() -> str:
    entries = [
        (colors.GENERATED, "━ mean roll-out"),
        (colors.GENERATED, "╌ sampled"),
        (colors.ENCODER, "┈ encoder (real)"),
    ]
    return "&nbsp; ".join(f"<span style='color:{c}'>{t}</span>" for c, t in entries)

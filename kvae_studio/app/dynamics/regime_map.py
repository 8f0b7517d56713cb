"""The regime map: every code of the data set in a-space, coloured by its regime weights.

Each point is a_t of one frame (dims 0 and 1), its colour alpha_t mixed over the regime
colours, so the regions where the dynamics network picks each regime show as areas of
one colour and the switches as blends. The sequences arrive in chunks while the model
process works (`add_chunk`). Hovering a point names its sequence and frame with its
weights; clicking it asks to open that frame in Explore (`pointClicked`).

Overlays, each switched by its control: the mean one-step flow of a regime (arrows from
the cells' centres, scaled to be legible, the scale in the key), imagined paths (the
mean roll-outs), and the key of regime colours (the plot's title: it never hides data).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QWidget

from kvae_studio import colors
from kvae_studio.app.dynamics.exports import (
    CSV_FILTER,
    PNG_FILTER,
    ExportButton,
    save_widget_png,
    write_csv,
)
from kvae_studio.app.dynamics.point_cloud import PointCloud, PointCloudItem
from kvae_studio.app.dynamics.view_frame import view_frame
from kvae_studio.app.plot_parts import plain_plot
from kvae_studio.app.plot_ranges import settled_box
from kvae_studio.app.qtsetup import pg
from kvae_studio.services.dynamics import RegimeChunk, RegimeFlow

CLICK_SLOP = 4  # pixels the mouse may move between press and release and still click
HOVER_PIXELS = 6.0  # how near the cursor a point must be to be hovered or clicked
ARROW_FILL = 0.8  # the longest usual arrow spans this fraction of a cell
HEAD = 0.3  # arrow head length, as a fraction of the arrow
HEAD_ANGLE = math.radians(25.0)


def regime_key(k: int) -> str:
    """Rich text: a coloured dot and name per regime."""
    spans = [
        f"<span style='color:{colors.REGIMES[i % len(colors.REGIMES)]}'>● regime {i}</span>"
        for i in range(k)
    ]
    return "&nbsp; ".join(spans)


def arrow_segments(
    starts: np.ndarray, vectors: np.ndarray, head: float
) -> tuple[np.ndarray, np.ndarray]:
    """Arrows (shaft and two head strokes) as x, y of segment end pairs, for one curve
    drawn with connect='pairs'. starts, vectors (n, 2); head: stroke length cap."""
    ends = starts + vectors
    length = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = np.divide(vectors, length, out=np.zeros_like(vectors), where=length > 0)
    stroke = np.minimum(HEAD * length, head)
    cos, sin = math.cos(HEAD_ANGLE), math.sin(HEAD_ANGLE)
    back = -unit
    left = np.stack([cos * back[:, 0] - sin * back[:, 1], sin * back[:, 0] + cos * back[:, 1]], 1)
    right = np.stack([cos * back[:, 0] + sin * back[:, 1], -sin * back[:, 0] + cos * back[:, 1]], 1)
    segments = np.stack(
        [starts, ends, ends, ends + stroke * left, ends, ends + stroke * right], axis=1
    ).reshape(-1, 2)
    return segments[:, 0], segments[:, 1]


def nan_joined(paths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, steps, >=2) paths -> x, y with a NaN between paths (one curve, connect='finite')."""
    if paths.size == 0:
        return np.zeros(0), np.zeros(0)
    xy = paths[..., :2]
    if xy.shape[-1] < 2:  # a 1-d code is drawn on y = 0
        xy = np.pad(xy, ((0, 0), (0, 0), (0, 1)))
    padded = np.concatenate([xy, np.full((len(xy), 1, 2), np.nan)], axis=1).reshape(-1, 2)
    return padded[:, 0], padded[:, 1]


class RegimeMapPlot(pg.PlotWidget):
    """The plot itself: points, overlays, the hover label; mouse input for hover and click."""

    pointClicked = Signal(int, int)  # sequence, frame
    hovered = Signal(str)  # plain text of the hovered point ('' when none)

    def __init__(self, cloud: PointCloud, parent: QWidget | None = None):
        super().__init__(parent=parent, background=colors.BASE)
        self.cloud = cloud
        plot = plain_plot(
            self.getPlotItem(), "a₁ (code dimension 0)", "a₂ (code dimension 1)", to_scale=True
        )
        box = plot.getViewBox()
        box.disableAutoRange()
        self.points = PointCloudItem(cloud)
        plot.addItem(self.points)
        shadow = pg.mkPen("#000000b0", width=3.5)
        self.flow = pg.PlotCurveItem(
            pen=pg.mkPen(colors.CURRENT, width=1.4), shadowPen=shadow, connect="pairs"
        )
        self.flow.setZValue(5)
        plot.addItem(self.flow, ignoreBounds=True)
        self.paths = pg.PlotCurveItem(
            pen=pg.mkPen(colors.GENERATED, width=1.8), shadowPen=shadow, connect="finite"
        )
        self.paths.setZValue(6)
        plot.addItem(self.paths)
        self.path_starts = pg.ScatterPlotItem(
            size=8, pen=pg.mkPen("#000000", width=1), brush=pg.mkBrush(colors.GENERATED)
        )
        self.path_starts.setZValue(7)
        plot.addItem(self.path_starts)
        self.ring = pg.ScatterPlotItem(size=14, pen=pg.mkPen(colors.CURRENT, width=2), brush=None)
        self.ring.setZValue(10)
        plot.addItem(self.ring, ignoreBounds=True)
        self.label = pg.TextItem(color=colors.TEXT, fill=pg.mkBrush(colors.PANEL + "e6"))
        self.label.setZValue(11)
        self.label.hide()
        plot.addItem(self.label, ignoreBounds=True)
        self.hovered_index: int | None = None
        self._press: QPointF | None = None

    # -- mouse ------------------------------------------------------------------------------

    def mousePressEvent(self, ev: QMouseEvent) -> None:
        self._press = ev.position() if ev.button() == Qt.MouseButton.LeftButton else None
        super().mousePressEvent(ev)

    def mouseMoveEvent(self, ev: QMouseEvent) -> None:
        super().mouseMoveEvent(ev)
        if not ev.buttons():
            self.hover_at(self.mapToScene(ev.position().toPoint()))
        elif self._press is not None:
            moved = ev.position() - self._press
            if abs(moved.x()) + abs(moved.y()) > CLICK_SLOP:
                self._press = None  # a drag (a pan), even if it comes back: not a click

    def mouseReleaseEvent(self, ev: QMouseEvent) -> None:
        press, self._press = self._press, None
        super().mouseReleaseEvent(ev)
        if press is None or ev.button() != Qt.MouseButton.LeftButton:
            return
        moved = ev.position() - press
        if abs(moved.x()) + abs(moved.y()) > CLICK_SLOP:
            return
        index = self.points.nearest(self.mapToScene(ev.position().toPoint()), HOVER_PIXELS)
        if index is not None:
            self.pointClicked.emit(int(self.cloud.sequence[index]), int(self.cloud.frame[index]))

    def leaveEvent(self, ev) -> None:
        super().leaveEvent(ev)
        self.hover_at(None)

    def hover_at(self, scene_pos: QPointF | None) -> None:
        """Label the point under `scene_pos` (None: hide the label)."""
        index = None if scene_pos is None else self.points.nearest(scene_pos, HOVER_PIXELS)
        if index == self.hovered_index:
            return
        self.hovered_index = index
        if index is None:
            self.ring.setData([], [])
            self.label.hide()
            self.hovered.emit("")
            return
        x, y = (float(v[index]) for v in self.cloud.xy())
        self.ring.setData([x], [y])
        html, text = self.describe(index)
        self.label.setHtml(html)
        box = self.getPlotItem().getViewBox()
        (x0, x1), (y0, y1) = box.viewRange()
        right = x > (x0 + x1) / 2
        top = y > (y0 + y1) / 2
        self.label.setAnchor((1.0 if right else 0.0, 0.0 if top else 1.0))
        offset = 0.02 * (x1 - x0)
        self.label.setPos(x - offset if right else x + offset, y - offset if top else y + offset)
        self.label.show()
        self.hovered.emit(text)

    def describe(self, index: int) -> tuple[str, str]:
        """(rich, plain) text of one point: where it came from and its regime weights."""
        seq, frame = int(self.cloud.sequence[index]), int(self.cloud.frame[index])
        alpha = self.cloud.alpha[index]
        head = f"sequence {seq}, frame {frame}"
        weights = [f"{w:.2f}" for w in alpha.tolist()]
        plain = f"{head}\nα = ({', '.join(weights)})"
        spans = [
            f"<span style='color:{colors.REGIMES[k % len(colors.REGIMES)]}'>{w}</span>"
            for k, w in enumerate(weights)
        ]
        rich = f"<b>{head}</b><br>α = ({', '.join(spans)})"
        return rich, plain

    def fit(self) -> None:
        """Range to the points and paths, only when they left it or shrank well inside."""
        x, y = self.cloud.xy()
        px, py = self.paths.getData()
        xs = np.concatenate([x, px]) if px is not None else x
        ys = np.concatenate([y, py]) if py is not None else y
        ok = np.isfinite(xs) & np.isfinite(ys)
        if not ok.any():
            return
        xs, ys = xs[ok], ys[ok]
        box = self.getPlotItem().getViewBox()
        target = settled_box(
            box.viewRange(), (float(xs.min()), float(xs.max())), (float(ys.min()), float(ys.max()))
        )
        if target is not None:
            box.setRange(xRange=target[0], yRange=target[1], padding=0.0)


class RegimeMapView(QWidget):
    """The regime map with its controls: flow regime, paths, key, export."""

    pointClicked = Signal(int, int)  # sequence, frame (0-based)

    def __init__(self, cloud: PointCloud | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.cloud = cloud if cloud is not None else PointCloud()
        self.flow_data: RegimeFlow | None = None
        self.flow_scale = 1.0
        self.path_codes = np.zeros((0, 0, 2), np.float32)
        self.path_label = ""
        self.plot = RegimeMapPlot(self.cloud)
        self.plot.pointClicked.connect(self.pointClicked)
        self.plot.setToolTip(
            "Every code a_t of the data set, coloured by its regime weights α_t (the\n"
            "colours of the regimes mixed by the weights). Hover a point for its sequence,\n"
            "frame and weights; click it to open that frame in Explore. Drag to pan,\n"
            "wheel to zoom."
        )
        self.flow_choice = QComboBox()
        self.flow_choice.setToolTip(
            "Arrows: the mean one-step move of the code under one regime, C_k A_k z − C_k z,\n"
            "averaged over the data set's states whose code falls in each cell"
        )
        self.flow_choice.addItem("No flow")
        self.flow_choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.flow_choice.setEnabled(False)
        self.flow_choice.currentIndexChanged.connect(self._draw_flow)
        self.show_paths = QCheckBox("Imagined paths")
        self.show_paths.setToolTip("The mean roll-outs of the Imagination tab, from their start")
        self.show_paths.setChecked(False)  # 16 paths of 80 steps hide the map: on request
        self.show_paths.toggled.connect(self._paths_visibility)
        self.show_key = QCheckBox("Key")
        self.show_key.setToolTip("The regimes' colours, above the plot")
        self.show_key.setChecked(True)
        self.show_key.toggled.connect(self._update_key)
        self.export = ExportButton(
            [
                ("Picture (PNG)…", PNG_FILTER, "regime_map.png", self.export_png),
                ("Codes and weights (CSV)…", CSV_FILTER, "regime_map.csv", self.export_csv),
                ("Flow field (CSV)…", CSV_FILTER, "regime_flow.csv", self.export_flow_csv),
            ]
        )
        self.status = QLabel()
        self.status.setStyleSheet(f"color: {colors.MUTED}")
        self.plot.hovered.connect(self._hover_status)
        controls = [QLabel("Flow:"), self.flow_choice, self.show_paths, self.show_key]
        view_frame(self, [*controls, None, self.export], self.plot, self.status)
        self._update_key()
        self._hover_status("")

    # -- data -------------------------------------------------------------------------------

    def add_chunk(self, chunk: RegimeChunk) -> None:
        """Append the codes of a streamed piece of the data set (sequences chunk.first ..)."""
        first_chunk = self.cloud.count == 0
        self.cloud.append(chunk.first, chunk.codes, chunk.alpha, chunk.total)
        self.plot.points.points_changed()
        if first_chunk:
            self._update_key()
        self.plot.fit()
        self._hover_status("")

    def point_count(self) -> int:
        return self.cloud.count

    def clear(self) -> None:
        """No points, no flow, no paths."""
        self.cloud.clear()
        self.plot.points.points_changed()
        self.plot.hover_at(None)
        self.set_flow(None)
        self.set_paths(np.zeros((0, 0, 2), np.float32), "")
        self._update_key()
        self._hover_status("")

    def set_flow(self, flow: RegimeFlow | None) -> None:
        """The regimes' mean flow fields; the chooser picks which one is drawn."""
        self.flow_data = flow
        chosen = self.flow_choice.currentIndex()
        self.flow_choice.blockSignals(True)
        self.flow_choice.clear()
        self.flow_choice.addItem("No flow")
        if flow is not None:
            for k in range(flow.flow.shape[0]):
                self.flow_choice.addItem(f"regime {k}")
            self.flow_choice.setCurrentIndex(chosen if 0 < chosen <= flow.flow.shape[0] else 1)
        self.flow_choice.setEnabled(flow is not None)
        self.flow_choice.blockSignals(False)
        self._draw_flow()

    def flow_regime(self) -> int | None:
        """The regime whose flow is drawn, None when none is."""
        index = self.flow_choice.currentIndex()
        return index - 1 if self.flow_data is not None and index > 0 else None

    def set_flow_regime(self, k: int | None) -> None:
        self.flow_choice.setCurrentIndex(0 if k is None else k + 1)

    def _draw_flow(self) -> None:
        k = self.flow_regime()
        if k is None:
            self.plot.flow.setData([], [])
            self._update_key()
            return
        flow = self.flow_data
        gx, gy = np.meshgrid(np.asarray(flow.xs, float), np.asarray(flow.ys, float))
        vectors = np.asarray(flow.flow[k], float)[..., :2].reshape(-1, 2)
        if vectors.shape[1] < 2:
            vectors = np.pad(vectors, ((0, 0), (0, 1)))
        starts = np.stack([gx.ravel(), gy.ravel()], axis=1)
        ok = np.isfinite(vectors).all(axis=1)
        starts, vectors = starts[ok], vectors[ok]
        cell = _cell_size(flow.xs, flow.ys)
        length = np.linalg.norm(vectors, axis=1)
        usual = float(np.percentile(length, 95)) if len(length) else 0.0
        self.flow_scale = ARROW_FILL * cell / usual if usual > 0 else 1.0
        x, y = arrow_segments(starts, vectors * self.flow_scale, 0.35 * cell)
        self.plot.flow.setData(x, y)
        self._update_key()

    def set_paths(self, codes: np.ndarray, label: str = "imagined") -> None:
        """Paths in a-space, (n, steps, da), drawn as lines from a dot at their start."""
        codes = np.asarray(codes, dtype=np.float32)
        self.path_codes, self.path_label = codes, label
        x, y = nan_joined(codes) if codes.ndim == 3 else (np.zeros(0), np.zeros(0))
        self.plot.paths.setData(x, y)
        if codes.ndim == 3 and codes.shape[0] and codes.shape[1]:
            sx, sy = nan_joined(codes[:, :1])
            self.plot.path_starts.setData(sx[::2], sy[::2])
        else:
            self.plot.path_starts.setData([], [])
        self._paths_visibility()
        self._update_key()

    def _paths_visibility(self) -> None:
        on = self.show_paths.isChecked()
        self.plot.paths.setVisible(on)
        self.plot.path_starts.setVisible(on)
        self._update_key()

    def _update_key(self) -> None:
        plot = self.plot.getPlotItem()
        if not self.show_key.isChecked():
            plot.setTitle(None)
            return
        parts = [regime_key(self.cloud.regimes)] if self.cloud.regimes else []
        k = self.flow_regime()
        if k is not None:
            parts.append(
                f"<span style='color:{colors.CURRENT}'>→ flow of regime {k} "
                f"(×{self.flow_scale:.3g})</span>"
            )
        if self.path_codes.size and self.show_paths.isChecked():
            parts.append(f"<span style='color:{colors.GENERATED}'>━ {self.path_label}</span>")
        plot.setTitle("&nbsp;&nbsp; ".join(parts) if parts else "", size="9pt")

    def _hover_status(self, text: str) -> None:
        if text:
            self.status.setText(text.replace("\n", "  ·  ") + "  ·  click to open in Explore")
            return
        n, seen = self.cloud.count, self.cloud.sequences_seen()
        if n == 0:
            self.status.setText("No codes yet: press Compute to encode the data set.")
        else:
            self.status.setText(
                f"{seen} sequences, {n} codes · hover a point for its weights, click it to "
                "open that frame in Explore"
            )

    def hover_text(self) -> str:
        """The hovered point's description ('' when none), as the label shows it."""
        index = self.plot.hovered_index
        return "" if index is None else self.plot.describe(index)[1]

    # -- exports ----------------------------------------------------------------------------

    def export_png(self, path: str | Path) -> None:
        """The plot as on screen (points, overlays, key)."""
        save_widget_png(self.plot, path)

    def export_csv(self, path: str | Path) -> None:
        """sequence, frame, a0 .. a(da-1), alpha_0 .. alpha_(K-1): one line per code."""
        cloud = self.cloud
        da = cloud.codes.shape[1] if cloud.count else 2
        k = cloud.regimes
        header = ["sequence", "frame", *(f"a{i}" for i in range(da))]
        header += [f"alpha_{i}" for i in range(k)]
        rows = zip(
            cloud.sequence.tolist(),
            cloud.frame.tolist(),
            cloud.codes.astype(float).tolist(),
            cloud.alpha.astype(float).tolist(),
            strict=True,
        )
        write_csv(path, header, ([s, f, *a, *w] for s, f, a, w in rows))

    def export_flow_csv(self, path: str | Path) -> None:
        """regime, x, y, count, da0, da1: the mean displacement of each cell."""
        header = ["regime", "x", "y", "count", "da0", "da1"]
        flow = self.flow_data
        rows = []
        if flow is not None:
            for k in range(flow.flow.shape[0]):
                for i, y in enumerate(np.asarray(flow.ys, float).tolist()):
                    for j, x in enumerate(np.asarray(flow.xs, float).tolist()):
                        d = np.asarray(flow.flow[k, i, j], float)
                        dy = float(d[1]) if d.shape[0] > 1 else 0.0
                        rows.append([k, x, y, int(flow.counts[i, j]), float(d[0]), dy])
        write_csv(path, header, rows)


def _cell_size(xs: np.ndarray, ys: np.ndarray) -> float:
    """The smaller spacing of the grid (1 when a direction has a single cell)."""
    steps = [abs(float(v[1] - v[0])) for v in (np.asarray(xs), np.asarray(ys)) if len(v) > 1]
    steps = [s for s in steps if s > 0]
    return min(steps) if steps else 1.0

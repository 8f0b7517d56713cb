"""The Explore tab: show a sequence to a model with parts hidden, see what it makes of it.

This view wires things together and holds no maths: input goes to the `MaskModel`
(Qt-free), every committed mask change or new sequence/model becomes one request to the
`InferenceRunner` (worker thread, newest wins), and each result is copied into the frame
grid, the filmstrip, the plots and the metrics. While a stroke is in progress only the
canvas and the filmstrip are redrawn; the model runs once when the stroke ends.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSplitter,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kvae_studio.app import colors, theme
from kvae_studio.app.elided_label import ElidedLabel
from kvae_studio.app.explore.a_space_plot import ASpacePlot
from kvae_studio.app.explore.filmstrip import Filmstrip
from kvae_studio.app.explore.frame_grid import FrameGrid
from kvae_studio.app.explore.mask_controls import MaskControls
from kvae_studio.app.explore.metrics_panel import MetricsPanel
from kvae_studio.app.explore.paint_canvas import PaintCanvas
from kvae_studio.app.explore.scene_pairing import ScenePairingBanner
from kvae_studio.app.explore.sequence_controls import SequenceControls
from kvae_studio.app.explore.time_plots import TimePlots
from kvae_studio.app.explore.timeline import Timeline
from kvae_studio.app.inference import InferenceResult
from kvae_studio.app.mask_presets import band_occlusion, planning_hidden, random_hidden
from kvae_studio.app.masking import MaskEvent, MaskModel
from kvae_studio.app.model_card import dataset_scene, model_card, model_scene
from kvae_studio.app.resources import shipped_model, shipped_scene
from kvae_studio.app.worker import InferenceRunner
from model.kvae import KVAE

CELLS = (  # name, title, tooltip, row, col
    ("truth", "Truth", "The true frame (the model may not have seen it)", 0, 0),
    ("overlay", "Truth / smoothed",
     "Truth in cyan, smoothed imputation in orange: white where they agree", 0, 1),
    ("filtered", "Filtered",
     "Decoded C_t μ_{t|t}: what the model believes from the frames up to t", 1, 0),
    ("smoothed", "Smoothed",
     "Decoded C_t μ_{t|T}: what the model believes from the whole sequence", 1, 1),
    ("composite", "Composite",
     "Seen pixels as they are, the smoothed imputation where hidden", 2, 0),
    ("generated", "Generated",
     "Free-running roll-out of the dynamics from the first seen frames", 2, 1),
)  # fmt: skip


def frame_size_problem(model: KVAE, images: np.ndarray) -> str | None:
    """Why `model` cannot look at `images` (T, H, W), or None if it can."""
    size = model.config.frame_size
    if images.ndim != 3:
        return f"expected one sequence (T, H, W), got shape {images.shape}"
    if images.shape[1:] != (size, size):
        h, w = images.shape[1:]
        return f"the model expects {size}×{size} frames, the sequence has {h}×{w}"
    return None


class ExploreView(QWidget):
    """Frames, mask painting, timeline, latent plots and metrics for one sequence."""

    resultShown = Signal(object)
    busyChanged = Signal(bool)
    statusMessage = Signal(str)
    modelWanted = Signal(str)  # a model file to open (the window opens it, or says why not)

    def __init__(self, model: KVAE, model_path: str | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.model_path = model_path
        self.images = np.zeros((1, model.config.frame_size, model.config.frame_size), np.float32)
        self.state: np.ndarray | None = None
        self.source: dict[str, Any] = {}
        self.mask = MaskModel(*self.images.shape)
        self.result: InferenceResult | None = None  # newest result, frames drawn
        self.shown: InferenceResult | None = None  # newest result drawn everywhere
        self.requests = 0  # inference requests made (tests count them)
        self.dataset = None  # model.data.SequenceData of an open dataset
        self.dataset_path: str | None = None

        self.runner = InferenceRunner(self)
        self.runner.resultReady.connect(self._on_result)
        self.runner.failed.connect(lambda msg: self.statusMessage.emit(f"Inference failed: {msg}"))
        self.runner.busyChanged.connect(self._on_busy)

        self._build()
        self._connect()
        self.sequence_controls.follow_model(getattr(model, "summary", {}) or {})
        self._show_model_info()

    # Layout.
    def _build(self) -> None:
        self.sequence_controls = SequenceControls()
        self.mask_controls = MaskControls()
        column = QWidget()
        column_layout = QVBoxLayout(column)
        column_layout.setContentsMargins(0, 0, 0, 0)
        column_layout.setSpacing(0)
        column_layout.addWidget(self.sequence_controls)
        column_layout.addWidget(self.mask_controls, 1)
        scroll = QScrollArea()
        scroll.setWidget(column)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # As wide as the controls plus the scroll bar, so the bar never covers the spin
        # boxes' arrows when the window is too short for the whole column.
        bar = scroll.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        scroll.setFixedWidth(max(268, column.minimumSizeHint().width() + bar + 2))
        self.controls_scroll = scroll

        self.canvas = PaintCanvas()
        self.canvas.setToolTip(
            "What the model is shown: red = hidden from it.\n"
            "Left drag paints an occlusion, right drag erases (B / E switch tools,\n"
            "[ and ] or Ctrl+wheel change the size). Each stroke is one undo step."
        )
        self.canvas_title = ElidedLabel()
        self.canvas_title.setStyleSheet(f"color: {theme.TEXT};")
        self.large_view = "observed"  # what the canvas shows: the observed frame or a cell
        self.paint_button = QToolButton()
        self.paint_button.setText("✎ Paint")
        self.paint_button.setObjectName("backToPainting")
        self.paint_button.setToolTip(
            "Back to painting: the observed frame on the canvas again (or click the tile "
            "shown large)"
        )
        self.paint_button.clicked.connect(lambda: self.show_large("observed"))
        self.paint_button.setVisible(False)
        self.reset_zoom_action = QAction("Reset zoom", self)
        self.reset_zoom_action.setShortcut(QKeySequence("Ctrl+0"))
        self.reset_zoom_action.setToolTip(
            "Show the whole frame (Ctrl+0). The wheel zooms, the middle button or\n"
            "Space with the left button pans."
        )
        self.reset_zoom_action.triggered.connect(lambda: self.canvas.reset_zoom())
        self.zoom_button = QToolButton()
        self.zoom_button.setDefaultAction(self.reset_zoom_action)
        self.zoom_button.setObjectName("resetZoom")
        self.grid = FrameGrid()
        for name, title, tip, row, col in CELLS:
            self.grid.add(name, title, tip, row, col)
        # A still label, not an animated progress bar: the bar's 60 Hz repaints cost
        # the worker a third of its speed (GIL and CPU), measured with the benchmark.
        self.busy_label = QLabel("● updating…")
        self.busy_label.setStyleSheet(f"color: {theme.ACCENT};")
        self.busy_label.setToolTip("The model is working on the latest edit")
        policy = self.busy_label.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # showing it must not re-layout the tab
        self.busy_label.setSizePolicy(policy)
        self.busy_label.setVisible(False)
        self.timing_label = QLabel()
        self.timing_label.setStyleSheet(f"color: {theme.MUTED};")
        self.timing_label.setToolTip("Time the model took for the last update (worker thread)")

        header = QHBoxLayout()
        header.addWidget(self.canvas_title, 1)
        header.addWidget(self.paint_button)
        header.addWidget(self.zoom_button)
        header.addWidget(self.busy_label)
        header.addWidget(self.timing_label)

        frames = QHBoxLayout()
        frames.setSpacing(6)
        frames.addWidget(self.canvas, 1)
        frames.addWidget(self.grid, 1)

        self.filmstrip = Filmstrip()
        self.timeline = Timeline()
        self.pairing = ScenePairingBanner()
        center = QWidget()
        center_layout = QVBoxLayout(center)
        center_layout.setContentsMargins(6, 4, 6, 4)
        center_layout.setSpacing(4)
        center_layout.addWidget(self.pairing)
        center_layout.addLayout(header)
        center_layout.addLayout(frames, 1)
        center_layout.addWidget(self.filmstrip.scroller())
        center_layout.addWidget(self.timeline)

        self.a_plot = ASpacePlot()
        self.time_plots = TimePlots()
        self.metrics = MetricsPanel()
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.a_plot)
        right.addWidget(self.time_plots)
        right.addWidget(self.metrics)
        right.setStretchFactor(0, 5)
        right.setStretchFactor(1, 5)
        right.setStretchFactor(2, 0)
        right.setChildrenCollapsible(False)
        right.setMinimumWidth(250)  # the a-space plot and the scores stay readable
        self.plots_splitter = right

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(center)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(scroll)
        layout.addWidget(self.splitter, 1)

        self.escape_action = QAction("Cancel stroke", self)
        self.escape_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.escape_action.triggered.connect(self.canvas.abort)
        self.addActions(
            [
                *self.timeline.actions_for_window(),
                *self.mask_controls.actions_for_window(),
                self.escape_action,
                self.reset_zoom_action,
            ]
        )
        # Window-wide shortcuts, active while this tab is visible (Qt ignores actions of
        # hidden widgets), so Space and the arrows work wherever the focus is.

    def _connect(self) -> None:
        mc = self.mask_controls
        self.mask.listeners.append(self._on_mask_event)
        self.canvas.strokeStarted.connect(self._stroke_start)
        self.canvas.strokeMoved.connect(self.mask.stroke_to)
        self.canvas.strokeEnded.connect(self.mask.end_stroke)
        self.canvas.strokeAborted.connect(self.mask.abort_stroke)
        self.canvas.sizeStepped.connect(lambda d: mc.size.setValue(mc.size.value() + d))
        mc.brushSizeChanged.connect(self.canvas.set_brush_size)
        self.canvas.set_brush_size(mc.brush_size)
        mc.undo_action.triggered.connect(self.mask.undo)
        mc.redo_action.triggered.connect(self.mask.redo)
        mc.hide_action.triggered.connect(lambda: self.mask.toggle_hidden(self.current_frame))
        mc.clear_frame_action.triggered.connect(lambda: self.mask.clear_frame(self.current_frame))
        mc.clear_all_action.triggered.connect(self.mask.clear_all)
        mc.planningRequested.connect(self.apply_planning)
        mc.randomRequested.connect(self.apply_random)
        mc.bandRequested.connect(self.apply_band)
        self.filmstrip.frameClicked.connect(self._on_thumbnail)
        self.grid.cellClicked.connect(self._on_cell_clicked)
        self.timeline.frameChanged.connect(self._on_frame)
        self.sequence_controls.newSequenceRequested.connect(self.new_sequence)
        self.sequence_controls.datasetIndexChanged.connect(self.show_dataset_sequence)
        scenes = self.sequence_controls.scene
        scenes.activated.connect(lambda i: self.choose_scene(_scene_key(scenes, i)))
        self.pairing.switchRequested.connect(self.modelWanted)

    # Public API.
    @property
    def current_frame(self) -> int:
        return self.timeline.frame

    @property
    def steps(self) -> int:
        return self.images.shape[0]

    @property
    def busy(self) -> bool:
        return self.runner.busy

    def set_model(self, model: KVAE, path: str | None, infer: bool = True) -> None:
        """Look at the same sequence with another model (infer=False when a new
        sequence follows at once, which will run it)."""
        self.model = model.eval()
        self.model_path = path
        self.sequence_controls.follow_model(getattr(model, "summary", {}) or {})
        self._show_model_info()
        self._show_pairing()
        if infer:
            self.request_inference()

    def set_sequence(
        self,
        images: np.ndarray,
        source: dict[str, Any],
        state: np.ndarray | None = None,
        hidden: np.ndarray | None = None,
        occluded: np.ndarray | None = None,
        frame: int = 0,
    ) -> None:
        """Show a new sequence (T, H, W). Masks: as given, else kept if the shape allows,
        else the paper's planning mask. The undo history starts afresh."""
        images = np.asarray(images, dtype=np.float32)
        problem = frame_size_problem(self.model, images)
        if problem:
            raise ValueError(problem)
        same_shape = images.shape == self.images.shape
        old_hidden, old_occluded = self.mask.hidden.copy(), self.mask.occluded.copy()
        self.images, self.state, self.source = images, state, dict(source)
        if hidden is None:
            cfg = self.model.config
            planning = planning_hidden(self.steps, cfg.t_init_mask, cfg.t_steps_mask)
            hidden = old_hidden if same_shape else planning
            occluded = old_occluded if same_shape and occluded is None else occluded
        self.timeline.blockSignals(True)
        self.timeline.set_steps(self.steps)
        self.timeline.set_frame(frame)
        self.timeline.blockSignals(False)
        self.filmstrip.set_current(self.current_frame)
        self.mask_controls.set_steps(self.steps)
        self.mask_controls.set_frame_size(*images.shape[1:])
        self.sequence_controls.show_source(self.source)
        if self.source.get("kind") == "scene":
            self.sequence_controls.set_scene(
                self.source.get("scene", ""),
                self.source.get("seed", 0),
                bool(self.source.get("marker", False)),
            )
        self.result = None
        self.filmstrip.set_imputed(None)
        self._show_pairing()
        self.mask.reset(hidden, occluded, shape=images.shape)  # committed: redraw + infer
        self.mark_saved()

    def new_sequence(
        self, scene: str, seed: int, steps: int | None = None, marker: bool | None = None
    ) -> None:
        """Simulate one sequence of `scene` at the model's frame size and show it; with the
        rotation marker as the controls say unless `marker` is given."""
        from kvae_studio.sim import scene_params, simulate

        params = scene_params(scene, size=self.model.config.frame_size)
        steps = steps or (self.steps if self.steps > 1 else 20)
        if marker is None:
            marker = self.sequence_controls.marker.isChecked()
        images, state = simulate(params, 1, steps, seed=seed, marker=bool(marker))
        self.dataset, self.dataset_path = None, None
        self.sequence_controls.set_dataset(None)
        source = {"kind": "scene", "scene": scene, "seed": int(seed), "marker": bool(marker)}
        self.set_sequence(images[0], source, state[0])

    def set_dataset(self, data: Any, path: str, index: int = 0) -> None:
        """Open sequence `index` of a loaded dataset (`model.data.SequenceData`)."""
        index = int(np.clip(index, 0, data.num_sequences - 1))
        state = None if data.state is None else data.state[index]
        source = {"kind": "dataset", "path": str(path), "index": index}
        opened = str(path) != self.dataset_path
        self.set_sequence(data.images[index], source, state)
        self.dataset, self.dataset_path = data, str(path)
        self.sequence_controls.set_dataset(data.num_sequences, index)
        if opened:
            self.offer_scene_model(self.sequence_scene)

    # Scene and model.
    @property
    def sequence_scene(self) -> str | None:
        """The scene of the sequence on screen, where known (a dataset: by its name)."""
        if self.source.get("kind") == "dataset":
            return dataset_scene(self.source.get("path"))
        scene = self.source.get("scene")
        return scene if isinstance(scene, str) else None

    @property
    def model_scene(self) -> str | None:
        """The scene the model was trained on, where its file says."""
        if self.model_path is None:
            return None
        return model_scene(getattr(self.model, "summary", {}) or {})

    def choose_scene(self, scene: str) -> None:
        """The user chose `scene`: its shipped model (see `offer_scene_model`) and a new
        sequence of it, in one step."""
        self.offer_scene_model(scene)
        self.new_sequence(scene, self.sequence_controls.seed.value())

    def offer_scene_model(self, scene: str | None) -> bool:
        """Ask the window to open the model shipped for `scene` when the model on screen is
        a shipped one of another scene, or untrained. A user's own model stays: the
        pairing banner then says the scenes differ and offers the switch."""
        target = shipped_model(scene)
        current = shipped_scene(self.model_path)
        ours = self.model_path is None or current is not None
        if target is None or not ours or current == scene:
            return False
        self.modelWanted.emit(str(target))
        return True

    def show_dataset_sequence(self, index: int) -> None:
        if self.dataset is not None:
            self.set_dataset(self.dataset, self.dataset_path or "", index)

    def mark_saved(self) -> None:
        """The masks as they are now are kept somewhere (a session, or fresh defaults)."""
        self._saved_mask = (self.mask.hidden.copy(), self.mask.occluded.copy())

    @property
    def unsaved_edits(self) -> bool:
        """Masks edited since the sequence was opened or the session last saved."""
        hidden, occluded = getattr(self, "_saved_mask", (None, None))
        if hidden is None or hidden.shape != self.mask.hidden.shape:
            return False
        same = np.array_equal(hidden, self.mask.hidden)
        return not (same and np.array_equal(occluded, self.mask.occluded))

    def show_large(self, name: str) -> None:
        """Put a view on the main canvas ("observed": the painting canvas, or a cell of
        the grid, which the canvas then only shows)."""
        self.large_view = name if name in self.grid.cells else "observed"
        painting = self.large_view == "observed"
        self.canvas.set_painting(painting)
        self.paint_button.setVisible(not painting)
        self.grid.set_large(None if painting else self.large_view)
        self._draw_canvas()

    def focus_hidden(self) -> None:
        """Go to the middle of the first hidden stretch: where imputation shows most."""
        hidden = np.flatnonzero(self.mask.hidden)
        if hidden.size:
            run_end = np.flatnonzero(np.diff(hidden) > 1)
            last = hidden[run_end[0]] if run_end.size else hidden[-1]
            self.timeline.set_frame(int((hidden[0] + last) // 2))

    def apply_planning(self, seen: int, hidden: int) -> None:
        self.mask.set_mask(hidden=planning_hidden(self.steps, seen, hidden))

    def apply_random(self, drop_prob: float, seed: int, keep_first: int) -> None:
        self.mask.set_mask(hidden=random_hidden(self.steps, drop_prob, seed, keep_first))

    def apply_band(self, orientation: str, centre: int, thickness: int) -> None:
        t, h, w = self.images.shape
        self.mask.set_mask(occluded=band_occlusion(t, h, w, orientation, centre, thickness))

    def request_inference(self) -> int:
        """Snapshot sequence + mask and hand them to the worker; newest request wins."""
        self.requests += 1
        return self.runner.submit(
            self.model, self.images, self.mask.frame_visible(), self.mask.pixel_visible()
        )

    def shutdown(self) -> None:
        self.timeline.play_action.setChecked(False)
        self.runner.shutdown()

    # Reactions.
    def _stroke_start(self, x: float, y: float, erase: bool) -> None:
        frame = None if self.mask_controls.all_frames else self.current_frame
        paint = self.mask_controls.erasing == erase  # right button: the other tool
        self.mask.begin_stroke(frame, paint=paint, size=self.mask_controls.brush_size)
        self.mask.stroke_to(x, y)

    def _on_mask_event(self, event: MaskEvent) -> None:
        self._draw_mask(event.frames)
        if event.committed:
            mc = self.mask_controls
            mc.undo_action.setEnabled(self.mask.can_undo)
            mc.redo_action.setEnabled(self.mask.can_redo)
            self.request_inference()

    def _on_cell_clicked(self, name: str) -> None:
        """A click on a tile shows it large; a click on the tile shown returns to painting."""
        self.show_large("observed" if name == self.large_view else name)

    def _on_thumbnail(self, frame: int) -> None:
        self.timeline.set_frame(frame)
        self.mask.toggle_hidden(frame)

    def _on_frame(self, frame: int) -> None:
        self.filmstrip.set_current(frame)
        self._draw_canvas()
        self._draw_cells()
        self.a_plot.set_current(frame)
        self.time_plots.set_current(frame)

    def _on_busy(self, busy: bool) -> None:
        self.busy_label.setVisible(busy)
        self.busyChanged.emit(busy)

    def _on_result(self, result: InferenceResult) -> None:
        """Everything at once, then one paint: splitting frames and plots over two turns
        of the event loop painted the frames twice and put the plots a paint later."""
        self.result = result
        self.filmstrip.set_imputed(result.x_composite)
        self._draw_cells()
        self.metrics.show_metrics(result.metrics)
        self.timing_label.setText(f"model {result.seconds * 1000:.0f} ms")
        self._show_plots(result)

    def _show_plots(self, result: InferenceResult) -> None:
        self.a_plot.show_result(result)
        self.a_plot.set_current(self.current_frame)
        self.time_plots.show_result(result)
        self.time_plots.set_current(self.current_frame)
        self.shown = result
        self.resultShown.emit(result)

    # Drawing.
    def _hidden_pixels(self, frame: int) -> np.ndarray:
        if self.mask.hidden[frame]:
            return np.ones(self.images.shape[1:], dtype=np.float32)
        return self.mask.occluded[frame].astype(np.float32)

    def _draw_mask(self, frames: tuple[int, ...] | None = None) -> None:
        self.filmstrip.set_seen(self.images, self.mask.hidden, self.mask.occluded, frames)
        if frames is None or self.current_frame in frames:
            self._draw_canvas()

    def _draw_canvas(self) -> None:
        t = self.current_frame
        if self.large_view != "observed":
            self._draw_large(t)
            return
        self.canvas.show_frame(self.images[t], self._hidden_pixels(t))
        hidden = bool(self.mask.hidden[t])
        painted = bool(self.mask.occluded[t].any())
        state = (
            "hidden from the model" if hidden else ("partly painted over" if painted else "seen")
        )
        colour = colors.HIDDEN if hidden or painted else theme.MUTED
        self.canvas_title.setText(
            f"Observed · frame {t} · <span style='color:{colour}'>{state}</span>"
        )
        self.timeline.set_status("hidden" if hidden else ("painted" if painted else ""))

    def _draw_large(self, t: int) -> None:
        """The canvas shows the grid's cell `large_view` for frame t, titled as the cell."""
        name = self.large_view
        picture = self.grid.image(name)
        if picture is None:
            picture = np.zeros(self.images.shape[1:], np.float32)
        self.canvas.show_picture(picture)
        title = self.grid.title(name).replace("  ·  ", " · ")
        self.canvas_title.setText(f"{title} · frame {t}")

    def _draw_cells(self) -> None:
        self._fill_cells()
        if self.large_view != "observed":
            self._draw_large(self.current_frame)

    def _fill_cells(self) -> None:
        t = self.current_frame
        grid, result = self.grid, self.result
        grid.show_frame("truth", self.images[t])
        if result is None or result.images.shape != self.images.shape:
            for name in ("overlay", "filtered", "smoothed", "composite", "generated"):
                grid.show_frame(name, None)
            return
        if result.frame_visible[t] == 0:
            suffix, colour = "not seen", colors.HIDDEN
        elif result.evaluated[t]:
            suffix, colour = "partly seen", colors.HIDDEN
        else:
            suffix, colour = "", None
        for name in ("filtered", "smoothed", "composite"):
            grid.set_title(name, suffix, colour)
        grid.set_title("truth", suffix, colour)
        grid.show_frame("filtered", result.x_filtered[t])
        grid.show_frame("smoothed", result.x_smoothed[t])
        grid.show_frame("composite", result.x_composite[t])
        grid.show_frame("overlay", colors.overlay_rgb(self.images[t], result.x_smoothed[t]))
        if result.x_generated is None:
            grid.show_frame("generated", None, self._why_no_generation(result))
            grid.set_title("generated", "unavailable", colors.HIDDEN)
        else:
            grid.show_frame("generated", result.x_generated[t])
            start = t < result.n_init
            grid.set_title("generated", f"seen 0–{result.n_init - 1}" if start else "roll-out")

    @staticmethod
    def _why_no_generation(result: InferenceResult) -> str:
        """The reason a roll-out has nothing to start from: its first frame is unseen."""
        if result.frame_visible[0] == 0:
            return "Frame 0 is hidden from the model: a roll-out starts from seen frames."
        shown = 1.0 if result.pixel_visible is None else float(result.pixel_visible[0].mean())
        return (
            f"Frame 0 is {100 * (1 - shown):.0f} % painted over: a roll-out starts from "
            "frames seen (almost) whole."
        )

    def _show_model_info(self) -> None:
        """The model card in the Model box: scene first, the rest below, all in the tooltip."""
        card = model_card(self.model, self.model_path)
        shipped = " (shipped)" if card.shipped else ""
        self.sequence_controls.show_model(
            self.model_path, "<br>".join([f"<b>{card.headline}</b>{shipped}", *card.lines])
        )
        label = self.sequence_controls.model_label
        label.setToolTip(f"{label.toolTip()}\n" + "\n".join([card.headline, *card.lines]))

    def _show_pairing(self) -> None:
        scene = self.sequence_scene
        self.pairing.show_pairing(
            scene, self.model_scene, self.model_path is not None, shipped_model(scene)
        )


def _scene_key(combo, index: int) -> str:
    """The scene name of a combo entry (its data where the entry shows a title)."""
    data = combo.itemData(index)
    return data if isinstance(data, str) and data else combo.itemText(index)

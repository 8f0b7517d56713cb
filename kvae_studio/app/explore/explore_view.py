"""The Explore tab: show a sequence to a model with parts hidden, see what it makes of it.

The view holds no state of its own beyond what is on screen: the `ExploreDocument`
(Qt-free) owns the sequence, masks, model, frame, paint tool and the newest result, and
its rules. Input goes to the document; the view redraws on the document's events, and
sends one request to the `InferenceRunner` (model process, newest wins) whenever the
document asks the model (`inference_wanted`); the runner's result goes to the document,
and from its `result_changed` into the grid, the filmstrip, the plots and the metrics.
While a stroke is in progress only the canvas and the filmstrip are redrawn.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from kvae_studio import colors
from kvae_studio.app import theme
from kvae_studio.app.explore.a_space_plot import ASpacePlot
from kvae_studio.app.explore.canvas_header import CanvasHeader
from kvae_studio.app.explore.columns import controls_column, plots_column
from kvae_studio.app.explore.filmstrip import Filmstrip
from kvae_studio.app.explore.mask_controls import MaskControls
from kvae_studio.app.explore.metrics_panel import MetricsPanel
from kvae_studio.app.explore.paint_canvas import PaintCanvas
from kvae_studio.app.explore.posterior_samples import PosteriorSamplesView, SamplesControls
from kvae_studio.app.explore.result_cells import fill_cells, make_grid
from kvae_studio.app.explore.scene_pairing import ScenePairingBanner
from kvae_studio.app.explore.sequence_controls import SequenceControls
from kvae_studio.app.explore.time_plots import TimePlots
from kvae_studio.app.explore.timeline import Timeline
from kvae_studio.app.worker import InferenceRunner
from kvae_studio.document.explore import ExploreDocument, Swap
from kvae_studio.document.masking import MaskEvent
from kvae_studio.document.sources import DatasetSource, SceneSource
from kvae_studio.services.inference import InferenceResult
from kvae_studio.services.model_card import model_card
from kvae_studio.services.resources import shipped_model
from kvae_studio.sim.scene_record import SceneRecord


class ExploreView(QWidget):
    """Frames, mask painting, timeline, latent plots and metrics for one document."""

    resultShown = Signal(object)
    busyChanged = Signal(bool)
    statusMessage = Signal(str)
    modelWanted = Signal(str)  # a model file to open (the window opens it, or says why not)

    def __init__(self, document: ExploreDocument, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.shown: InferenceResult | None = None  # newest result drawn everywhere
        self.requests = 0  # inference requests made (tests count them)
        # A stroke's mask is drawn once per turn of the event loop, not per mouse event
        self._mask_dirty: set[int] = set()
        self._mask_all_dirty = False
        self._mask_draw_queued = False
        self.large_view = "observed"  # what the canvas shows: the observed frame or a cell

        self.runner = InferenceRunner(self)
        self.runner.resultReady.connect(document.set_result)
        self.runner.failed.connect(lambda msg: self.statusMessage.emit(f"Inference failed: {msg}"))
        self.runner.busyChanged.connect(self._on_busy)

        self._build()
        self._connect()
        self._on_swapped(Swap(model=True, sequence=True))  # drawn; the first swap asks

    # What the document holds, read through the view (the view keeps none of it).
    model = property(lambda self: self.document.model)
    model_path = property(lambda self: self.document.model_path)
    images = property(lambda self: self.document.images)
    source = property(lambda self: self.document.source)
    state = property(lambda self: self.document.state)
    mask = property(lambda self: self.document.mask)
    dataset = property(lambda self: self.document.dataset)
    current_frame = property(lambda self: self.document.frame)
    steps = property(lambda self: self.document.steps)
    unsaved_edits = property(lambda self: self.document.unsaved_edits)
    result = property(lambda self: self.document.result)  # newest result
    busy = property(lambda self: self.runner.busy)

    # Layout.
    def _build(self) -> None:
        self.sequence_controls = SequenceControls()
        self.mask_controls = MaskControls(self.document.paint)
        self.controls_scroll = controls_column(self.sequence_controls, self.mask_controls)
        self.canvas = PaintCanvas()
        self.canvas.setToolTip(
            "What the model is shown: red = hidden from it.\n"
            "Left button paints an occlusion with the tool, right button erases:\n"
            "B brush, R rectangle (drag a box), L lasso (drag an outline), F fill (click);\n"
            "E erases with the left button too; [ and ] or Ctrl+wheel size the brush.\n"
            "Each stroke, box, outline or fill is one undo step."
        )
        self.header = CanvasHeader()
        self.canvas_title, self.paint_button = self.header.title, self.header.paint_button
        self.zoom_button, self.reset_zoom_action = (
            self.header.zoom_button,
            self.header.reset_zoom_action,
        )
        self.busy_label, self.timing_label = self.header.busy_label, self.header.timing_label
        self.grid = make_grid()
        self.samples_controls = SamplesControls()
        self.header.add_tool(self.samples_controls)
        self.posterior = PosteriorSamplesView(self.grid, self.samples_controls, self)
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
        center_layout.addWidget(self.header)
        center_layout.addLayout(frames, 1)
        center_layout.addWidget(self.filmstrip.scroller())
        center_layout.addWidget(self.timeline)

        self.a_plot = ASpacePlot()
        self.time_plots = TimePlots()
        self.metrics = MetricsPanel()
        plots = ((self.a_plot, 5), (self.time_plots, 5), (self.metrics, 0))
        self.plots_splitter = plots_column(*plots)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(center)
        self.splitter.addWidget(self.plots_splitter)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.controls_scroll)
        layout.addWidget(self.splitter, 1)

        self.escape_action = QAction("Cancel stroke", self)
        self.escape_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        # Window-wide shortcuts, active while this tab is visible (Qt ignores actions of
        # hidden widgets), so Space and the arrows work wherever the focus is.
        self.addActions(
            [
                *self.timeline.actions_for_window(),
                *self.mask_controls.actions_for_window(),
                self.escape_action,
                self.reset_zoom_action,
            ]
        )

    def _connect(self) -> None:
        doc, mask, mc, canvas = self.document, self.document.mask, self.mask_controls, self.canvas
        paint = doc.paint
        frame = lambda: self.current_frame  # noqa: E731
        links = (  # (signal, slot): input goes to the document, its events come back here
            (doc.swapped, self._on_swapped),
            (doc.mask_changed, self._on_mask_event),
            (doc.frame_changed, self._on_frame),
            (doc.inference_wanted, self._on_inference_wanted),
            (doc.result_changed, self._on_result),
            (paint.size_changed, canvas.set_brush_size),
            (paint.tool_changed, canvas.set_tool),
            (canvas.strokeStarted, doc.press),
            (canvas.strokeMoved, doc.drag_to),
            (canvas.strokeEnded, doc.release),
            (canvas.strokeAborted, doc.cancel),
            (canvas.sizeStepped, paint.step_size),
            (self.escape_action.triggered, canvas.abort),
            (self.paint_button.clicked, lambda: self.show_large("observed")),
            (self.reset_zoom_action.triggered, lambda: canvas.reset_zoom()),
            (mc.undo_action.triggered, mask.undo),
            (mc.redo_action.triggered, mask.redo),
            (mc.hide_action.triggered, lambda: mask.toggle_hidden(frame())),
            (mc.clear_frame_action.triggered, lambda: mask.clear_frame(frame())),
            (mc.clear_all_action.triggered, mask.clear_all),
            (mc.planningRequested, doc.apply_planning),
            (mc.randomRequested, doc.apply_random),
            (mc.bandRequested, doc.apply_band),
            (self.filmstrip.frameClicked, self._on_thumbnail),
            (self.grid.cellClicked, self._on_cell_clicked),
            (self.timeline.frameChanged, doc.set_frame),
            (self.a_plot.frameClicked, doc.set_frame),
            (self.time_plots.frameClicked, doc.set_frame),
            (self.sequence_controls.newSequenceRequested, self.new_sequence),
            (self.sequence_controls.datasetIndexChanged, doc.show_dataset_sequence),
            (self.pairing.switchRequested, self.modelWanted),
            (self.pairing.likeDataRequested, self.new_sequence_like_data),
            (self.samples_controls.changed, self._samples_changed),
            (self.posterior.shown, lambda _samples: self._draw_cells()),
            (self.posterior.failed, lambda m: self.statusMessage.emit(f"Samples failed: {m}")),
        )
        for signal, slot in links:
            signal.connect(slot)
        canvas.set_brush_size(paint.size)
        canvas.set_tool(paint.tool)
        scenes = self.sequence_controls.scene
        scenes.activated.connect(lambda i: self.choose_scene(_scene_key(scenes, i)))

    # Verbs of the tab (the document does the work; these add what the controls say).
    def new_sequence(
        self, scene: str, seed: int, steps: int | None = None, marker: bool | None = None
    ) -> None:
        """Simulate one sequence of `scene` at the model's frame size and show it; with the
        rotation marker as the controls say unless `marker` is given."""
        if marker is None:
            marker = self.sequence_controls.marker.isChecked()
        self.document.new_sequence(scene, seed, steps, bool(marker))

    def choose_scene(self, scene: str) -> None:
        """The user chose `scene`: its shipped model (see `offer_scene_model`) and a new
        sequence of it, in one step."""
        self.offer_scene_model(scene)
        self.new_sequence(scene, self.sequence_controls.seed.value())

    def offer_scene_model(self, scene: str | None) -> bool:
        """Ask the window to open the model shipped for `scene` when the document says the
        model on screen may be replaced (a user's own model never is)."""
        target = self.document.scene_model_to_offer(scene)
        if target is not None:
            self.modelWanted.emit(str(target))
        return target is not None

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
        frame = self.document.first_hidden_middle()
        if frame is not None:
            self.document.set_frame(frame)

    def request_inference(self) -> int:
        """Snapshot sequence + mask and hand them to the worker; newest request wins."""
        self.requests += 1
        mask = self.document.mask
        return self.runner.submit(
            self.model, self.images, mask.frame_visible(), mask.pixel_visible()
        )

    def set_active(self, active: bool) -> None:
        """Explore's keys (the arrows, Space, the painting tools) act window-wide while
        its tab is shown and not at all while another is: the View and Edit menus hold
        them too, so without this the arrows of the Dynamics tab's sliders would step
        Explore's timeline."""
        context = Qt.ShortcutContext.WindowShortcut if active else Qt.ShortcutContext.WidgetShortcut
        for action in self.actions():
            action.setShortcutContext(context)

    def shutdown(self) -> None:
        self.timeline.play_action.setChecked(False)
        self.runner.shutdown()

    # Reactions to the document.
    def _on_inference_wanted(self) -> None:
        self.request_inference()  # looked up now: benchmarks switch the model off here

    def _on_swapped(self, change: Swap) -> None:
        doc = self.document
        if change.model:
            for plot in (self.a_plot, self.time_plots):
                plot.forget_range()  # another model's latent spaces: fit its first result
            self.sequence_controls.follow_model(doc.model_summary, doc.model_record)
            card = model_card(doc.model, doc.model_path, doc.model_summary)
            self.sequence_controls.show_model_card(card, doc.model_path)
        if change.sequence:
            self._show_sequence()
        self.timeline.blockSignals(True)
        self.timeline.set_frame(doc.frame)
        self.timeline.blockSignals(False)
        self._show_pairing()
        self._draw_mask()
        self._draw_cells()
        self._update_undo()

    def _show_sequence(self) -> None:
        doc, controls = self.document, self.sequence_controls
        self.timeline.blockSignals(True)
        self.timeline.set_steps(doc.steps)
        self.timeline.blockSignals(False)
        self.mask_controls.set_steps(doc.steps)
        self.mask_controls.set_frame_size(*doc.images.shape[1:])
        controls.show_source(doc.source)
        data = doc.dataset
        if isinstance(doc.source, SceneSource):
            controls.set_scene(doc.source.scene, doc.source.seed, doc.source.marker)
        elif isinstance(doc.source, DatasetSource):
            record = SceneRecord.from_json(getattr(data, "scene_info", None))
            controls.follow_dataset(doc.sequence_scene, record)
        controls.set_dataset(None if data is None else data.num_sequences, _index(doc.source))
        self.filmstrip.set_imputed(None)  # the document dropped the other sequence's result

    def _on_mask_event(self, event: MaskEvent) -> None:
        # A committed edit's request has left already (`inference_wanted` comes first):
        # the model computes while the window draws.
        self._queue_mask_draw(event.frames)
        if event.committed:
            self._draw_queued_mask()
            self._update_undo()

    def _queue_mask_draw(self, frames: tuple[int, ...] | None) -> None:
        """Draw the mask at the next turn of the event loop: mouse events that arrive
        together (a stroke's moves, its release) draw it once, after the release's request
        has left."""
        self._mask_all_dirty |= frames is None
        self._mask_dirty.update(frames or ())
        if not self._mask_draw_queued:
            self._mask_draw_queued = True
            QTimer.singleShot(0, self, self._draw_queued_mask)

    def _draw_queued_mask(self) -> None:
        if not self._mask_draw_queued:
            return  # drawn already
        frames = None if self._mask_all_dirty else tuple(sorted(self._mask_dirty))
        self._mask_dirty, self._mask_all_dirty, self._mask_draw_queued = set(), False, False
        self._draw_mask(frames)

    def _on_frame(self, frame: int) -> None:
        self.timeline.blockSignals(True)
        self.timeline.set_frame(frame)
        self.timeline.blockSignals(False)
        self.filmstrip.set_current(frame)
        self._draw_canvas()
        self._draw_cells()
        self.a_plot.set_current(frame)
        self.time_plots.set_current(frame)

    # Reactions to input and to the model.
    def _on_cell_clicked(self, name: str) -> None:
        """A click on a tile shows it large; a click on the tile shown returns to painting."""
        self.show_large("observed" if name == self.large_view else name)

    def _on_thumbnail(self, frame: int) -> None:
        self.mask.toggle_hidden(frame)  # first: its request leaves before the frame is drawn
        self.document.set_frame(frame)

    def _samples_changed(self) -> None:
        self.posterior.set_on(self.samples_controls.enabled)
        self.posterior.request(self.model, self.shown)
        self._draw_cells()

    def set_analysis(self, bridge: Any) -> None:
        """The window's analysis process, where the samples are drawn."""
        self.posterior.analysis = bridge

    def _on_busy(self, busy: bool) -> None:
        self.busy_label.setVisible(busy)
        self.busyChanged.emit(busy)

    def _on_result(self, result: InferenceResult) -> None:
        """Everything at once, then one paint: splitting frames and plots over two turns
        of the event loop painted the frames twice and put the plots a paint later."""
        self.filmstrip.set_imputed(result.x_composite)
        self._draw_cells()
        self.metrics.show_metrics(result.metrics)
        self.timing_label.setText(f"model {result.seconds * 1000:.0f} ms")
        for plot in (self.a_plot, self.time_plots):
            plot.show_result(result)
            plot.set_current(self.current_frame)
        self.shown = result
        self.posterior.request(self.model, result)
        self.resultShown.emit(result)

    # Drawing.
    def _update_undo(self) -> None:
        self.mask_controls.undo_action.setEnabled(self.mask.can_undo)
        self.mask_controls.redo_action.setEnabled(self.mask.can_redo)

    def _hidden_pixels(self, frame: int) -> np.ndarray:
        if self.mask.hidden[frame]:
            return np.ones(self.images.shape[1:], dtype=np.float32)
        return self.mask.occluded[frame].astype(np.float32)

    def _draw_mask(self, frames: tuple[int, ...] | None = None) -> None:
        self.filmstrip.set_seen(self.images, self.mask.hidden, self.mask.occluded, frames)
        self.filmstrip.set_current(self.current_frame)
        if frames is None or self.current_frame in frames:
            self._draw_canvas()

    def _draw_canvas(self) -> None:
        t = self.current_frame
        if self.large_view != "observed":
            self._draw_large(t)
            return
        self.canvas.show_frame(self.images[t], self._hidden_pixels(t))
        hidden, painted = bool(self.mask.hidden[t]), bool(self.mask.occluded[t].any())
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
        fill_cells(self.grid, self.images, self.result, self.current_frame)
        self.posterior.fill(self.result, self.current_frame)
        if self.large_view != "observed":
            self._draw_large(self.current_frame)

    def _show_pairing(self) -> None:
        doc = self.document
        scene = doc.sequence_scene
        self.pairing.show_pairing(
            scene,
            doc.model_scene,
            doc.model_path is not None,
            shipped_model(scene),
            doc.parameter_mismatch(),
        )

    def new_sequence_like_data(self) -> None:
        """A sequence simulated as the model's training data was (the banner's button)."""
        record = self.document.model_record
        if record is not None:
            self.new_sequence(record.scene, self.sequence_controls.seed.value())


def _index(source: Any) -> int:
    return int(getattr(source, "index", 0))


def _scene_key(combo, index: int) -> str:
    """The scene name of a combo entry (its data where the entry shows a title)."""
    data = combo.itemData(index)
    return data if isinstance(data, str) and data else combo.itemText(index)

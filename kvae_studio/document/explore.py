"""The Explore document: the sequence, its source, the masks, the model and the frame.

Qt-free, as napari's `ViewerModel` is: the Explore view observes its events and calls
its methods, the window opens and saves files through it, and the tests drive it without
a display. Every change of what is explored (a model, a dataset, a session, a new
sequence) is built and checked first and then swapped in at once as one `ExploreState`;
if an observer fails while reacting, the old state is swapped back, so a failed open
never leaves the document half-changed.

It also holds Explore's rules, so that every view obeys them alike and the tests check
them headless: the paint tool (`PaintTool`) and what a press, a drag and a release do
with it; when an edit asks the model (`inference_wanted`: every committed mask edit and
every swap, never a stroke still under way); and the newest result the model gave.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from psygnal import Signal

from kvae_studio.document import mask_presets as presets
from kvae_studio.document import opening
from kvae_studio.document.masking import MaskEvent, MaskModel
from kvae_studio.document.opening import OpenError
from kvae_studio.document.paint_tool import PaintTool
from kvae_studio.document.shapes import fill_region
from kvae_studio.document.sources import (
    DatasetSource,
    OtherSource,
    SceneSource,
    SequenceSource,
    source_from_dict,
    source_to_dict,
)
from kvae_studio.services.model_card import dataset_scene, model_data_record, model_scene
from kvae_studio.services.model_ref import ExploredModel
from kvae_studio.services.resources import shipped_model, shipped_scene
from model.data import frames_problem
from model.model_file import stored_summary

if TYPE_CHECKING:
    from kvae_studio.services.inference import InferenceResult


@dataclass(frozen=True)
class ExploreState:
    """Everything the document holds, as one value: what a swap puts in place."""

    model: ExploredModel
    model_path: str | None
    images: np.ndarray
    source: SequenceSource
    state: np.ndarray | None
    hidden: np.ndarray
    occluded: np.ndarray
    frame: int
    dataset: Any = None  # model.data.SequenceData of an open dataset
    dataset_path: str | None = None
    model_summary: dict = field(default_factory=dict)  # of the model's file


@dataclass(frozen=True)
class Swap:
    """What a swap replaced: observers redraw just that."""

    model: bool
    sequence: bool


class ExploreDocument:
    """One sequence shown to one model with parts hidden; the Explore view's source of truth.

    Events (psygnal): `swapped(Swap)` after model or sequence changed in one step,
    `mask_changed(MaskEvent)` on every mask edit (strokes included), `frame_changed(int)`,
    `inference_wanted()` when the model should see the document as it now is (after a
    committed mask edit: before its `mask_changed`, so the request leaves before the
    window draws; after a swap: after `swapped`), `result_changed(result)` when the
    newest result is kept (`set_result`).
    """

    swapped = Signal(object)
    mask_changed = Signal(object)
    frame_changed = Signal(int)
    inference_wanted = Signal()
    result_changed = Signal(object)

    def __init__(
        self, model: ExploredModel, model_path: str | None = None,
        model_check: opening.ModelCheck | None = None,
    ):  # fmt: skip
        """`model_check` loads a user's model file whole before it is opened (the window
        runs it in a job's process); without one, only the file's header is checked."""
        self.model_check = model_check
        self.paint = PaintTool()
        self._result: InferenceResult | None = None
        size = model.config.frame_size
        images = np.zeros((1, size, size), np.float32)
        self.mask = MaskModel(*images.shape)
        self.mask.changed.connect(self._forward_mask_event)
        self._swapping = False
        self._records: dict[str, Any] = {}  # each model file's training data, read once
        self._state = ExploreState(
            model, model_path, images, OtherSource("empty"), None,
            self.mask.hidden, self.mask.occluded, 0, model_summary=stored_summary(model_path),
        )  # fmt: skip
        self.mark_saved()

    # Reading.
    @property
    def model(self) -> ExploredModel:
        return self._state.model

    @property
    def model_path(self) -> str | None:
        return self._state.model_path

    @property
    def images(self) -> np.ndarray:
        return self._state.images

    @property
    def source(self) -> SequenceSource:
        return self._state.source

    @property
    def state(self) -> np.ndarray | None:
        """The ball's (x, y, vx, vy) per frame, where known."""
        return self._state.state

    @property
    def frame(self) -> int:
        return self._state.frame

    @property
    def result(self) -> InferenceResult | None:
        """The model's newest result for this sequence (None until its first arrives)."""
        return self._result

    @property
    def steps(self) -> int:
        return self._state.images.shape[0]

    @property
    def dataset(self) -> Any:
        return self._state.dataset

    @property
    def dataset_path(self) -> str | None:
        return self._state.dataset_path

    @property
    def model_summary(self) -> dict[str, Any]:
        """The training summary of the model's file (epoch, scene, data...); {} untrained."""
        return self._state.model_summary

    @property
    def sequence_scene(self) -> str | None:
        """The scene of the sequence on screen, where known (a dataset: as its file says,
        else by its name)."""
        if isinstance(self.source, DatasetSource):
            data = self.dataset
            return getattr(data, "scene", None) or dataset_scene(self.source.path)
        return self.source.scene if isinstance(self.source, SceneSource) else None

    @property
    def model_scene(self) -> str | None:
        """The scene the model was trained on, where its file (or its run's data) says."""
        if self.model_path is None:
            return None
        record = self.model_record
        return model_scene(self.model_summary) or (record.scene if record else None)

    @property
    def model_record(self) -> Any:
        """The scene and parameters of the model's training data (a `SceneRecord`), where
        known: data the studio made says them (`services.model_card.model_data_record`)."""
        path = self.model_path
        if path is None:
            return None
        if self._records.get(path, False) is False:
            self._records[path] = model_data_record(path, self.model_summary)
        return self._records[path]

    def sequence_values(self) -> dict[str, Any] | None:
        """Every scene parameter the sequence on screen was simulated with, where known:
        a simulated one's, or a dataset's that records them."""
        from kvae_studio.sim import scene_params

        source = self.source
        if isinstance(source, SceneSource):
            try:
                params = scene_params(source.scene, **dict(source.parameters))
            except ValueError:
                return None
            return {name: getattr(params, name) for name in params.__dataclass_fields__}
        if isinstance(source, DatasetSource) and self.dataset is not None:
            return getattr(self.dataset, "scene_parameters", None)
        return None

    def parameter_mismatch(self) -> list[tuple[str, Any, Any]]:
        """(name, on screen, in training) for each parameter of motion in which the
        sequence differs from the model's training data, when both are known and of one
        scene ([] otherwise: a scene of its own is said apart)."""
        from kvae_studio.sim.scene_record import differences

        record, shown = self.model_record, self.sequence_values()
        if record is None or shown is None or self.sequence_scene != record.scene:
            return []
        return differences(shown, record.values)

    def snapshot(self) -> ExploreState:
        """The whole document as one value (masks copied), to keep or to put back."""
        return replace(self._state, hidden=self.mask.hidden.copy(),
                       occluded=self.mask.occluded.copy())  # fmt: skip

    def to_session(self):
        """The document as a `Session`, ready for `save_session`."""
        from kvae_studio.document.session import Session

        return Session(
            images=self.images,
            hidden=self.mask.hidden.copy(),
            occluded=self.mask.occluded.copy(),
            model_path=self.model_path,
            source=source_to_dict(self.source),
            frame=self.frame,
            state=self.state,
        )

    # Edits that are not swaps.
    def set_frame(self, frame: int) -> None:
        frame = int(np.clip(frame, 0, self.steps - 1))
        if frame != self._state.frame:
            self._state = replace(self._state, frame=frame)
            self.frame_changed.emit(frame)

    def apply_planning(self, seen: int, hidden: int) -> None:
        self.mask.set_mask(hidden=presets.planning_hidden(self.steps, seen, hidden))

    def apply_random(self, drop_prob: float, seed: int, keep_first: int) -> None:
        self.mask.set_mask(hidden=presets.random_hidden(self.steps, drop_prob, seed, keep_first))

    def apply_band(self, orientation: str, centre: int, thickness: int) -> None:
        t, h, w = self.images.shape
        self.mask.set_mask(occluded=presets.band_occlusion(t, h, w, orientation, centre, thickness))

    # The pointer on the frame, painting with `paint` (the view forwards it here).
    def press(self, x: float, y: float, other_button: bool = False) -> None:
        """The pointer pressed at (x, y) (image coordinates; `other_button`: the right
        one, which erases where the left paints): the fill edits at once, one undo step;
        the other tools start a drag on this frame or every frame, shown as it goes,
        that `drag_to` moves and `release` makes one undo step."""
        tool = self.paint
        paint = tool.paints(other_button)
        if tool.tool == "fill":  # one click, one edit; the rest of the drag is ignored
            self.fill_at(x, y, paint, tool.all_frames)
            return
        frame = None if tool.all_frames else self.frame
        self.mask.begin_stroke(frame, paint=paint, size=tool.size, tool=tool.tool)
        self.mask.stroke_to(x, y)

    def drag_to(self, x: float, y: float) -> None:
        """The pointer moved to (x, y) with the button held (nothing without a drag)."""
        self.mask.stroke_to(x, y)

    def release(self) -> bool:
        """The button released: the drag is one undo step, if it changed anything."""
        return self.mask.end_stroke()

    def cancel(self) -> None:
        """Escape, or the focus lost mid-drag: the mask is as before the press."""
        self.mask.abort_stroke()

    def set_result(self, result: InferenceResult) -> None:
        """Keep the model's newest result (the runner drops overtaken ones) and say so."""
        self._result = result
        self.result_changed.emit(result)

    def fill_at(self, x: float, y: float, paint: bool, all_frames: bool = False) -> bool:
        """The fill tool's click at (x, y) on the current frame: its connected region of
        one brightness (`shapes.fill_region`) painted, or erased, on that frame or on every
        frame (the same pixels, as the other tools cover them). One undo step."""
        region = fill_region(self.images[self.frame], (x, y))
        if region is None:
            return False
        return self.mask.fill(None if all_frames else self.frame, paint, region)

    def first_hidden_middle(self) -> int | None:
        """The middle of the first hidden stretch: where imputation shows most."""
        return presets.middle_of_first_run(self.mask.hidden)

    def mark_saved(self) -> None:
        """The masks as they are now are kept somewhere (a session, or fresh defaults)."""
        self._saved_mask = (self.mask.hidden.copy(), self.mask.occluded.copy())

    @property
    def unsaved_edits(self) -> bool:
        """Masks edited since the sequence was opened or the session last saved."""
        hidden, occluded = self._saved_mask
        if hidden.shape != self.mask.hidden.shape:
            return False
        same = np.array_equal(hidden, self.mask.hidden)
        return not (same and np.array_equal(occluded, self.mask.occluded))

    def scene_model_to_offer(self, scene: str | None) -> Path | None:
        """The shipped model of `scene`, when the model on screen is a shipped one of
        another scene, or untrained; None when a user's own model is on screen (it is
        never replaced without asking) or nothing better is shipped."""
        target = shipped_model(scene)
        current = shipped_scene(self.model_path)
        ours = self.model_path is None or current is not None
        if target is None or not ours or current == scene:
            return None
        return target

    # Swaps: build the next state, check it, put it in place at once.
    def set_model(self, model: ExploredModel, path: str | None) -> None:
        """Look at the same sequence with another model of the same frame size."""
        problem = frames_problem(self.images.shape, model.config.frame_size)
        if problem:
            raise OpenError(problem)
        self.swap(replace(self.snapshot(), model=model, model_path=path,
                          model_summary=stored_summary(path)))  # fmt: skip

    def set_sequence(
        self,
        images: np.ndarray,
        source: SequenceSource,
        state: np.ndarray | None = None,
        hidden: np.ndarray | None = None,
        occluded: np.ndarray | None = None,
        frame: int = 0,
        model: ExploredModel | None = None,
        model_path: str | None = None,
        dataset: Any = None,
        dataset_path: str | None = None,
    ) -> None:
        """Show a new sequence (T, H, W), with another model if given. Masks: as given,
        else kept if the shape allows (with their undo history), else the paper's planning
        mask (the history starts afresh)."""
        self.swap(self._sequence_state(images, source, state, hidden, occluded, frame,
                                       model, model_path, dataset, dataset_path))  # fmt: skip

    def new_sequence(
        self, scene: str, seed: int, steps: int | None = None, marker: bool = False,
        model: ExploredModel | None = None, model_path: str | None = None,
    ) -> None:  # fmt: skip
        """Simulate one sequence of `scene` at the model's frame size and show it: with
        the parameters (and physics) of the model's training data when that data was of
        this scene and says them, else with the scene's defaults."""
        from kvae_studio.sim import scene_params, simulate
        from kvae_studio.sim.scene_record import RESOLUTION_ONLY, overrides_of

        model = model if model is not None else self.model
        path = model_path if model is not self.model else self.model_path
        record = self._record_of(path, model is self.model)
        size = model.config.frame_size
        legacy = False
        params = scene_params(scene, size=size)
        if record is not None and record.scene == scene:
            with contextlib.suppress(ValueError):  # one this simulator refuses: the defaults
                params, legacy = record.params(size=size), record.legacy_physics
        steps = steps or (self.steps if self.steps > 1 else 20)
        images, state = simulate(params, 1, steps, seed=seed, legacy=legacy, marker=bool(marker))
        changed = tuple((k, v) for k, v in overrides_of(params) if k not in RESOLUTION_ONLY)
        source = SceneSource(scene, int(seed), bool(marker), changed, legacy)
        self.set_sequence(images[0], source, state[0], model=model, model_path=path)

    def _record_of(self, path: str | None, current: bool) -> Any:
        """The training data's record of the model at `path` (the one on screen or not)."""
        if current:
            return self.model_record
        if path is None:
            return None
        if self._records.get(path, False) is False:
            self._records[path] = model_data_record(path, stored_summary(path))
        return self._records[path]

    def show_dataset(self, data: Any, path: str, index: int = 0) -> None:
        """Sequence `index` of a loaded dataset (`model.data.SequenceData`)."""
        index = int(np.clip(index, 0, data.num_sequences - 1))
        state = None if data.state is None else data.state[index]
        source = DatasetSource(str(path), index)
        self.set_sequence(data.images[index], source, state, dataset=data, dataset_path=str(path))

    def show_dataset_sequence(self, index: int) -> None:
        if self.dataset is not None:
            self.show_dataset(self.dataset, self.dataset_path or "", index)

    # Files: each raises OpenError (one line) and leaves the document as it was.
    def open_model(self, path: str | os.PathLike) -> None:
        """Explore the current sequence with the model in `path`; a simulated sequence is
        simulated again at the model's frame size when it differs."""
        model = opening.open_model(path, self.model_check)
        resolved = str(Path(path).resolve())
        problem = frames_problem(self.images.shape, model.config.frame_size)
        if not problem:
            self.swap(replace(self.snapshot(), model=model, model_path=resolved,
                              model_summary=stored_summary(resolved)))  # fmt: skip
        elif isinstance(self.source, SceneSource):
            src = self.source
            self.new_sequence(src.scene, src.seed, marker=src.marker,
                              model=model, model_path=resolved)  # fmt: skip
        else:
            raise OpenError(f"{Path(path).name}: {problem}")

    def open_dataset(self, path: str | os.PathLike, index: int = 0) -> Any:
        """Explore sequence `index` of an .npz dataset; returns its `SequenceData`."""
        data = opening.open_dataset_file(path)
        problem = frames_problem(data.images[0].shape, self.model.config.frame_size)
        if problem:
            raise OpenError(f"{Path(path).name}: {problem}")
        self.show_dataset(data, str(Path(path).resolve()), index)
        return data

    def open_session(self, path: str | os.PathLike) -> str:
        """Put back a saved session (sequence, masks, frame and, if it can, its model);
        returns a note on what could not be put back ("" when all was)."""
        session = opening.open_session_file(path)
        model, model_path, note = self.model, self.model_path, ""
        wanted = session.model_path
        if wanted and wanted != model_path:
            if Path(wanted).is_file():
                try:
                    model, model_path = opening.open_model(wanted, self.model_check), wanted
                except OpenError as err:
                    note = f"its model could not be loaded ({err}), kept the current one"
            else:
                note = f"its model {Path(wanted).name} is missing, kept the current one"
        problem = frames_problem(session.images.shape, model.config.frame_size)
        if problem:
            raise OpenError(f"{Path(path).name}: {problem}")
        self.set_sequence(
            session.images, source_from_dict(session.source), session.state,
            session.hidden, session.occluded, session.frame, model, model_path,
        )  # fmt: skip
        return note

    def save_session(self, path: str | os.PathLike) -> None:
        from kvae_studio.document.session import SessionError, save_session

        try:
            save_session(path, self.to_session())
        except SessionError as err:
            raise OpenError(str(err)) from None
        self.mark_saved()

    def export_masks(self, path: str | os.PathLike, png_stack: bool = False) -> list[Path]:
        """Save the masks of the sequence on screen: one `.masks.npz`, or a PNG stack
        named after `path` (document/mask_file.py); returns the files written."""
        from kvae_studio.document.mask_file import MaskFileError, save_mask_pngs, save_masks

        hidden, occluded = self.mask.hidden, self.mask.occluded
        try:
            if png_stack:
                return save_mask_pngs(path, hidden, occluded)
            save_masks(path, hidden, occluded)
        except MaskFileError as err:
            raise OpenError(str(err)) from None
        return [Path(path)]

    def import_masks(self, path: str | os.PathLike) -> bool:
        """Put the masks of a mask file (a session's, a PNG stack's) on the sequence on
        screen, as one undo step; refused, with the document unchanged, when they are of
        another shape. Returns whether the masks changed."""
        from kvae_studio.document.mask_file import MaskFileError, describe, load_masks

        try:
            hidden, occluded = load_masks(path)
        except MaskFileError as err:
            raise OpenError(str(err)) from None
        if occluded.shape != self.images.shape:
            raise OpenError(
                f"{Path(path).name}: its masks are for {describe(occluded.shape)}, "
                f"the sequence on screen has {describe(self.images.shape)}"
            )
        return self.mask.set_mask(hidden=hidden, occluded=occluded)

    def swap(self, new: ExploreState) -> None:
        """Put `new` in place and tell the observers; should one of them fail, put the
        old state back (and tell them again) and raise `OpenError` with the reason."""
        old, saved = self.snapshot(), self._saved_mask
        self._put(new)
        if new.images is not old.images:
            self.mark_saved()  # a new sequence starts with nothing to save
        try:
            self._announce(old, new)
        except Exception as err:  # whatever broke in an observer, the document stays whole
            self._put(old)
            self._saved_mask = saved
            self._announce(new, old)
            cause = getattr(err, "__cause__", None) or err  # psygnal wraps observer errors
            raise OpenError(opening.one_line(cause)) from None

    # Internals.
    def _sequence_state(self, images, source, state, hidden, occluded, frame,
                        model, model_path, dataset, dataset_path) -> ExploreState:  # fmt: skip
        images = np.asarray(images, dtype=np.float32)
        model = self.model if model is None else model
        path = self.model_path if model is self.model else model_path
        problem = frames_problem(images.shape, model.config.frame_size)
        if problem:
            raise OpenError(problem)
        steps = images.shape[0]
        if hidden is None:
            same_shape = images.shape == self.images.shape
            cfg = model.config
            planning = presets.planning_hidden(steps, cfg.t_init_mask, cfg.t_steps_mask)
            hidden = self.mask.hidden.copy() if same_shape else planning
            if occluded is None and same_shape:
                occluded = self.mask.occluded.copy()
        if occluded is None:
            occluded = np.zeros(images.shape, bool)
        hidden, occluded = np.asarray(hidden, bool), np.asarray(occluded, bool)
        if hidden.shape != (steps,) or occluded.shape != images.shape:
            raise OpenError("the masks do not match the sequence's shape")
        summary = self.model_summary if model is self.model else stored_summary(path)
        return ExploreState(
            model, path, images, source, state, hidden, occluded,
            int(np.clip(frame, 0, steps - 1)), dataset, dataset_path, summary,
        )  # fmt: skip

    def _put(self, new: ExploreState) -> None:
        """Make `new` current; the mask and its undo history are reset only when the
        masks really change: opening a model, or a new sequence that carries the masks
        over, keeps the history with the masks it belongs to."""
        mask = self.mask
        same_mask = (
            new.images.shape == self._state.images.shape
            and np.array_equal(new.hidden, mask.hidden)
            and np.array_equal(new.occluded, mask.occluded)
        )
        if not same_mask:
            self._swapping = True
            try:
                mask.reset(new.hidden, new.occluded, shape=new.images.shape)
            finally:
                self._swapping = False
        self._state = new

    def _announce(self, old: ExploreState, new: ExploreState) -> None:
        changed = Swap(
            model=old.model is not new.model or old.model_path != new.model_path,
            sequence=old.images is not new.images or old.source != new.source,
        )
        if changed.sequence:
            self._result = None  # another sequence's: its own comes with the next request
        self.swapped.emit(changed)
        self.inference_wanted.emit()

    def _forward_mask_event(self, event: MaskEvent) -> None:
        if self._swapping:  # a swap announces itself once, as `swapped`
            return
        if event.committed:  # a stroke under way (a box still dragged) asks nothing yet
            self.inference_wanted.emit()
        self.mask_changed.emit(event)

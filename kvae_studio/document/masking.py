"""What the model is not allowed to see: hidden frames and painted pixels, with undo.

Qt-free on purpose: the window forwards mouse and key input here and listens for
`MaskEvent`s, and the tests replay the same input without a display (napari's labels
layer is the model for this). Two layers make up the mask:

- `hidden` (T,) bool: whole frames withheld from the model (the paper's masks);
- `occluded` (T, H, W) bool: pixels painted over; a frame with every pixel painted
  counts as missing, a partly painted one is a partial observation (model.imputation).

Tools, as napari's labels layer has them: the brush (`begin_stroke(..., tool="brush")`,
the pixels along the drag), the rectangle (the box from the press to the pointer) and
the lasso (the outline drawn so far, closed back to its start); the latter two show
what they would cover while the drag goes on and cover it on release. The fill covers
one connected region of a frame in one edit (`fill`). Which pixels each covers is
brush.py's and shapes.py's business.

Undo follows napari: one drag is one undo step (`begin_stroke` / `stroke_to` /
`end_stroke`, or `abort_stroke`); an undo step stores only the old values under the
bounding box of what changed; undoing swaps them with the current values, which becomes
the redo step; any new edit clears redo; the history is capped.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
from psygnal import Signal

from kvae_studio.document.brush import Point, segment_footprint
from kvae_studio.document.shapes import polygon_footprint, rectangle_footprint

DEFAULT_HISTORY = 100
DRAG_TOOLS = ("brush", "rectangle", "lasso")


@dataclass(frozen=True)
class MaskEvent:
    """The mask changed on `frames`; `committed` is False while a stroke is still going."""

    frames: tuple[int, ...]
    committed: bool


@dataclass(frozen=True)
class _Atom:
    """Values of the mask under one box: enough to swap an edit in or out."""

    box: tuple[slice, slice, slice] | None  # (frames, rows, cols) of `occluded`
    occluded: np.ndarray | None
    hidden_at: np.ndarray | None  # frame indices whose `hidden` changed
    hidden: np.ndarray | None

    def frames(self) -> tuple[int, ...]:
        touched: set[int] = set()
        if self.box is not None:
            touched.update(range(self.box[0].start, self.box[0].stop))
        if self.hidden_at is not None:
            touched.update(int(t) for t in self.hidden_at)
        return tuple(sorted(touched))


@dataclass
class _Stroke:
    frames: slice
    paint: bool
    size: float
    before: np.ndarray
    tool: str = "brush"
    last: Point | None = None
    points: list[Point] = field(default_factory=list)  # the rectangle's and lasso's


class MaskModel:
    """Hidden frames and painted pixels of one sequence, with a capped undo history.
    `changed` tells every change (a `MaskEvent`), as the document's other events do."""

    changed = Signal(object)

    def __init__(self, steps: int, height: int, width: int, max_history: int = DEFAULT_HISTORY):
        if min(steps, height, width) < 1:
            raise ValueError(f"mask shape must be positive, got {steps} x {height} x {width}")
        self._hidden = np.zeros(steps, dtype=bool)
        self._occluded = np.zeros((steps, height, width), dtype=bool)
        self._undo: deque[_Atom] = deque(maxlen=max(int(max_history), 1))
        self._redo: list[_Atom] = []
        self._stroke: _Stroke | None = None

    # Reading.
    @property
    def shape(self) -> tuple[int, int, int]:
        return self._occluded.shape  # type: ignore[return-value]

    @property
    def steps(self) -> int:
        return self._occluded.shape[0]

    @property
    def hidden(self) -> np.ndarray:
        """(T,) bool, read-only view: True = frame withheld."""
        view = self._hidden.view()
        view.flags.writeable = False
        return view

    @property
    def occluded(self) -> np.ndarray:
        """(T, H, W) bool, read-only view: True = pixel painted over."""
        view = self._occluded.view()
        view.flags.writeable = False
        return view

    def frame_visible(self) -> np.ndarray:
        """(T,) float32, 1 = the model may look at the frame (mask convention of model/)."""
        return (~self._hidden).astype(np.float32)

    def pixel_visible(self) -> np.ndarray | None:
        """(T, H, W) float32, 1 = pixel visible; None when nothing is painted (faster path)."""
        if not self._occluded.any():
            return None
        return (~self._occluded).astype(np.float32)

    def fully_visible(self) -> np.ndarray:
        """(T,) bool: frames the model sees entirely (neither hidden nor painted on)."""
        return ~self._hidden & ~self._occluded.any(axis=(1, 2))

    @property
    def stroking(self) -> bool:
        return self._stroke is not None

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def history_length(self) -> int:
        return len(self._undo)

    # Painting.
    def begin_stroke(
        self, frame: int | None, paint: bool, size: float = 1.0, tool: str = "brush"
    ) -> None:
        """Start a drag of `tool` (one of DRAG_TOOLS) on `frame` (None = every frame at
        once); paint=False erases."""
        if tool not in DRAG_TOOLS:
            raise ValueError(f"unknown tool {tool!r}, expected one of {', '.join(DRAG_TOOLS)}")
        if self._stroke is not None:
            self.end_stroke()
        frames = slice(0, self.steps) if frame is None else slice(frame, frame + 1)
        if not 0 <= frames.start < frames.stop <= self.steps:
            raise IndexError(f"frame {frame} outside 0..{self.steps - 1}")
        before = self._occluded[frames].copy()
        self._stroke = _Stroke(frames, bool(paint), float(size), before, tool)

    def stroke_to(self, x: float, y: float) -> None:
        """Move the tool to (x, y): the brush covers the way from the previous point, the
        rectangle and the lasso cover what they would now (the drag's earlier shapes
        undone)."""
        stroke = self._stroke
        if stroke is None:
            return
        if stroke.tool != "brush":
            self._shape_to(stroke, (float(x), float(y)))
            return
        start = stroke.last if stroke.last is not None else (x, y)
        stroke.last = (x, y)
        found = segment_footprint(self.shape[1:], start, (x, y), stroke.size)
        if found is None:
            return
        rows, cols, covered = found
        target = self._occluded[stroke.frames, rows, cols]
        changed = covered & (target != stroke.paint)
        if not changed.any():
            return
        target[:, covered] = stroke.paint
        self._occluded[stroke.frames, rows, cols] = target
        self._emit(tuple(range(stroke.frames.start, stroke.frames.stop)), committed=False)

    def _shape_to(self, stroke: _Stroke, point: Point) -> None:
        stroke.points.append(point)
        if stroke.tool == "rectangle":
            found = rectangle_footprint(self.shape[1:], stroke.points[0], point)
        else:
            found = polygon_footprint(self.shape[1:], stroke.points)
        target = stroke.before.copy()
        if found is not None:
            rows, cols, covered = found
            target[:, rows, cols][:, covered] = stroke.paint  # a view: basic slices
        current = self._occluded[stroke.frames]
        if np.array_equal(current, target):
            return
        current[...] = target
        self._emit(tuple(range(stroke.frames.start, stroke.frames.stop)), committed=False)

    def end_stroke(self) -> bool:
        """Finish the drag: one undo step if it changed anything. Returns whether it did."""
        stroke, self._stroke = self._stroke, None
        if stroke is None:
            return False
        after = self._occluded[stroke.frames]
        box = _change_box(stroke.before, after)
        if box is None:
            return False
        t, r, c = box
        frames = slice(stroke.frames.start + t.start, stroke.frames.start + t.stop)
        old = stroke.before[t, r, c].copy()
        self._push(_Atom((frames, r, c), old, None, None))
        self._emit(tuple(range(frames.start, frames.stop)), committed=True)
        return True

    def abort_stroke(self) -> None:
        """Cancel the drag (Escape, focus lost): the mask is as before it started."""
        stroke, self._stroke = self._stroke, None
        if stroke is None:
            return
        if (self._occluded[stroke.frames] != stroke.before).any():
            self._occluded[stroke.frames] = stroke.before
            self._emit(tuple(range(stroke.frames.start, stroke.frames.stop)), committed=True)

    # Whole edits (each one undo step).
    def fill(self, frame: int | None, paint: bool, region: np.ndarray) -> bool:
        """Paint (or erase) the (H, W) bool `region` on `frame` (None = every frame):
        the fill tool's one click. Returns whether anything changed."""
        self._finish_pending_stroke()
        region = np.asarray(region, dtype=bool)
        if region.shape != self.shape[1:]:
            raise ValueError(f"region must be {self.shape[1:]}, got {region.shape}")
        frames = slice(0, self.steps) if frame is None else slice(frame, frame + 1)
        if not 0 <= frames.start < frames.stop <= self.steps:
            raise IndexError(f"frame {frame} outside 0..{self.steps - 1}")
        occluded = self._occluded.copy()
        occluded[frames, region] = bool(paint)
        return self.set_mask(occluded=occluded)

    def toggle_hidden(self, frame: int) -> None:
        hidden = self._hidden.copy()
        hidden[frame] = not hidden[frame]
        self.set_mask(hidden=hidden)

    def clear_frame(self, frame: int) -> None:
        """Show the frame and remove its paint."""
        hidden, occluded = self._hidden.copy(), self._occluded.copy()
        hidden[frame] = False
        occluded[frame] = False
        self.set_mask(hidden=hidden, occluded=occluded)

    def clear_all(self) -> None:
        """Show every frame and remove all paint."""
        self.set_mask(hidden=np.zeros_like(self._hidden), occluded=np.zeros_like(self._occluded))

    def set_mask(
        self, hidden: np.ndarray | None = None, occluded: np.ndarray | None = None
    ) -> bool:
        """Replace either layer (presets, loading a session): one undo step if anything changed."""
        self._finish_pending_stroke()
        atom = self._atom_for(hidden, occluded)
        if atom is None:
            return False
        self._push(atom)
        self._apply(hidden, occluded)
        self._emit(atom.frames(), committed=True)
        return True

    def reset(
        self,
        hidden: np.ndarray | None = None,
        occluded: np.ndarray | None = None,
        shape: tuple[int, int, int] | None = None,
    ) -> None:
        """Start over with a new mask and an empty history (a new sequence or session),
        of another `shape` (T, H, W) if given. The model object stays the same, so
        whatever listens to it or forwards input to it keeps working."""
        self._stroke = None
        if shape is not None and tuple(shape) != self.shape:
            if min(shape) < 1:
                raise ValueError(f"mask shape must be positive, got {shape}")
            self._hidden = np.zeros(shape[0], dtype=bool)
            self._occluded = np.zeros(shape, dtype=bool)
        self._hidden[:] = False if hidden is None else np.asarray(hidden, dtype=bool)
        self._occluded[:] = False if occluded is None else np.asarray(occluded, dtype=bool)
        self._undo.clear()
        self._redo.clear()
        self._emit(tuple(range(self.steps)), committed=True)

    # History.
    def undo(self) -> bool:
        self._finish_pending_stroke()
        if not self._undo:
            return False
        atom = self._undo.pop()
        self._redo.append(self._swap(atom))
        self._emit(atom.frames(), committed=True)
        return True

    def redo(self) -> bool:
        self._finish_pending_stroke()
        if not self._redo:
            return False
        atom = self._redo.pop()
        self._undo.append(self._swap(atom))
        self._emit(atom.frames(), committed=True)
        return True

    # Internals.
    def _finish_pending_stroke(self) -> None:
        if self._stroke is not None:
            self.end_stroke()

    def _push(self, atom: _Atom) -> None:
        self._undo.append(atom)
        self._redo.clear()

    def _atom_for(self, hidden: np.ndarray | None, occluded: np.ndarray | None) -> _Atom | None:
        box = old_occ = hidden_at = old_hidden = None
        if occluded is not None:
            occluded = np.asarray(occluded, dtype=bool)
            if occluded.shape != self._occluded.shape:
                raise ValueError(f"occluded must be {self._occluded.shape}, got {occluded.shape}")
            box = _change_box(self._occluded, occluded)
            if box is not None:
                old_occ = self._occluded[box].copy()
        if hidden is not None:
            hidden = np.asarray(hidden, dtype=bool)
            if hidden.shape != self._hidden.shape:
                raise ValueError(f"hidden must be {self._hidden.shape}, got {hidden.shape}")
            changed = np.flatnonzero(hidden != self._hidden)
            if changed.size:
                hidden_at, old_hidden = changed, self._hidden[changed].copy()
        if box is None and hidden_at is None:
            return None
        return _Atom(box, old_occ, hidden_at, old_hidden)

    def _apply(self, hidden: np.ndarray | None, occluded: np.ndarray | None) -> None:
        if hidden is not None:
            self._hidden[:] = hidden
        if occluded is not None:
            self._occluded[:] = occluded

    def _swap(self, atom: _Atom) -> _Atom:
        """Put the atom's values in place; return the values it replaced (the inverse)."""
        current_occ = current_hidden = None
        if atom.box is not None:
            current_occ = self._occluded[atom.box].copy()
            self._occluded[atom.box] = atom.occluded
        if atom.hidden_at is not None:
            current_hidden = self._hidden[atom.hidden_at].copy()
            self._hidden[atom.hidden_at] = atom.hidden
        return _Atom(atom.box, current_occ, atom.hidden_at, current_hidden)

    def _emit(self, frames: tuple[int, ...], committed: bool) -> None:
        self.changed.emit(MaskEvent(frames, committed))


def _change_box(before: np.ndarray, after: np.ndarray) -> tuple[slice, slice, slice] | None:
    """Bounding box (frames, rows, cols) of the elements that differ, or None."""
    diff = before != after
    if not diff.any():
        return None
    box = []
    for axis in range(3):
        others = tuple(a for a in range(3) if a != axis)
        idx = np.flatnonzero(diff.any(axis=others))
        box.append(slice(int(idx[0]), int(idx[-1]) + 1))
    return tuple(box)  # type: ignore[return-value]

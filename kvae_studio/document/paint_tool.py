"""The paint tool's settings: which tool, its size, the eraser, one frame or all of them.

They belong to the document, not to the widgets that show them (napari's Labels layer
holds its brush size and mode the same way): the Explore document reads them when the
pointer is pressed, the mask controls and the canvas follow their events, and a test
sets them without a display.
"""

from __future__ import annotations

from typing import Literal, cast, get_args

from psygnal import Signal

ToolKind = Literal["brush", "rectangle", "lasso", "fill"]
TOOLS: tuple[ToolKind, ...] = get_args(ToolKind)
MIN_SIZE, MAX_SIZE, DEFAULT_SIZE = 1, 32, 4  # brush diameters, in frame pixels


class PaintTool:
    """The tool the pointer paints with; each setting announces its change (only a real
    change: setting the value it has says nothing, so views that echo it back stop)."""

    tool_changed = Signal(str)
    size_changed = Signal(int)
    eraser_changed = Signal(bool)
    all_frames_changed = Signal(bool)

    def __init__(
        self,
        tool: ToolKind = "brush",
        size: int = DEFAULT_SIZE,
        eraser: bool = False,
        all_frames: bool = False,
    ) -> None:
        self._tool: ToolKind = _checked_tool(tool)
        self._size = _clamped(size)
        self._eraser = bool(eraser)
        self._all_frames = bool(all_frames)

    @property
    def tool(self) -> ToolKind:
        """The tool: "brush", "rectangle", "lasso" (drags) or "fill" (a click)."""
        return self._tool

    @tool.setter
    def tool(self, tool: str) -> None:
        tool = _checked_tool(tool)
        if tool != self._tool:
            self._tool = tool
            self.tool_changed.emit(tool)

    @property
    def size(self) -> int:
        """The brush's diameter in frame pixels, within MIN_SIZE..MAX_SIZE."""
        return self._size

    @size.setter
    def size(self, size: int) -> None:
        size = _clamped(size)
        if size != self._size:
            self._size = size
            self.size_changed.emit(size)

    def step_size(self, steps: int) -> None:
        """A bigger (steps > 0) or smaller brush: [ and ], Ctrl+wheel on the frame."""
        self.size = self._size + int(steps)

    @property
    def eraser(self) -> bool:
        """The left button erases (and the right one paints)."""
        return self._eraser

    @eraser.setter
    def eraser(self, on: bool) -> None:
        if bool(on) != self._eraser:
            self._eraser = bool(on)
            self.eraser_changed.emit(self._eraser)

    @property
    def all_frames(self) -> bool:
        """Paint the same pixels on every frame at once, like a fixed occluder."""
        return self._all_frames

    @all_frames.setter
    def all_frames(self, on: bool) -> None:
        if bool(on) != self._all_frames:
            self._all_frames = bool(on)
            self.all_frames_changed.emit(self._all_frames)

    @property
    def has_size(self) -> bool:
        """Only the brush has a size; the other tools cover the shape the drag makes."""
        return self._tool == "brush"

    def paints(self, other_button: bool) -> bool:
        """Whether a press paints (True) or erases: the left button as the eraser says,
        the other (right) button the other way."""
        return self._eraser == bool(other_button)


def _checked_tool(tool: str) -> ToolKind:
    if tool not in TOOLS:
        raise ValueError(f"unknown tool {tool!r}, expected one of {', '.join(TOOLS)}")
    return cast(ToolKind, tool)


def _clamped(size: int) -> int:
    return min(max(int(size), MIN_SIZE), MAX_SIZE)

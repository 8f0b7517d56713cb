"""Controls for what the model is shown: paint tools, eraser, history, and mask presets.

The paint tool's settings live in the document (`document.paint_tool.PaintTool`); the
tool, size, eraser and all-frames controls are views of it: user input sets it, its
events set them. The rest are actions and requests that `ExploreView` applies to the
document. Actions carry the keyboard shortcuts, so the buttons here and the Edit menu
share them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kvae_studio.document.mask_presets import ORIENTATIONS
from kvae_studio.document.paint_tool import MAX_SIZE, MIN_SIZE, PaintTool


def _action(parent, text: str, tip: str, keys=(), checkable: bool = False) -> QAction:
    action = QAction(text, parent)
    shortcuts = [QKeySequence(k) for k in keys]
    if shortcuts:
        action.setShortcuts(shortcuts)
        native = QKeySequence.SequenceFormat.NativeText
        tip = f"{tip} ({', '.join(s.toString(native) for s in shortcuts)})"
    action.setToolTip(tip)
    action.setStatusTip(tip)
    action.setCheckable(checkable)
    return action


def _tool_button(action: QAction) -> QToolButton:
    button = QToolButton()
    button.setDefaultAction(action)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return button


def _row(*parts: QWidget | str) -> QHBoxLayout:
    """Widgets side by side in a form's row; a string is a label between them."""
    row = QHBoxLayout()
    for part in parts:
        row.addWidget(QLabel(part) if isinstance(part, str) else part)
    return row


class MaskControls(QWidget):
    """Paint tools, undo/redo, clearing, and the planning / random / band presets."""

    planningRequested = Signal(int, int)
    randomRequested = Signal(float, int, int)
    bandRequested = Signal(str, int, int)

    def __init__(self, paint: PaintTool, parent: QWidget | None = None):
        super().__init__(parent)
        self.paint = paint
        self.brush_action = _action(
            self, "Brush", "Brush: paint over the pixels the pointer drags across", ["B"], True
        )
        self.rectangle_action = _action(
            self, "Rectangle", "Rectangle: drag a box, the pixels inside it are covered",
            ["R"], True,
        )  # fmt: skip
        self.lasso_action = _action(
            self, "Lasso", "Lasso: drag an outline, closed on release, the inside is covered",
            ["L"], True,
        )  # fmt: skip
        self.fill_action = _action(
            self, "Fill", "Fill: a click covers the connected region of one brightness\n"
            "(the ball, a wall, or the background around them)", ["F"], True,
        )  # fmt: skip
        self.tool_actions = {
            "brush": self.brush_action,
            "rectangle": self.rectangle_action,
            "lasso": self.lasso_action,
            "fill": self.fill_action,
        }
        tools = QActionGroup(self)
        tools.setExclusive(True)
        for action in self.tool_actions.values():
            tools.addAction(action)
        self.eraser_action = _action(
            self, "Eraser", "Erase with the tool: give its pixels back to the model\n"
            "(the right button always does)", ["E"], True,
        )  # fmt: skip
        self.all_frames_action = _action(
            self, "All frames", "Paint on every frame at once, like a fixed occluder", ["A"], True
        )
        self.undo_action = _action(
            self, "Undo", "Undo the last mask edit", [QKeySequence.StandardKey.Undo]
        )
        self.redo_action = _action(
            self, "Redo", "Redo the mask edit just undone", ["Ctrl+Shift+Z", "Ctrl+Y"]
        )
        self.hide_action = _action(
            self, "Hide frame", "Hide the current frame from the model, or show it", ["H"]
        )
        self.clear_frame_action = _action(
            self, "Clear frame", "Show the current frame and remove its paint", [Qt.Key.Key_Delete]
        )
        self.clear_all_action = _action(
            self, "Clear all", "Show every frame and remove all paint", ["Shift+Del"]
        )
        self.smaller_action = _action(self, "Smaller brush", "Smaller brush", ["["])
        self.larger_action = _action(self, "Larger brush", "Larger brush", ["]"])
        self.smaller_action.triggered.connect(lambda: paint.step_size(-1))
        self.larger_action.triggered.connect(lambda: paint.step_size(1))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(8)
        layout.addWidget(self._paint_group())
        layout.addWidget(self._frames_group())
        layout.addWidget(self._band_group())
        layout.addStretch(1)
        self._follow_paint()

    def _follow_paint(self) -> None:
        """Show the paint tool as it is and follow it; the user's input sets it (each
        side changes only on a real change, so the echo stops at once)."""
        paint = self.paint
        for name, action in self.tool_actions.items():
            action.toggled.connect(lambda on, name=name: self._tool_chosen(name, on))
        self.size.valueChanged.connect(lambda value: setattr(paint, "size", value))
        self.eraser_action.toggled.connect(lambda on: setattr(paint, "eraser", on))
        self.all_frames_action.toggled.connect(lambda on: setattr(paint, "all_frames", on))
        for changed in (paint.tool_changed, paint.size_changed, paint.eraser_changed,
                        paint.all_frames_changed):  # fmt: skip
            changed.connect(self._show_paint)
        self._show_paint()

    def _tool_chosen(self, name: str, on: bool) -> None:
        if on:  # the one turned on (the one turned off says nothing)
            self.paint.tool = name

    def _show_paint(self, *_changed: object) -> None:
        paint = self.paint
        self.tool_actions[paint.tool].setChecked(True)
        for widget in (self.size, self.size_slider):
            widget.setEnabled(paint.has_size)
        self.size.setValue(paint.size)
        self.eraser_action.setChecked(paint.eraser)
        self.all_frames_action.setChecked(paint.all_frames)

    @property
    def tool(self) -> str:
        """The paint tool chosen: "brush", "rectangle", "lasso" or "fill"."""
        return self.paint.tool

    @property
    def erasing(self) -> bool:
        return self.paint.eraser

    @property
    def all_frames(self) -> bool:
        return self.paint.all_frames

    @property
    def brush_size(self) -> int:
        return self.paint.size

    def actions_for_window(self) -> list[QAction]:
        return [
            *self.tool_actions.values(),
            self.eraser_action,
            self.all_frames_action,
            self.undo_action,
            self.redo_action,
            self.hide_action,
            self.clear_frame_action,
            self.clear_all_action,
            self.smaller_action,
            self.larger_action,
        ]

    def set_frame_size(self, height: int, width: int) -> None:
        """Bound the band's position and width by the frame."""
        extent = width if self.band_orientation.currentText() == "vertical" else height
        self.band_centre.setMaximum(max(extent - 1, 0))
        self.band_width.setMaximum(max(extent, 1))

    def set_steps(self, steps: int) -> None:
        """Bound the frame counts by the sequence's length. A count a short sequence cut
        comes back with a longer one: the user's choice (or the default) is kept."""
        for spin in (self.plan_seen, self.plan_hidden, self.random_keep):
            wanted = self._wanted.get(spin, spin.value())
            spin.blockSignals(True)  # a bound is not a choice
            spin.setMaximum(steps)
            spin.setValue(min(wanted, steps))
            spin.blockSignals(False)

    # Groups.
    def _paint_group(self) -> QGroupBox:
        box = QGroupBox("Paint")
        grid = QGridLayout(box)
        grid.setContentsMargins(6, 8, 6, 6)
        grid.addWidget(_tool_button(self.brush_action), 0, 0)
        grid.addWidget(_tool_button(self.rectangle_action), 0, 1)
        grid.addWidget(_tool_button(self.lasso_action), 1, 0)
        grid.addWidget(_tool_button(self.fill_action), 1, 1)
        self.size = QSpinBox()
        self.size.setRange(MIN_SIZE, MAX_SIZE)
        self.size.setSuffix(" px")
        self.size.setToolTip("Brush diameter in frame pixels ([ and ], or Ctrl+wheel on the frame)")
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(MIN_SIZE, MAX_SIZE)
        self.size_slider.setToolTip(self.size.toolTip())
        self.size.valueChanged.connect(self.size_slider.setValue)
        self.size_slider.valueChanged.connect(self.size.setValue)
        size_row = QHBoxLayout()
        size_row.addWidget(QLabel("Size"))
        size_row.addWidget(self.size_slider, 1)
        size_row.addWidget(self.size)
        grid.addLayout(size_row, 2, 0, 1, 2)
        grid.addWidget(_tool_button(self.eraser_action), 3, 0)
        grid.addWidget(_tool_button(self.all_frames_action), 3, 1)
        grid.addWidget(_tool_button(self.undo_action), 4, 0)
        grid.addWidget(_tool_button(self.redo_action), 4, 1)
        grid.addWidget(_tool_button(self.clear_frame_action), 5, 0)
        grid.addWidget(_tool_button(self.clear_all_action), 5, 1)
        hint = QLabel("Left button paints, right button erases.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(placeholder-text);")
        grid.addWidget(hint, 6, 0, 1, 2)
        return box

    def _frames_group(self) -> QGroupBox:
        box = QGroupBox("Hide frames")
        form = QFormLayout(box)
        form.setContentsMargins(6, 8, 6, 6)
        self.plan_seen = self._spin(0, 20, 4, "Frames shown at the start")
        self.plan_hidden = self._spin(0, 20, 12, "Frames hidden after them")
        form.addRow("Show", _row(self.plan_seen, "then hide", self.plan_hidden))
        self.plan_button = QPushButton("Apply planning mask")
        self.plan_button.setToolTip(
            "The paper's planning mask: show the first frames, hide the next ones, show the rest"
        )
        self.plan_button.clicked.connect(
            lambda: self.planningRequested.emit(self.plan_seen.value(), self.plan_hidden.value())
        )
        form.addRow(self.plan_button)
        self.random_p = QDoubleSpinBox()
        self.random_p.setRange(0.0, 1.0)
        self.random_p.setSingleStep(0.1)
        self.random_p.setValue(0.5)
        self.random_p.setToolTip("Probability that each later frame is hidden")
        self.random_seed = self._spin(
            0, 999_999, 0, "Seed of the random draw (same seed, same mask)"
        )
        self.random_keep = self._spin(0, 20, 4, "Frames always shown at the start")
        self._wanted = {}  # frame counts as chosen, before any sequence's bound
        for spin in (self.plan_seen, self.plan_hidden, self.random_keep):
            self._wanted[spin] = spin.value()
            spin.valueChanged.connect(lambda value, s=spin: self._wanted.__setitem__(s, value))
        form.addRow("Drop", _row("p", self.random_p, "seed", self.random_seed))
        form.addRow("Keep first", self.random_keep)
        self.random_button = QPushButton("Apply random drop")
        self.random_button.setToolTip("Hide each frame after the first ones with probability p")
        self.random_button.clicked.connect(
            lambda: self.randomRequested.emit(
                self.random_p.value(), self.random_seed.value(), self.random_keep.value()
            )
        )
        form.addRow(self.random_button)
        hide = _tool_button(self.hide_action)
        form.addRow(hide)
        return box

    def _band_group(self) -> QGroupBox:
        box = QGroupBox("Occluder band")
        form = QFormLayout(box)
        form.setContentsMargins(6, 8, 6, 6)
        self.band_orientation = QComboBox()
        self.band_orientation.addItems(list(ORIENTATIONS))
        self.band_orientation.setToolTip("A wall across every frame: vertical or horizontal")
        self.band_centre = self._spin(0, 31, 16, "Centre column (vertical) or row (horizontal)")
        self.band_width = self._spin(1, 32, 6, "Thickness of the band in pixels")
        form.addRow("Direction", self.band_orientation)
        form.addRow("Centre", _row(self.band_centre, "width", self.band_width))
        self.band_button = QPushButton("Apply band")
        self.band_button.setToolTip("Replace the painted pixels by a band through every frame")
        self.band_button.clicked.connect(
            lambda: self.bandRequested.emit(
                self.band_orientation.currentText(),
                self.band_centre.value(),
                self.band_width.value(),
            )
        )
        form.addRow(self.band_button)
        return box

    @staticmethod
    def _spin(lo: int, hi: int, value: int, tip: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(lo, hi)
        spin.setValue(value)
        spin.setToolTip(tip)
        return spin

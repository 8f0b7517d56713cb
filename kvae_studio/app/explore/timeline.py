"""Which frame is shown: a slider, play/pause at an adjustable rate, and step actions.

The timeline owns the current frame and announces it (`frameChanged`); every view that
depends on time listens. Keyboard steps (Left/Right/Home/End, Space) are QActions made
here and added to the window by the Explore view, so they work wherever the focus is.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QToolButton,
    QWidget,
)

from kvae_studio.app.icons import media_icon
from kvae_studio.app.layout_firewall import LayoutFirewall

STATUSES = ("hidden", "painted")  # what the Explore view says of a frame beside its number


class Timeline(QWidget):
    """Slider + play controls; `frame` is the current frame, `frameChanged` reports it."""

    frameChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._steps = 1
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._advance)

        self.play_action = QAction("Play", self)
        self.play_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.play_action.setCheckable(True)
        self.play_action.setToolTip("Play or pause the sequence (Space)")
        self.play_action.toggled.connect(self._set_playing)
        self.prev_action = self._action("Previous frame", Qt.Key.Key_Left, lambda: self.step(-1))
        self.next_action = self._action("Next frame", Qt.Key.Key_Right, lambda: self.step(1))
        self.first_action = self._action("First frame", Qt.Key.Key_Home, self.first)
        self.last_action = self._action("Last frame", Qt.Key.Key_End, self.last)

        self.play_button = self._button(self.play_action, "play")
        self._update_play_icon(False)
        # |< and >| jump to the ends, < and > step one frame, as their icons say.
        self.first_button = self._button(self.first_action, "previous")
        self.prev_button = self._button(self.prev_action, "step-back")
        self.next_button = self._button(self.next_action, "step")
        self.last_button = self._button(self.last_action, "next")

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setPageStep(1)
        self.slider.setToolTip("Current frame (Left/Right to step, Home/End to jump)")
        self.slider.valueChanged.connect(self._on_slider)

        self.label = QLabel()
        self.label.setToolTip("Current frame and whether the model sees it")

        self.fps = QSpinBox()
        self.fps.setRange(1, 30)
        self.fps.setValue(6)
        self.fps.setSuffix(" fps")
        self.fps.setToolTip("Playback speed in frames per second")
        self.fps.valueChanged.connect(self._on_fps)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        buttons = (
            self.first_button,
            self.prev_button,
            self.play_button,
            self.next_button,
            self.last_button,
        )
        for w in buttons:
            layout.addWidget(w)
        layout.addWidget(self.slider, 1)
        self._label_slot = LayoutFirewall(self.label)  # a new frame must not re-lay out
        layout.addWidget(self._label_slot)
        layout.addWidget(self.fps)
        self.set_steps(1)
        self.set_status("")

    @property
    def frame(self) -> int:
        return self.slider.value()

    @property
    def steps(self) -> int:
        return self._steps

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def actions_for_window(self) -> list[QAction]:
        return [
            self.play_action,
            self.prev_action,
            self.next_action,
            self.first_action,
            self.last_action,
        ]

    def set_steps(self, steps: int) -> None:
        self._steps = max(int(steps), 1)
        self.slider.setRange(0, self._steps - 1)
        # As wide as its longest text, so it does not shift the slider during playback.
        last = self._steps - 1
        metrics = self.label.fontMetrics()
        widest = max((self._text(last, s) for s in STATUSES), key=metrics.horizontalAdvance)
        self._label_slot.set_longest(widest)

    def set_frame(self, frame: int) -> None:
        self.slider.setValue(max(0, min(int(frame), self._steps - 1)))

    def set_status(self, text: str) -> None:
        self.label.setText(self._text(self.frame, text))

    def _text(self, frame: int, status: str) -> str:
        base = f"frame {frame}/{self._steps - 1}"
        return f"{base} · {status}" if status else base

    def step(self, delta: int) -> None:
        self.set_frame((self.frame + delta) % self._steps)

    def first(self) -> None:
        self.set_frame(0)

    def last(self) -> None:
        self.set_frame(self._steps - 1)

    def _action(self, text: str, key: Qt.Key, slot) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(key))
        action.setToolTip(f"{text} ({QKeySequence(key).toString()})")
        action.triggered.connect(slot)
        return action

    def _button(self, action: QAction, icon: str) -> QToolButton:
        """An icon button that triggers `action` (setDefaultAction would show its text)."""
        button = QToolButton()
        button.setIcon(media_icon(icon))
        button.setIconSize(QSize(18, 18))
        button.setToolTip(action.toolTip())
        button.setAutoRaise(True)
        button.clicked.connect(action.trigger)
        return button

    def _set_playing(self, playing: bool) -> None:
        if playing:
            self._timer.start(int(1000 / self.fps.value()))
        else:
            self._timer.stop()
        self._update_play_icon(playing)

    def _update_play_icon(self, playing: bool) -> None:
        self.play_action.setText("Pause" if playing else "Play")
        self.play_button.setIcon(media_icon("pause" if playing else "play"))

    def _on_fps(self, fps: int) -> None:
        if self._timer.isActive():
            self._timer.setInterval(int(1000 / fps))

    def _advance(self) -> None:
        self.step(1)

    def _on_slider(self, value: int) -> None:
        self.set_status("")
        self.frameChanged.emit(value)

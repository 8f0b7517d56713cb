"""Small widgets the three panels share: progress with a time estimate, a message line.

The estimate is the elapsed time scaled by the remaining fraction, measured from the
first report (so start-up costs such as loading data do not skew the rate).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from kvae_studio import colors


def format_duration(seconds: float) -> str:
    """1:02:03, 4:05 or 7 s: short enough for a status line."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    if minutes:
        return f"{minutes}:{secs:02d}"
    return f"{secs} s"


class Estimator:
    """Remaining time from (done, total) reports."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._t0: float | None = None
        self._done0 = 0.0

    def update(self, done: float, total: float) -> float | None:
        """Seconds left, or None while there is not enough to go on."""
        now = time.monotonic()
        if self._t0 is None or done < self._done0:
            self._t0, self._done0 = now, done
            return None
        rate_done = done - self._done0
        elapsed = now - self._t0
        if rate_done <= 0 or elapsed < 0.5:
            return None
        return (total - done) * elapsed / rate_done


class ProgressRow(QWidget):
    """[=====     ] 42 %  ·  12 s left   (hidden when idle)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.label = QLabel()
        self.label.setMinimumWidth(120)
        self.estimator = Estimator()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.label)

    def start(self, text: str = "starting…") -> None:
        self.estimator.reset()
        self.bar.setRange(0, 0)  # busy until the first report
        self.label.setText(text)
        self.setVisible(True)

    def update_progress(self, done: float, total: float, suffix: str = "") -> None:
        if total <= 0:
            return
        self.bar.setRange(0, 1000)
        self.bar.setValue(int(1000 * min(done / total, 1.0)))
        self.bar.setFormat(f"{100 * done / total:.0f} %")
        left = self.estimator.update(done, total)
        text = f"{format_duration(left)} left" if left is not None else "estimating…"
        self.label.setText(f"{text}{'  ·  ' + suffix if suffix else ''}")

    def busy(self, text: str) -> None:
        self.bar.setRange(0, 0)
        self.label.setText(text)

    def finish(self, text: str = "", done: float | None = None, total: float = 0) -> None:
        """The end: `text` ("finished", "stopped"), and the fraction really done when
        known (a stopped run is not at 100 %); without it, full if `text` else empty."""
        self.bar.setRange(0, 1000)
        if done is not None and total > 0:
            fraction = min(max(done / total, 0.0), 1.0)
        else:
            fraction = 1.0 if text else 0.0
        self.bar.setValue(round(1000 * fraction))
        self.bar.setFormat(f"{100 * fraction:.0f} %")
        self.label.setText(text)


class MessageLabel(QLabel):
    """One line of status: info in the normal colour, errors in red, selectable."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.is_error = False

    def info(self, text: str) -> None:
        self.is_error = False
        self.setStyleSheet("")
        self.setText(text)

    def error(self, text: str) -> None:
        self.is_error = True
        self.setStyleSheet(f"QLabel {{ color: {colors.ERROR}; }}")
        self.setText(text)

    def tell_ending(self, job: Any, failed: str, cancelled: str) -> None:
        """Say how `job` ended if it did not succeed: "<failed>: <its one line>" in red,
        or `cancelled` (its success is the caller's to tell)."""
        job.failed.connect(lambda message: self.error(f"{failed}: {message}"))
        job.cancelled.connect(lambda: self.info(cancelled))


def make_button(text: str, name: str, slot: Callable[[], None]) -> QPushButton:
    """A push button with an object name (tests and style sheets find it by name)."""
    button = QPushButton(text)
    button.setObjectName(name)
    button.clicked.connect(slot)
    return button

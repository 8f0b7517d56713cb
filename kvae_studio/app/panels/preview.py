"""A looping player for a few short sequences, tiled side by side.

One `ImageItem` is created once and updated with `setImage(..., autoLevels=False)`
on a timer, the cheap path in pyqtgraph; the tiles are one image, so a frame costs one
upload however many sequences are shown.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kvae_studio.app.panels.plotting import make_layout_widget
from kvae_studio.app.qtsetup import pg

GAP = 1
GAP_LEVEL = 0.3


def tile(frames: np.ndarray, columns: int) -> np.ndarray:
    """(N, H, W) -> one (rows*H + gaps, columns*W + gaps) image, gaps drawn grey."""
    n, h, w = frames.shape
    rows = -(-n // columns)
    out = np.full((rows * (h + GAP) - GAP, columns * (w + GAP) - GAP), GAP_LEVEL, np.float32)
    for i in range(n):
        r, c = divmod(i, columns)
        out[r * (h + GAP) : r * (h + GAP) + h, c * (w + GAP) : c * (w + GAP) + w] = frames[i]
    return out


class SequencePreview(QWidget):
    """Plays (N, T, H, W) sequences in a loop at `fps` frames per second."""

    def __init__(self, columns: int = 2, fps: float = 10.0, parent: QWidget | None = None):
        super().__init__(parent)
        self.columns = columns
        self.sequences: np.ndarray | None = None
        self.t = 0
        self.view_widget = make_layout_widget()
        self.view = self.view_widget.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.view.setMenuEnabled(False)
        self.image = pg.ImageItem()
        self.view.addItem(self.image)
        self.caption = QLabel("no preview yet")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view_widget, 1)
        layout.addWidget(self.caption)
        self.timer = QTimer(self, interval=int(1000 / fps))
        self.timer.timeout.connect(self.advance)

    def set_sequences(self, images: np.ndarray, caption: str = "") -> None:
        """Show new sequences from their first frame; keeps playing."""
        self.sequences = np.asarray(images, dtype=np.float32)
        self.t = 0
        self.caption_text = caption
        self._show()
        self.view.autoRange(padding=0.02)
        if self.isVisible() and not self.timer.isActive():
            self.timer.start()  # a hidden tab starts playing when shown (showEvent)

    def clear(self, note: str) -> None:
        """Show no frames, only `note` (why there is no preview): frames of parameters that
        are no longer in the form would pass for theirs."""
        self.timer.stop()
        self.sequences = None
        self.image.clear()
        self.caption.setText(note)

    def advance(self) -> None:
        if self.sequences is None:
            return
        self.t = (self.t + 1) % self.sequences.shape[1]
        self._show()

    def stop(self) -> None:
        self.timer.stop()

    def _show(self) -> None:
        frames = self.sequences[:, self.t]
        self.image.setImage(tile(frames, self.columns), autoLevels=False, levels=(0.0, 1.0))
        steps = self.sequences.shape[1]
        prefix = f"{self.caption_text}  ·  " if self.caption_text else ""
        self.caption.setText(f"{prefix}frame {self.t + 1} / {steps}")

    def hideEvent(self, event) -> None:
        self.timer.stop()  # no animation work while the tab is not shown
        super().hideEvent(event)

    def showEvent(self, event) -> None:
        if self.sequences is not None:
            self.timer.start()
        super().showEvent(event)

"""Explore's samples view: where the object could be, by joint samples of the smoothing
posterior (forward filtering, backward sampling) of the sequence on screen.

The smoothed frame shows one answer, the mean; samples show the spread behind it: in a
long hidden stretch the ball may be on either side of a bounce, and the probability map
says so where the mean frame shows a blur. The samples are drawn in the analysis
process (`services.dynamics_tasks.posterior_samples`) after each Explore result, newest
wins; two tiles join the frame grid while the view is on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QSpinBox,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from kvae_studio import colors
from kvae_studio.app.explore.frame_grid import FrameGrid
from kvae_studio.services.dynamics import POSTERIOR_SAMPLES, PosteriorSamples

TASK = "kvae_studio.services.dynamics_tasks:posterior_samples"
CELLS = (  # name, title, tooltip, row, col
    ("probability", "Where it could be",
     "Per pixel, the share of posterior samples that draw the object there: joint samples\n"
     "of z_1:T from the smoothing posterior (forward filtering, backward sampling), decoded",
     3, 0),
    ("samples", "Samples",
     "Four of the posterior samples at this frame: each is one whole path the model\n"
     "finds plausible given what it was shown", 3, 1),
)  # fmt: skip
SHOWN_SAMPLES = 4


class SamplesControls(QWidget):
    """The Samples button in the canvas header; its menu holds the number of samples S
    (in a menu, not beside it: the header must fit a 1024-pixel window)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.toggle = QToolButton()
        self.toggle.setText("Samples")
        self.toggle.setCheckable(True)
        self.toggle.setToolTip(
            "Show where the object could be: posterior samples of the whole sequence\n"
            "(two tiles under the frames); the arrow sets how many"
        )
        self.count = QSpinBox()
        self.count.setRange(2, 1024)
        self.count.setValue(POSTERIOR_SAMPLES)
        self.count.setKeyboardTracking(False)
        self.count.setPrefix("S = ")
        self.count.setToolTip("How many joint samples to draw")
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(QLabel("Samples to draw:"))
        row.addWidget(self.count)
        self.menu = QMenu(self.toggle)
        entry = QWidgetAction(self.menu)
        entry.setDefaultWidget(holder)
        self.menu.addAction(entry)
        self.toggle.setMenu(self.menu)
        self.toggle.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toggle)
        self.toggle.toggled.connect(lambda _: self.changed.emit())
        self.count.valueChanged.connect(self._count_changed)

    def _count_changed(self, _value: int) -> None:
        self.toggle.setText(f"Samples ({self.count.value()})" if self.enabled else "Samples")
        if self.enabled:
            self.changed.emit()

    @property
    def enabled(self) -> bool:
        return self.toggle.isChecked()

    @property
    def samples(self) -> int:
        return self.count.value()


class PosteriorSamplesView(QObject):
    """Asks for samples after each result (while on) and fills the two tiles."""

    shown = Signal(object)  # PosteriorSamples drawn (tests)
    failed = Signal(str)

    def __init__(self, grid: FrameGrid, controls: SamplesControls, parent: QObject | None = None):
        super().__init__(parent)
        self.grid = grid
        self.controls = controls
        self.analysis: Any = None  # the window's analysis bridge (app.work_bridge)
        self.samples: PosteriorSamples | None = None
        self.for_result: Any = None  # the Explore result the samples belong to
        self.task: Any = None

    def set_on(self, on: bool) -> None:
        present = CELLS[0][0] in self.grid.cells
        if on and not present:
            for name, title, tip, row, col in CELLS:
                self.grid.add(name, title, tip, row, col)
        elif not on and present:
            for name, *_ in CELLS:
                self.grid.remove(name)
            self.samples = self.for_result = None
            if self.task is not None:
                self.task.cancel()

    def request(self, model: Any, result: Any) -> None:
        """Draw samples for `result`'s sequence and mask (the newest request wins)."""
        if not self.controls.enabled or self.analysis is None or result is None:
            return
        self.task = task = self.analysis.submit(
            TASK, model, result.images, result.frame_visible, result.pixel_visible,
            self.controls.samples, 0, channel="explore-samples",
        )  # fmt: skip
        task.result.connect(lambda samples: self._arrived(samples, result))
        task.failed.connect(self.failed)

    def _arrived(self, samples: PosteriorSamples, result: Any) -> None:
        self.samples, self.for_result = samples, result
        self.shown.emit(samples)

    def fill(self, result: Any, t: int) -> None:
        """The tiles for frame t, when the samples belong to the result on screen."""
        if CELLS[0][0] not in self.grid.cells:
            return
        if self.samples is None or self.for_result is not result:
            note = "Drawing samples…" if self.controls.enabled else ""
            for name, *_ in CELLS:
                self.grid.show_frame(name, None, note)
            return
        s = self.samples
        self.grid.show_frame("probability", probability_rgb(s.object_probability[t]))
        self.grid.set_title("probability", f"S = {len(s.z)}")
        self.grid.show_frame("samples", mosaic(s.frames[:SHOWN_SAMPLES, t]))
        self.grid.set_title("samples", f"{min(SHOWN_SAMPLES, len(s.frames))} of {len(s.z)}")


def probability_rgb(p: np.ndarray) -> np.ndarray:
    """A probability map (H, W) in [0, 1] as RGB: black, through the smoothed estimate's
    blue, to white where every sample agrees."""
    blue = colors.rgb(colors.SMOOTHED)
    p = np.clip(np.asarray(p, np.float32), 0, 1)[..., None]
    low = 2 * p * blue  # 0 .. 0.5: black to blue
    high = blue + (2 * p - 1) * (1 - blue)  # 0.5 .. 1: blue to white
    return np.where(p < 0.5, low, high).astype(np.float32)


def mosaic(frames: np.ndarray) -> np.ndarray:
    """Up to four frames (n, H, W) as one square picture, 2 x 2 with a grey line between."""
    n, h, w = frames.shape
    out = np.full((2 * h + 1, 2 * w + 1), 0.25, np.float32)
    for i in range(min(n, 4)):
        r, c = divmod(i, 2)
        out[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = frames[i]
    return out


__all__ = ["PosteriorSamplesView", "SamplesControls", "mosaic", "probability_rgb"]

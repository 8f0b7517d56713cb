"""Live imputation metrics: the paper's Hamming distance per estimate, against the baseline.

Numbers with a bar each (shorter is better, the baseline is what drawing the object in
the wrong place scores), and a line that says which frames were scored. When nothing is
seen after the first unseen frame, filtering and smoothing coincide by construction; the
panel says so, so equal numbers do not look like a bug.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from kvae_studio import colors
from kvae_studio.app.elided_label import ElidedLabel
from kvae_studio.app.layout_firewall import LayoutFirewall
from kvae_studio.services.inference import Metrics

ROWS = (
    ("smoothing", "smoothed", colors.SMOOTHED),
    ("filtering", "filtered", colors.FILTERED),
    ("generation", "generated", colors.GENERATED),
    ("baseline", "baseline", colors.BASELINE),
)
COINCIDE = "filtering and smoothing coincide when nothing later is seen"
ROLLOUT = "Generated = filtered: both predict."
ALL_THREE = "All three coincide: all predict."
ROLLOUT_TIP = (
    "Nothing is seen between the first frames, where the roll-out starts, and the scored\n"
    "ones: there the filter only predicts, as the roll-out does, so the two are the same."
)
ROW_H = 20


class _Bars(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.values: dict[str, float] = {}
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(ROW_H * len(ROWS) + 4)

    def sizeHint(self) -> QSize:
        return QSize(260, ROW_H * len(ROWS) + 4)

    def paintEvent(self, ev: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        finite = [v for v in self.values.values() if math.isfinite(v)]
        top = max(finite) if finite else 1.0
        name_w, value_w = 74, 58
        bar_w = max(self.width() - name_w - value_w - 8, 10)
        for i, (key, name, colour) in enumerate(ROWS):
            y = 2 + i * ROW_H
            value = self.values.get(key, math.nan)
            painter.setPen(QColor(colors.TEXT))
            painter.drawText(QRectF(0, y, name_w, ROW_H), Qt.AlignmentFlag.AlignVCenter, name)
            painter.fillRect(QRectF(name_w, y + 5, bar_w, ROW_H - 10), QColor(colors.TRACK))
            if math.isfinite(value) and top > 0:
                width = bar_w * min(value / top, 1.0)
                painter.fillRect(QRectF(name_w, y + 5, width, ROW_H - 10), QColor(colour))
            text = f"{value:.4f}" if math.isfinite(value) else "–"
            painter.drawText(
                QRectF(name_w + bar_w + 4, y, value_w, ROW_H),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                text,
            )
        painter.end()


class MetricsPanel(QWidget):
    """Hamming distances on the unseen frames, updated with every result."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        title = ElidedLabel("Hamming distance on unseen frames  (lower is better)")
        title.setStyleSheet(f"color: {colors.MUTED};")
        self.bars = _Bars()
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {colors.MUTED};")
        # Room for two lines, always: a wrapped note must never be drawn over the bars.
        self.note.setMinimumHeight(2 * self.note.fontMetrics().lineSpacing() + 2)
        self.note.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        layout.addWidget(title)
        layout.addWidget(self.bars)
        note_slot = LayoutFirewall(self.note)  # a new note must not re-lay out the window
        note_slot.setFixedHeight(self.note.minimumHeight())
        layout.addWidget(note_slot)
        self.setToolTip(
            "Fraction of pixels wrong (binarised at 0.5) on the frames the model did not\n"
            "see whole, as in the KVAE paper. Baseline: the largest distance between early\n"
            "and late frames of the truth, what a model that draws the ball in the wrong\n"
            "place scores. A frame partly painted over is scored whole, every pixel of it."
        )
        self.metrics: Metrics | None = None

    def show_metrics(self, metrics: Metrics) -> None:
        self.metrics = metrics
        scored = metrics.frames > 0  # nothing scored: no number, the baseline's neither
        self.bars.values = {k: getattr(metrics, k) if scored else math.nan for k, _, _ in ROWS}
        self.bars.update()
        if not scored:
            note = "Every frame is seen: hide frames or paint over them to score the model."
        else:
            note = scored_note(metrics.frames, metrics.partly)
            if metrics.coincide and metrics.rollout:
                note += f"  {ALL_THREE}"
            elif metrics.coincide:
                note += f"  Note: {COINCIDE}."
            elif metrics.rollout and not metrics.partly:  # two lines hold one note only
                note += f"  {ROLLOUT}"
        self.note.setToolTip(ROLLOUT_TIP if scored and metrics.rollout else "")  # the why
        self.note.setText(note)

    def value_text(self, key: str) -> str:
        """The number shown for `key` (tests read what the user reads)."""
        value = self.bars.values.get(key, math.nan)
        return f"{value:.4f}" if math.isfinite(value) else "–"


def scored_note(frames: int, partly: int) -> str:
    """What was scored: a frame partly painted over counts whole (every pixel of it is
    scored, as the paper scores a hidden frame), so say how many of them there are."""
    if partly == 0:
        return f"Scored on {_count(frames, 'unseen frame')}."
    hidden = frames - partly
    return (
        f"Scored on {_count(frames, 'frame')}: {hidden} hidden, "
        f"{partly} partly painted (scored whole)."
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"

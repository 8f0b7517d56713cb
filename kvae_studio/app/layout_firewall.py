"""A slot for a widget whose content changes with every edit, so the change stays local.

Why: a QLabel whose text changes, or a widget shown or hidden, invalidates its parent's
layout, and the layout request climbs to the window: each level is activated in a turn
of the event loop of its own, and each turn repaints the window. Measured with the
latency benchmark, an edit repainted the whole window four times. Inside this slot, the
child's requests reach a widget with no layout and stop there; the slot keeps the size
it was given at construction (enough for the longest text), and only the child repaints.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QLabel, QWidget


class LayoutFirewall(QWidget):
    """Holds `child` at its full size; its size hints are fixed when it is made."""

    def __init__(self, child: QWidget, longest: str | None = None):
        super().__init__()
        child.setParent(self)
        self.child = child
        self.setSizePolicy(child.sizePolicy())
        self._hint, self._minimum = child.sizeHint(), child.minimumSizeHint()
        if longest is not None:
            self.set_longest(longest)

    def set_longest(self, text: str) -> None:
        """Make room for `text` on one line (the child must be a QLabel): the one change
        of size that is passed on, for a change that is rare (a new sequence length)."""
        label = self.child
        assert isinstance(label, QLabel)
        width = label.fontMetrics().horizontalAdvance(text) + 2 * label.margin() + 8
        hint, minimum = label.sizeHint(), label.minimumSizeHint()
        self._hint = QSize(width, hint.height())
        self._minimum = QSize(width, minimum.height())
        self.updateGeometry()

    def sizeHint(self) -> QSize:
        return self._hint

    def minimumSizeHint(self) -> QSize:
        return self._minimum

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.child.setGeometry(self.rect())

"""A one-line label that elides its text when narrow and then shows it whole as a tooltip.

Why: at 1024 px wide, titles such as "Observed · frame 9 · hidden from the model" were
clipped mid-word with nothing to say what was lost. The label never asks for more width
than a few characters, so a long title cannot widen (or push) its neighbours.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QTextDocumentFragment
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """`setText` takes plain or rich text; `full_text()` gives it back whole."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:
        if text == self._full:  # every mouse move of a stroke sets the same title
            return
        self._full = text
        self._fit()

    def full_text(self) -> str:
        return self._full

    def is_elided(self) -> bool:
        return super().text() != self._full

    def minimumSizeHint(self) -> QSize:
        return QSize(
            self.fontMetrics().horizontalAdvance("Mmm…"), super().minimumSizeHint().height()
        )

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        self._fit()

    def _fit(self) -> None:
        plain = QTextDocumentFragment.fromHtml(self._full).toPlainText()
        metrics = self.fontMetrics()
        if metrics.horizontalAdvance(plain) <= self.width():
            QLabel.setText(self, self._full)
            QLabel.setToolTip(self, "")
        else:
            QLabel.setText(
                self, metrics.elidedText(plain, Qt.TextElideMode.ElideRight, self.width())
            )
            QLabel.setToolTip(self, plain)

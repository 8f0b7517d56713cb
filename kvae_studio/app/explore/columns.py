"""The Explore tab's side columns: the controls on the left, the plots on the right.

Apart from the view so that the view reads as wiring: how the columns scroll, stretch
and keep their minimum widths is layout only.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QSplitter, QStyle, QVBoxLayout, QWidget


def controls_column(*sections: QWidget) -> QScrollArea:
    """The sections one above the other, scrolling when the window is short."""
    column = QWidget()
    layout = QVBoxLayout(column)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    for index, section in enumerate(sections):
        layout.addWidget(section, 1 if index == len(sections) - 1 else 0)
    scroll = QScrollArea()
    scroll.setWidget(column)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    # As wide as the controls plus the scroll bar, so the bar never covers the spin
    # boxes' arrows when the window is too short for the whole column.
    bar = scroll.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
    scroll.setFixedWidth(max(268, column.minimumSizeHint().width() + bar + 2))
    return scroll


def plots_column(*plots: tuple[QWidget, int]) -> QSplitter:
    """(widget, stretch) pairs in a vertical splitter whose parts never collapse."""
    splitter = QSplitter(Qt.Orientation.Vertical)
    for widget, stretch in plots:
        splitter.addWidget(widget)
        splitter.setStretchFactor(splitter.count() - 1, stretch)
    splitter.setChildrenCollapsible(False)
    splitter.setMinimumWidth(250)  # the a-space plot and the scores stay readable
    return splitter

"""How each Dynamics view is laid out: its controls in a row above it (the export button
last, at the right), the view itself taking the room, lines of text under it; parts side
by side in splitters with set shares. One place, so the five views line up alike."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLayout, QSplitter, QVBoxLayout, QWidget

Control = QWidget | tuple[QWidget, int] | None
"""A widget, a (widget, stretch) pair, or None for an empty stretch."""


def view_frame(
    view: QWidget, controls: list[Control], body: QWidget | QLayout, *below: QWidget
) -> QVBoxLayout:
    """Lay `view` out as the controls' row, `body` (stretching), then `below`."""
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    for control in controls:
        if control is None:
            row.addStretch(1)
        elif isinstance(control, tuple):
            row.addWidget(*control)
        else:
            row.addWidget(control)
    layout = QVBoxLayout(view)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addLayout(row)
    if isinstance(body, QLayout):
        layout.addLayout(body, 1)
    else:
        layout.addWidget(body, 1)
    for widget in below:
        layout.addWidget(widget)
    return layout


def split(orientation: Qt.Orientation, *parts: tuple[QWidget, int]) -> QSplitter:
    """(widget, share) pairs in a splitter whose parts never collapse to nothing."""
    splitter = QSplitter(orientation)
    for index, (widget, share) in enumerate(parts):
        splitter.addWidget(widget)
        splitter.setStretchFactor(index, share)
    splitter.setChildrenCollapsible(False)
    return splitter

"""What the panel tests do as a user would: click a button, type over a field, pick from a
drop-down."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

TIMEOUT = 60_000


def click(widget) -> None:
    assert widget.isEnabled(), f"{widget.objectName()} is disabled"
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton)


def type_into(widget, text: str) -> None:
    """Select what the field holds and type over it, as a user would."""
    widget.setFocus()
    target = widget.lineEdit() if hasattr(widget, "lineEdit") and widget.lineEdit() else widget
    target.selectAll()
    QTest.keyClicks(target, text)
    QTest.keyClick(target, Qt.Key.Key_Tab)


def choose(combo, text: str) -> None:
    """Open the drop-down with a click and pick `text` with the arrow keys and Return."""
    QTest.mouseClick(combo, Qt.MouseButton.LeftButton)
    target = combo.findText(text)
    assert target >= 0, text
    key = Qt.Key.Key_Down if target > combo.currentIndex() else Qt.Key.Key_Up
    for _ in range(abs(target - combo.currentIndex())):
        QTest.keyClick(combo.view(), key)
    QTest.keyClick(combo.view(), Qt.Key.Key_Return)

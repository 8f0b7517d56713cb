"""What the panel tests do as a user would: click a button, type over a field."""

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

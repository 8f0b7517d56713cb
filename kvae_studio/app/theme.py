"""The dark theme: frames are white on black, so the window around them is dark too.

Applied to the QApplication by `qtsetup.start` (Fusion style and a dark palette), not by
the window, so tests and embedding applications keep their own look. The colours are
`colors`' (re-exported here for the modules that style with `theme.TEXT` and the like).
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from kvae_studio.colors import (
    ACCENT,
    BACKGROUND,
    BASE,
    BORDER,
    DISABLED,
    MUTED,
    PANEL,
    TEXT,
)

STYLE = f"""
QToolTip {{ color: {TEXT}; background: {PANEL}; border: 1px solid #3a3d42; padding: 4px; }}
QGroupBox {{ border: 1px solid {BORDER}; border-radius: 5px; margin-top: 14px; padding: 6px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 3px; color: {MUTED}; }}
QTabBar::tab {{ padding: 6px 16px; }}
QStatusBar QLabel {{ color: {MUTED}; }}
QToolButton {{
    background: #2b2d31; border: 1px solid #3a3d42; border-radius: 4px; padding: 3px 8px;
}}
QToolButton:hover {{ border-color: #5a5f66; }}
QToolButton:checked {{ background: #23405f; border-color: {ACCENT}; }}
QToolButton:disabled {{ color: {DISABLED}; }}
QToolButton[autoRaise="true"] {{ background: transparent; border: none; padding: 2px; }}
QToolButton[autoRaise="true"]:hover {{ background: #2b2d31; }}
"""


__all__ = ["ACCENT", "BACKGROUND", "BASE", "MUTED", "PANEL", "STYLE", "TEXT", "apply_dark_theme"]


def apply_dark_theme(app: QApplication) -> None:
    """Fusion with a dark palette and a few style rules."""
    app.setStyle("Fusion")
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: BACKGROUND,
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: BASE,
        QPalette.ColorRole.AlternateBase: PANEL,
        QPalette.ColorRole.ToolTipBase: PANEL,
        QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.Text: TEXT,
        QPalette.ColorRole.Button: PANEL,
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: "#0b0c0d",
        QPalette.ColorRole.Link: ACCENT,
        QPalette.ColorRole.PlaceholderText: MUTED,
    }
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(DISABLED))
    app.setPalette(pal)
    app.setStyleSheet(STYLE)

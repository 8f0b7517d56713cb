"""The dark theme: frames are white on black, so the window around them is dark too.

Applied to the QApplication by `main.run_app` (Fusion style and a dark palette), not by
the window, so tests and embedding applications keep their own look.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

BACKGROUND = "#1e1f22"
PANEL = "#26282c"
BASE = "#17181a"
TEXT = "#dcdde0"
MUTED = "#8b8f97"
ACCENT = "#4da3ff"

STYLE = f"""
QToolTip {{ color: {TEXT}; background: {PANEL}; border: 1px solid #3a3d42; padding: 4px; }}
QGroupBox {{ border: 1px solid #34373c; border-radius: 5px; margin-top: 14px; padding: 6px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 3px; color: {MUTED}; }}
QTabBar::tab {{ padding: 6px 16px; }}
QStatusBar QLabel {{ color: {MUTED}; }}
QToolButton {{
    background: #2b2d31; border: 1px solid #3a3d42; border-radius: 4px; padding: 3px 8px;
}}
QToolButton:hover {{ border-color: #5a5f66; }}
QToolButton:checked {{ background: #23405f; border-color: {ACCENT}; }}
QToolButton:disabled {{ color: #5d6067; }}
QToolButton[autoRaise="true"] {{ background: transparent; border: none; padding: 2px; }}
QToolButton[autoRaise="true"]:hover {{ background: #2b2d31; }}
"""


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
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor("#5d6067"))
    app.setPalette(pal)
    app.setStyleSheet(STYLE)

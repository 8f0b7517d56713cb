"""Qt's start-up in one place: the binding, the PySide6 workaround, pyqtgraph's options, the theme.

`start(app)` is called once, explicitly, before the first widget exists: by
`main.run_app` and by the tests' conftest. Importing this module (or any other module of
the studio) changes nothing global; it only imports PySide6 before pyqtgraph so that
pyqtgraph binds to it, which is why Qt modules take `pg` from here.

Order inside `start` matters: the PySide6 6.12 reference-count workaround runs before
widgets make many calls, and `imageAxisOrder='row-major'` is set before any ImageItem
exists so that frames (T, H, W) display as stored, row 0 at the top.
"""

from __future__ import annotations

# isort: off
import PySide6.QtCore  # noqa: F401  (before pyqtgraph: selects the binding it uses)
import pyqtgraph as pg

# isort: on
from PySide6.QtWidgets import QApplication

from kvae_studio.app import pyside_fix, theme

PYQTGRAPH_OPTIONS = {"imageAxisOrder": "row-major"}


def start(app: QApplication | None = None, dark_theme: bool = True) -> None:
    """Apply the workaround and pyqtgraph's options; give `app` the studio's dark theme.

    Safe to call more than once. `dark_theme=False` (the tests) keeps Qt's own style, so
    embedding applications and tests keep their look.
    """
    pyside_fix.apply()
    pg.setConfigOptions(**PYQTGRAPH_OPTIONS)
    if app is not None and dark_theme:
        theme.apply_dark_theme(app)


__all__ = ["PYQTGRAPH_OPTIONS", "pg", "start"]

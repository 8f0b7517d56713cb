"""Qt's start-up in one place: the binding, the PySide6 workaround, pyqtgraph's options, the theme.

`start(app)` is called once, explicitly, before the first widget exists: by
`main.run_app` and by the tests' conftest. Importing this module (or any other module of
the studio) changes nothing global; it only imports PySide6 before pyqtgraph so that
pyqtgraph binds to it, which is why Qt modules take `pg` from here.

`start(app)` also moves Python's cyclic garbage collection onto the GUI thread
(pyqtgraph's `GarbageCollector`: automatic collection off, a timer collects). Python
collects in whichever thread happens to allocate; a collection on a training job's
thread destroyed window QObjects left in reference cycles there, and hung the studio
for good (that thread waiting for the GIL inside ~QObject while holding the object's
lock, the GUI thread holding the GIL and waiting for that lock): seen in full test runs.

Order inside `start` matters: the PySide6 6.12 reference-count workaround runs before
widgets make many calls, and `imageAxisOrder='row-major'` is set before any ImageItem
exists so that frames (T, H, W) display as stored, row 0 at the top.
"""

from __future__ import annotations

# isort: off
import PySide6.QtCore  # noqa: F401  (before pyqtgraph: selects the binding it uses)
import pyqtgraph as pg

# isort: on
import gc

from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtWidgets import QApplication

from kvae_studio.app import pyside_fix, theme

PYQTGRAPH_OPTIONS = {"imageAxisOrder": "row-major"}
GC_INTERVAL_S = 0.5  # how often the GUI thread looks for garbage (cheap when there is none)

_collector: GarbageCollector | None = None


def start(app: QApplication | None = None, dark_theme: bool = True) -> None:
    """Apply the workaround and pyqtgraph's options; give `app` the studio's dark theme.

    Safe to call more than once. `dark_theme=False` (the tests) keeps Qt's own style, so
    embedding applications and tests keep their look.
    """
    pyside_fix.apply()
    pg.setConfigOptions(**PYQTGRAPH_OPTIONS)
    if app is not None:
        collect_garbage_on_gui_thread()
        if dark_theme:
            theme.apply_dark_theme(app)


def collect_garbage_on_gui_thread() -> None:
    """Automatic collection off; a timer of the calling (GUI) thread collects instead.
    Needs a QApplication; calling it again changes nothing."""
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=GC_INTERVAL_S)


def collect_garbage_anywhere() -> None:
    """Python's automatic collection again (for tests that end their windows)."""
    global _collector
    if _collector is not None:
        _collector.timer.stop()
        _collector = None
    gc.enable()


__all__ = [
    "PYQTGRAPH_OPTIONS",
    "collect_garbage_anywhere",
    "collect_garbage_on_gui_thread",
    "pg",
    "start",
]

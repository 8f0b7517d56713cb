"""Import this before any other Qt module of the studio: binding, bug fix, pyqtgraph options.

Order matters: PySide6 must be imported before pyqtgraph so that pyqtgraph binds to it,
the PySide6 6.12 reference-count workaround must run before widgets make many calls,
and `imageAxisOrder='row-major'` must be set before any ImageItem exists so that
frames (T, H, W) display as stored, row 0 at the top.
"""

from __future__ import annotations

import PySide6.QtCore  # noqa: F401  (selects the binding pyqtgraph will use)

try:  # The workaround lives with the panels; the window must not fail without them.
    from kvae_studio.app.panels import pyside_fix as _pyside_fix
except ImportError:  # pragma: no cover - a build without the panels package
    _pyside_fix = None
if _pyside_fix is not None:
    _pyside_fix.apply()

import pyqtgraph as pg

pg.setConfigOptions(imageAxisOrder="row-major")

__all__ = ["pg"]

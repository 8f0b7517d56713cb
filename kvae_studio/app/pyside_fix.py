"""Work around a reference-count bug of PySide6 6.12.0 on Python 3.10 and 3.11.

Measured here (PySide6-Essentials 6.12.0, abi3 wheel, CPython 3.11.7): every call of a
Qt method that returns void drops one reference to `None`, and every `Signal.emit()`
drops one reference to `True`. Python 3.12+ makes those objects immortal, so there it
is harmless; on 3.11 the interpreter aborts ("deallocating None") after a few thousand
calls, i.e. within seconds of using any widget. 6.12.0 is the only version the package
index offers here, so the studio cannot simply pin another one.

`None`, `True` and `False` are statically allocated and never freed, so giving them a
huge reference count is what 3.12 does by design: the leak can then never reach zero.
`apply()` does so only when the leak is detected, and does nothing on 3.12+.
"""

from __future__ import annotations

import ctypes
import sys

_EXTRA = 1 << 40
_applied = False


def leaks_references() -> bool:
    """True if void Qt calls or emits drop references to None or True (the 6.12 bug)."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(16):
        probe.setObjectName("probe")
        probe.ping.emit()
    lost_none = none_before - sys.getrefcount(None)
    lost_true = true_before - sys.getrefcount(True)
    # Pay back what the probe itself took.
    for obj, lost in ((None, lost_none), (True, lost_true)):
        if lost > 0:
            _add_references(obj, lost)
    return lost_none >= 8 or lost_true >= 8


def apply() -> bool:
    """Make None, True and False effectively immortal if needed; returns True if applied."""
    global _applied
    if _applied or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return _applied
    if leaks_references():
        for obj in (None, True, False):
            _add_references(obj, _EXTRA)
        _applied = True
    return _applied


def _add_references(obj: object, count: int) -> None:
    # ob_refcnt is the first field of every CPython object (Py_ssize_t).
    ctypes.c_ssize_t.from_address(id(obj)).value += count

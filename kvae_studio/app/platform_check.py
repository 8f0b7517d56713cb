"""Before Qt starts on X11: can its xcb platform plugin load? If not, say which library is
missing in one line, instead of Qt's abort with a message that names xcb-cursor whatever
library is missing.

No Qt imported here: the check loads the plugin's shared library with ctypes, which
fails with the dynamic loader's own message naming the missing library.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from pathlib import Path

PACKAGES_HINT = (
    "on Debian or Ubuntu: sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 "
    "libxcb-image0 libxcb-render-util0 libxkbcommon-x11-0 (see README, Notes)"
)


def xcb_problem() -> str | None:
    """Why the window cannot open on X11, or None (also when Qt will not use xcb)."""
    if not sys.platform.startswith("linux"):
        return None
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform not in ("", "xcb") or (not platform and os.environ.get("WAYLAND_DISPLAY")):
        return None
    plugin = _plugin_path()
    if plugin is None or not plugin.is_file():
        return None
    try:
        ctypes.CDLL(str(plugin))
    except OSError as err:
        detail = str(err).replace(f"{plugin}: ", "")  # the loader names the library
        return f"Qt's X11 platform plugin cannot load ({detail}); {PACKAGES_HINT}"
    return None


def _plugin_path() -> Path | None:
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    return root / "Qt" / "plugins" / "platforms" / "libqxcb.so"

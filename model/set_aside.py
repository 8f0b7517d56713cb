"""Move a file or folder out of the way under a dated name, never deleting it.

Why: the studio never destroys what a user may want back. A corrupt catalog or settings
file is renamed so the studio can start; a run replaced with ``--overwrite`` moves to a
sibling folder. The new name says why and when: ``catalog.json.unreadable-20261202-163005``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def aside_name(path: str | os.PathLike, why: str) -> Path:
    """A free sibling name of `path`: ``<name>.<why>-<local time>``, numbered if taken."""
    path = Path(path)
    base = path.with_name(f"{path.name}.{why}-{time.strftime('%Y%m%d-%H%M%S')}")
    candidate, n = base, 2
    while candidate.exists() or candidate.is_symlink():
        candidate = base.with_name(f"{base.name}-{n}")
        n += 1
    return candidate


def set_aside(path: str | os.PathLike, why: str) -> Path:
    """Rename `path` to `aside_name(path, why)` and return the new path (OSError if it
    cannot be renamed)."""
    target = aside_name(path, why)
    os.rename(path, target)
    return target

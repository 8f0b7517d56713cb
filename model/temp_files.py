"""Temporary files of atomic writes: one naming scheme, and clean-up of those a killed writer left.

Every file the studio writes goes first to ``.<name>.<pid>-<random>.tmp`` beside the target
and is then renamed over it, so a reader never sees half a file. A process killed mid-write
(SIGKILL, power cut) cannot remove its temporary file; the next write to the same target
does, once it knows the writer is gone: the process id in the name no longer runs. Files
of the older naming (``.<name>.<random>.tmp``, no process id) count as left behind when
nothing has written to them for `LEGACY_IDLE_SECONDS`.
"""

from __future__ import annotations

import os
import re
import stat
import time
import uuid
from contextlib import suppress
from pathlib import Path

LEGACY_IDLE_SECONDS = 600.0


def temporary_path(target: str | os.PathLike) -> Path:
    """A fresh temporary name beside `target`, carrying this process's id."""
    target = Path(target)
    return target.with_name(f".{target.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")


class NotAFileError(OSError):
    """The target of a write exists and is not a regular file (a folder, a device, a pipe)."""


def write_target(path: str | os.PathLike) -> Path:
    """Where an atomic write of `path` puts its file: `path`, or the file its symbolic link
    names (renaming onto the link would cut it and leave the file it named unchanged).

    Refuses, before any work, a `path` that exists and is not a regular file: renaming a
    plain file onto a device, a pipe or a socket replaces it (as root, ``/dev/null``
    itself), and onto a folder fails only after everything was written. Raises
    NotAFileError, whose text reads as the end of "cannot write X: ..."."""
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    try:
        mode = path.stat().st_mode
    except OSError:
        return path  # absent (the usual case), or the write itself says why not
    if stat.S_ISREG(mode):
        return path
    kind = (
        "a folder"
        if stat.S_ISDIR(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a pipe"
        if stat.S_ISFIFO(mode)
        else "not a regular file"
    )
    raise NotAFileError(f"it is {kind}, not a file: give the name of a file to write")


def remove_stale(target: str | os.PathLike) -> list[Path]:
    """Remove the temporary files of `target` whose writer has died; returns them."""
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    pattern = re.compile(
        rf"^\.{re.escape(target.name)}\.(?:(?P<pid>\d+)-[0-9a-f]{{8}}|[0-9a-zA-Z_]{{6,8}})\.tmp$"
    )
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    removed = []
    for name in names:
        match = pattern.match(name)
        if match is None:
            continue
        path = folder / name
        pid = match.group("pid")
        if pid is not None and _running(int(pid)):
            continue
        if pid is None and not _idle(path):
            continue
        with suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another writer of this process (a thread): not ours to remove
    if os.name != "posix":
        return True  # no cheap, safe liveness test: keep the file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _idle(path: Path) -> bool:
    try:
        return time.time() - path.stat().st_mtime > LEGACY_IDLE_SECONDS
    except OSError:
        return False


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never a part:
    a temporary file beside it, flushed to disk, then renamed over it."""
    path = write_target(path)
    remove_stale(path)
    tmp = temporary_path(path)
    try:
        with open(tmp, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """`atomic_write_bytes` of UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))

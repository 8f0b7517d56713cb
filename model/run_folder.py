"""A training run's folder: its file names, its lock, and what may be written into it.

One policy for the command line and the Train panel:

- a folder that holds a run (a model, resume state or log) is refused unless the run is
  continued (resume) or replaced on purpose (overwrite);
- overwrite moves the old run's files (model, best model, resume state, log, studio.json)
  into a sibling folder ``<folder>.replaced-<local time>`` once the new run's inputs are
  known good; other files in the folder stay; nothing is ever deleted;
- one training per folder: ``<folder>/.lock`` is an operating-system lock (filelock), held
  while training and released by the system when the process dies, so a lock left by a
  killed run is simply taken over; ``.lock.owner`` names the holder, so a second training
  into the folder fails at once saying which process has it;
- once the lock is held, temporary files a killed writer left in the folder are removed.

No Qt, no torch: the command line checks the folder before it loads anything.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from model.set_aside import aside_name
from model.temp_files import atomic_write_text

MODEL_FILE = "model.safetensors"
BEST_FILE = "best.safetensors"  # --keep-best: the best epoch on the validation set
RESUME_FILE = "resume.safetensors"
LOG_FILE = "log.jsonl"
STUDIO_FILE = "studio.json"  # the Train panel's record of the run's data and settings
LOCK_FILE = ".lock"
OWNER_FILE = ".lock.owner"
RUN_FILES = (MODEL_FILE, BEST_FILE, RESUME_FILE, LOG_FILE)
"""Any of these makes a folder hold a run."""


class RunFolderError(ValueError):
    """The folder cannot take this run; the message is one line and says what to do."""


def run_files(folder: str | os.PathLike) -> list[str]:
    """The files of a run that `folder` holds (empty if it holds none)."""
    folder = Path(folder)
    return [name for name in RUN_FILES if (folder / name).is_file()]


def check_folder(folder: str | os.PathLike, resume: bool = False, overwrite: bool = False) -> None:
    """Refuse a folder that cannot take the run (RunFolderError); nothing is written."""
    folder = Path(folder)
    _check_path(folder, resume, overwrite)
    found = run_files(folder) if folder.is_dir() else []
    if resume and RESUME_FILE not in found:
        raise RunFolderError(f"nothing to resume in {folder}: no {RESUME_FILE}")
    if not resume and found and not overwrite:
        raise RunFolderError(
            f"{folder} already holds a run ({', '.join(found)}); continue it with --resume, "
            "or replace it with --overwrite (the old run is moved aside, not deleted)"
        )


def _check_path(folder: Path, resume: bool, overwrite: bool) -> None:
    """What can be refused without looking into the folder (no lock needed)."""
    if resume and overwrite:
        raise RunFolderError(
            "--resume continues the run in the folder, --overwrite replaces it: choose one"
        )
    if folder.exists() and not folder.is_dir():
        raise RunFolderError(f"{folder} is a file; the run folder must be a folder")
    parent = _existing_parent(folder)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise RunFolderError(f"cannot create or write {folder}: {parent} is not writable")


class RunFolder:
    """The lock on a run folder, held for the length of a training::

    folder = RunFolder(path).acquire(resume=False, overwrite=True)  # refuses up front
    ...                                  # load and check the inputs
    folder.make_room()                   # only now: the old run moves aside
    ...                                  # train
    folder.release()
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self._lock = FileLock(self.folder / LOCK_FILE, timeout=0, thread_local=False)
        self.notes: list[str] = []  # what was done on the way in (took over, moved aside)
        self.moved_to: Path | None = None
        self._created = False
        self._overwrite = False

    def acquire(
        self, resume: bool = False, overwrite: bool = False, command: str = ""
    ) -> RunFolder:
        """Take the lock, then check the folder under it (`check_folder`).

        RunFolderError when another process trains here (naming it) or the folder cannot
        take the run; the folder is then as it was.
        """
        _check_path(self.folder, resume, overwrite)  # what the folder holds: under the lock
        self._overwrite = overwrite
        self._created = not self.folder.exists()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise RunFolderError(f"cannot create {self.folder}: {err.strerror or err}") from None
        previous = _read_owner(self.folder / OWNER_FILE)
        try:
            self._lock.acquire()
        except Timeout:
            self._created = False
            raise RunFolderError(
                f"{self.folder} is in use by {_describe(previous)}; wait for it to finish or "
                "stop it, or train into another folder"
            ) from None
        except OSError as err:
            self.release()
            raise RunFolderError(f"cannot lock {self.folder}: {err.strerror or err}") from None
        try:
            check_folder(self.folder, resume, overwrite)  # now that no one else writes here
            if previous:
                self.notes.append(f"took over the lock left by {_describe(previous)}, which ended")
            self._write_owner(command)
            _remove_temporaries(self.folder)
        except BaseException:
            self.release()
            raise
        return self

    def make_room(self) -> None:
        """With overwrite, move the old run aside (call once the inputs are known good)."""
        if self._overwrite and run_files(self.folder) and self.moved_to is None:
            self.moved_to = self._move_run_aside()
            self.notes.append(f"moved the previous run to {self.moved_to}")

    def release(self) -> None:
        """Give the folder back. The lock file stays (removing it would race), unless this
        call made the folder and nothing was written in it: then the folder goes too."""
        if self._lock.is_locked:
            (self.folder / OWNER_FILE).unlink(missing_ok=True)
            if self._created and _only_lock_in(self.folder):
                (self.folder / LOCK_FILE).unlink(missing_ok=True)
                self._lock.release()
                with contextlib.suppress(OSError):
                    self.folder.rmdir()
                return
            self._lock.release()
        elif self._created and not any(self.folder.iterdir()):
            with contextlib.suppress(OSError):
                self.folder.rmdir()

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def _write_owner(self, command: str) -> None:
        owner = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "command": command or " ".join(["kvae-studio", *sys.argv[1:]]),
        }
        atomic_write_text(self.folder / OWNER_FILE, json.dumps(owner))

    def _move_run_aside(self) -> Path:
        """The run's files into a new sibling folder, which is returned; other files the
        user keeps in the folder (data, notes) stay where they are."""
        target = aside_name(self.folder.resolve(), "replaced")
        target.mkdir()
        for name in (*RUN_FILES, STUDIO_FILE):
            if (self.folder / name).is_file():
                (self.folder / name).rename(target / name)
        return target


def _only_lock_in(folder: Path) -> bool:
    try:
        return {entry.name for entry in folder.iterdir()} <= {LOCK_FILE}
    except OSError:
        return False


def _existing_parent(folder: Path) -> Path:
    path = folder.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _read_owner(path: Path) -> dict[str, Any]:
    try:
        owner = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return owner if isinstance(owner, dict) else {}


def _describe(owner: dict[str, Any]) -> str:
    if not owner.get("pid"):
        return "another process"
    where = f" on {owner['host']}" if owner.get("host") not in (None, socket.gethostname()) else ""
    text = f"process {owner['pid']}{where}"
    if owner.get("command"):
        text += f" ({owner['command']}"
        text += f", since {owner['started']})" if owner.get("started") else ")"
    return text


def _remove_temporaries(folder: Path) -> None:
    """Under the lock every writer of this folder is this process: any hidden temporary of
    an atomic write that is there was left by a killed one."""
    for entry in folder.glob(".*.tmp"):
        if entry.is_file():
            entry.unlink(missing_ok=True)

"""Checking a user's model file before Explore opens it, without blocking the window.

Why: a file whose header reads fine may still hold weights that cannot be used, and
only loading it whole (torch, a few seconds) says so; the window must not import torch,
and must not freeze or run a nested event loop meanwhile. So the check is a job in a
process of its own, and the window is in a modal state while it runs: a window-modal
progress dialog ("Checking model.safetensors…", Cancel) that takes the input while the
window goes on painting. When the check passes, the open goes on; when it fails, one line
says why and nothing changes; Cancel leaves everything as it was.

A file checked once is remembered by path, size and modification time, so reopening it
(or a session that names it) does not check it again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from kvae_studio.app.modal_job import run_modal
from kvae_studio.app.panels.jobs import ProcessJob
from kvae_studio.services.resources import is_shipped
from model.model_file import ModelFileError

CHECK_TASK = "kvae_studio.services.model_loading:check_model_job"


def _key(path: str | os.PathLike) -> tuple | None:
    """What identifies a file's contents for the check: path, size, modification time."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


class ModelChecks(QObject):
    """Runs the checks and remembers which files passed."""

    checked = Signal(str, bool)  # path, passed (not emitted on cancel)

    def __init__(self, window: QWidget):
        super().__init__(window)
        self.window = window
        self.passed: set[tuple] = set()
        self.job: ProcessJob | None = None
        self.dialog: QProgressDialog | None = None

    def wanted(self, path: str | os.PathLike) -> bool:
        """A user's file that has not passed a check in its present state."""
        key = _key(path)
        return key is not None and not is_shipped(path) and key not in self.passed

    def require(self, path: str) -> None:
        """The document's check (`ExploreDocument.model_check`): the window checks files
        before it opens them, so a file that has not passed here is refused."""
        if self.wanted(path):
            raise ModelFileError(f"{Path(path).name}: not checked yet; open it again")

    @property
    def busy(self) -> bool:
        return self.job is not None

    def check(self, path: str | os.PathLike, then: Callable[[], object]) -> bool:
        """Check `path` in a process of its own, then call `then` if it passed. Returns
        True: the open is under way (False if a check is running already)."""
        if self.job is not None:
            return False
        path = str(path)
        key = _key(path)
        self.job = job = ProcessJob(CHECK_TASK, path, parent=self)
        job.finished.connect(self._done)
        self.dialog = run_modal(
            self.window,
            job,
            f"Checking {Path(path).name}: loading its weights in a process of its own…",
            on_result=lambda _value: self._passed(path, key, then),
            on_failed=lambda message: self._failed(path, message),
            title="Opening a model",
        )
        return True

    def _passed(self, path: str, key: tuple | None, then: Callable[[], object]) -> None:
        if key is not None:
            self.passed.add(key)
        self.checked.emit(path, True)
        then()

    def _failed(self, path: str, message: str) -> None:
        self.checked.emit(path, False)
        name = Path(path).name
        if not message.startswith(name):
            message = f"{name}: cannot be read as a model ({message})"
        show_error = getattr(self.window, "show_error", None)
        if show_error is not None:
            show_error("Cannot open model", message)

    def _done(self) -> None:
        self.job = None
        self.dialog = None

"""The panels' background jobs: a function run in a work process, reported as signals.

Why processes, not threads: simulating, training and sweeping take from milliseconds to
hours, and a thread of the window shares its interpreter lock (pymunk and numpy hold it
between calls) and, for training, puts torch into the window's process. Every job runs
the same way (`services.work` through the window's one bridge, `app.work_bridge`):

- The work is a module-level function `fn(ctx, *args, **kwargs)`, named by
  "module:function" (a function object is named for you), which the child imports; the
  window never does. It reports through its `ctx` (`services.work.TaskContext`):
  progress, intermediate items (or it is a generator), and its return value.
- `Job`s of one function share a process of their own, kept warm for the next one (the
  Scene tab's previews come one after another; a data set's generation must not wait
  behind them, nor they behind it). A `ProcessJob` has a process to itself, ended with
  the job (an export the user waits for: torch's memory given back after). A
  `BackgroundJob` is a `ProcessJob` at a lower priority (nice +10, POSIX): a training
  or a sweep runs for minutes to hours beside the user's work, so it may take every core
  and yet give them up at once to the window and the Explore model's process.
- Every public signal is emitted on the GUI thread; exactly one of `result`, `failed`
  or `cancelled` fires, then `finished`. Cancellation is cooperative.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from kvae_studio.app.work_bridge import Task, TaskSignals, WorkBridge

BACKGROUND_NICENESS = 10  # as `nice` without -n: below the window, above `nice -n 19` batch work
_LIVE: set[Job] = set()  # running jobs, kept alive until they end
_SHARED: dict[str, WorkBridge] = {}  # one warm process per job function


def target_name(work: Callable[..., Any] | str) -> str:
    """'module:function' for a module-level function (or the name itself)."""
    if isinstance(work, str):
        return work
    name = f"{work.__module__}:{work.__qualname__}"
    if "<locals>" in name or "." in work.__qualname__:
        raise ValueError(f"{name}: a job's work must be a module-level function")
    return name


def _shared_bridge(target: str) -> WorkBridge:
    bridge = _SHARED.get(target)
    if bridge is None:
        bridge = _SHARED[target] = WorkBridge(name="kvae-job")
    return bridge


class Job(TaskSignals):
    """One run of `work(ctx, *args, **kwargs)` in the work process of its function."""

    own_process = False
    niceness = 0

    def __init__(
        self,
        work: Callable[..., Any] | str,
        *args: Any,
        parent: QObject | None = None,
        **kwargs: Any,
    ):
        super().__init__(parent)
        self._target = target_name(work)
        self._args, self._kwargs = args, kwargs
        self._bridge = (
            WorkBridge(name="kvae-job", parent=self, niceness=self.niceness)
            if self.own_process
            else _shared_bridge(self._target)
        )
        self._task: Task | None = None
        self._cancel_requested = False
        self.started_at: float | None = None

    def start(self) -> Job:
        self.started_at = time.monotonic()
        _LIVE.add(self)
        task = self._bridge.submit(self._target, *self._args, **self._kwargs)
        for name in ("progress", "item", "result", "failed", "cancelled"):
            getattr(task, name).connect(getattr(self, name))
        task.finished.connect(self._on_finished)
        self._task = task
        if self._cancel_requested:
            task.cancel()
        return self

    def _on_finished(self) -> None:
        _LIVE.discard(self)
        if self.own_process:
            self._bridge.release()
        self.finished.emit()

    def cancel(self) -> None:
        self._cancel_requested = True
        if self._task is not None:
            self._task.cancel()

    def call(self, name: str) -> None:
        """Ask the work's `ctx.controls` to run `name` (a training's pause, resume, stop)."""
        if self._task is not None:
            self._task.call(name)

    @property
    def is_cancelling(self) -> bool:
        return self._cancel_requested

    def is_running(self) -> bool:
        return self._task is not None and not self._task.done

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until the work has ended in its process (at shutdown, in tests); its
        signals are delivered by the event loop afterwards."""
        if self._task is None:
            return True
        deadline = time.monotonic() + msecs / 1000
        while self._bridge.process.is_open(self._task.id):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    @property
    def process(self) -> Any:
        """The work process (`services.work.WorkProcess`): its pid, for tests."""
        return self._bridge.process


class ProcessJob(Job):
    """A `Job` with a process to itself, which ends with it (an export, a model check)."""

    own_process = True


class BackgroundJob(ProcessJob):
    """A `ProcessJob` at a lower priority: a training or a sweep (see the module's
    docstring)."""

    niceness = BACKGROUND_NICENESS


def stop_all(timeout_ms: int = 30_000) -> None:
    """Cancel every running job, wait for each, and end the shared processes (at exit:
    `panels.shutdown`; a later job starts its process again)."""
    for job in list(_LIVE):
        job.cancel()
    for job in list(_LIVE):
        job.wait(timeout_ms)
    for bridge in list(_SHARED.values()):
        bridge.close()

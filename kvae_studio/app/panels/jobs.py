"""Background jobs: run a function or a generator off the GUI thread, report through signals.

Why a helper: simulating, training and sweeping take from seconds to hours, and the
GUI must keep repainting meanwhile. Every panel runs its work the same way, so the
rules live here once:

- The work runs in its own QThread and receives a `JobContext` to report progress,
  send intermediate items and see whether it was cancelled.
- Every public signal of `Job` is emitted on the GUI thread. The worker thread only
  emits private signals that are queued to the `Job` object (which lives on the GUI
  thread) and re-emitted from there, so any slot, lambda or test helper connected to a
  `Job` may touch widgets safely.
- Cancellation is cooperative: `cancel()` sets a flag that the work polls (directly,
  or as the False returned by `ctx.progress`, the convention of `model.evaluation.sweep`
  and the simulator). Killing a thread would leave half-written files and torch in an
  unknown state.
- Exactly one of `result`, `failed` or `cancelled` fires, then `finished`.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from kvae_studio.services.cancelled import Cancelled
from kvae_studio.services.job_process import WorkContext, job_message

log = logging.getLogger(__name__)

_LIVE: set[Job] = set()
"""Running jobs, kept alive here so that a QThread is never garbage-collected while running."""


class JobContext(WorkContext):
    """What work on a thread sees of its job: reports are the runner's queued signals."""

    def __init__(self, runner: _Runner, min_interval: float = 0.05):
        super().__init__(min_interval)
        self._runner = runner

    def _send_progress(self, done: int, total: int) -> None:
        self._runner.progressed.emit(done, total)

    def _send_item(self, item: Any) -> None:
        self._runner.produced.emit(item)


class _Runner(QThread):
    """The thread; its signals are emitted from the worker and queued to the Job."""

    progressed = Signal(int, int)
    produced = Signal(object)
    ended = Signal(str, object)  # "result" | "failed" | "cancelled", payload

    def __init__(self, fn: Callable[..., Any], args: tuple, kwargs: dict):
        super().__init__()
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.context = JobContext(self)

    def run(self) -> None:
        ctx = self.context
        try:
            value = self.fn(ctx, *self.args, **self.kwargs)
            if inspect.isgenerator(value) or isinstance(value, Iterator):
                for item in value:
                    self.produced.emit(item)
                value = None
            if ctx.cancelled:
                self.ended.emit("cancelled", None)
            else:
                self.ended.emit("result", value)
        except Cancelled:
            self.ended.emit("cancelled", None)
        except Exception as err:  # reported to the GUI; the thread must not die silently
            log.exception("background job failed")
            self.ended.emit("failed", job_message(err))


class Job(QObject):
    """One run of `fn(ctx, *args, **kwargs)` on a worker thread.

    If `fn` returns a generator, each yielded value is emitted as `item` and the job's
    result is None.
    """

    progress = Signal(int, int)
    item = Signal(object)
    result = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, fn: Callable[..., Any], *args: Any, parent: QObject | None = None, **kwargs):
        super().__init__(parent)
        self._attach(_Runner(fn, args, kwargs))

    def _attach(self, runner: Any) -> None:
        self._runner = runner
        self._runner.progressed.connect(self._on_progress)
        self._runner.produced.connect(self._on_item)
        self._runner.ended.connect(self._on_ended)
        self._done = False
        self.started_at: float | None = None

    # Control, from the GUI thread.
    def start(self) -> Job:
        self.started_at = time.monotonic()
        _LIVE.add(self)
        self._runner.start()
        return self

    def cancel(self) -> None:
        self._runner.context._cancel.set()

    @property
    def is_cancelling(self) -> bool:
        return self._runner.context.cancelled

    def is_running(self) -> bool:
        return self.started_at is not None and not self._done

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until the thread ends (for shutdown and tests); queued signals still pending."""
        return self._runner.wait(msecs)

    # Relays: these run on the GUI thread.
    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        self.progress.emit(done, total)

    @Slot(object)
    def _on_item(self, value: object) -> None:
        self.item.emit(value)

    @Slot(str, object)
    def _on_ended(self, kind: str, payload: object) -> None:
        self._runner.wait()
        self._done = True
        _LIVE.discard(self)
        if kind == "result":
            self.result.emit(payload)
        elif kind == "failed":
            self.failed.emit(str(payload))
        else:
            self.cancelled.emit()
        self.finished.emit()


class ProcessJob(QObject):
    """One task in a work process of its own (`services.work`, through the window's one
    bridge, `app.work_bridge`), with `Job`'s signals: `target` names the work as
    "module:function" (called as `function(ctx, *args, **kwargs)`), so the window never
    imports it. `call(name)` asks the task's controls to run `name` (a training's pause,
    resume and stop). The process ends with the job."""

    progress = Signal(int, int)
    item = Signal(object)
    result = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, target: str, *args: Any, parent: QObject | None = None, **kwargs):
        super().__init__(parent)
        from kvae_studio.app.work_bridge import WorkBridge

        self._target, self._args, self._kwargs = target, args, kwargs
        self._bridge = WorkBridge(name="kvae-job", parent=self)
        self._task: Any = None
        self._cancel_requested = False
        self.started_at: float | None = None

    def start(self) -> ProcessJob:
        self.started_at = time.monotonic()
        _LIVE.add(self)
        task = self._bridge.submit(self._target, *self._args, **self._kwargs)
        task.progress.connect(self.progress)
        task.item.connect(self.item)
        task.result.connect(self.result)
        task.failed.connect(self.failed)
        task.cancelled.connect(self.cancelled)
        task.finished.connect(self._on_finished)
        self._task = task
        if self._cancel_requested:
            task.cancel()
        return self

    def _on_finished(self) -> None:
        _LIVE.discard(self)
        self._bridge.close()
        self.finished.emit()

    def cancel(self) -> None:
        self._cancel_requested = True
        if self._task is not None:
            self._task.cancel()

    def call(self, name: str) -> None:
        if self._task is not None:
            self._task.call(name)

    @property
    def is_cancelling(self) -> bool:
        return self._cancel_requested

    def is_running(self) -> bool:
        return self._task is not None and not self._task.done

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until the job's process ends (for shutdown and tests)."""
        process = self._bridge.process._process
        if process is not None:
            process.join(msecs / 1000)
            return not process.is_alive()
        return True

    @property
    def process(self) -> Any:
        return self._bridge.process


class JobFailed(Exception):
    """A job run by `run_and_wait` failed or was cancelled; the message is one line."""


def run_and_wait(target: str, *args: Any, parent: QObject | None = None) -> Any:
    """Run `target` ("module:function") in a process and wait for its result, the
    window still painting meanwhile (a local event loop that takes no mouse or key
    input, so nothing can start a second open or export meanwhile); raises JobFailed."""
    from PySide6.QtCore import QEventLoop

    job = ProcessJob(target, *args, parent=parent)
    outcome: dict[str, Any] = {}
    job.result.connect(lambda value: outcome.update(done=value))
    job.failed.connect(lambda text: outcome.update(error=text))
    loop = QEventLoop()
    job.finished.connect(loop.quit)
    job.start()
    loop.exec(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
    if "done" not in outcome:
        raise JobFailed(outcome.get("error", "cancelled"))
    return outcome["done"]


def stop_all(timeout_ms: int = 30_000) -> None:
    """Cancel every running job and wait for its thread (at exit: `panels.shutdown`)."""
    for job in list(_LIVE):
        job.cancel()
    for job in list(_LIVE):
        job.wait(timeout_ms)

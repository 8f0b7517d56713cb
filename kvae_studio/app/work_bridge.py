"""The one Qt bridge over `services.work`: a work process's events as signals on the
GUI thread, per process (`WorkBridge`) and per task (`Task`).

`services.work` calls back on its reader thread; here each event is queued to the GUI
thread and dispatched by its type, so every slot connected to these signals may touch
widgets. No model code, no torch: the tasks are named, never imported.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot

from kvae_studio.services import work


class TaskSignals(QObject):
    """A task's life as signals: progress and items, then exactly one of `result`,
    `failed` or `cancelled`, then `finished` (a `Task`, and the panels' `Job` on it)."""

    progress = Signal(int, int)
    item = Signal(object)
    result = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()


class Task(TaskSignals):
    """One task's events, `started` first."""

    started = Signal()

    def __init__(self, bridge: WorkBridge, task: int):
        super().__init__(bridge)
        self.bridge = bridge
        self.id = task
        self.done = False
        self.details = ""  # a failure's traceback from the child, for the log

    def cancel(self) -> None:
        if not self.done:
            self.bridge.process.cancel(self.id)

    def call(self, name: str) -> None:
        """Ask the task's controls to run `name` (pause, resume, stop)."""
        if not self.done:
            self.bridge.process.call(self.id, name)

    def deliver(self, event: work.Event) -> None:
        """Emit `event` as this task's signal (on the GUI thread)."""
        if self.done:
            return
        match event:
            case work.Started():
                self.started.emit()
            case work.Progress(done=done, total=total):
                self.progress.emit(done, total)
            case work.Item(value=value):
                self.item.emit(value)
            case work.Finished(value=value):
                self._end(self.result, value)
            case work.Failed(message=message, details=details):
                self.details = details
                self._end(self.failed, message)
            case work.Cancelled():
                self._end(self.cancelled)

    def _end(self, signal: Any, *value: Any) -> None:
        self.done = True
        signal.emit(*value)
        self.finished.emit()
        self.bridge.forget(self)


class WorkBridge(QObject):
    """A `services.work.WorkProcess` whose tasks are `Task` objects on the GUI thread.

    The process starts on the first `submit` (or on `start`, to overlap its imports
    with the window's) and lives until `close`; the application's quit closes it.
    """

    processStopped = Signal(str)  # the child died with tasks open: one line
    _event = Signal(object)

    def __init__(
        self,
        name: str = "kvae-work",
        threads: int | None = None,
        parent=None,
        process: work.WorkProcess | None = None,
        died: str | None = None,
        niceness: int = 0,
    ):
        """A bridge over a new process named `name` (at a lower priority for `niceness` >
        0, see `work.WorkProcess`), or over `process`, started already (a spare whose
        imports overlapped the window's)."""
        super().__init__(parent)
        self._tasks: dict[int, Task] = {}
        self._early: dict[int, list] = {}  # events that beat `submit`'s return
        self._event.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)
        self._make = lambda: work.WorkProcess(
            self._event.emit,
            name=name,
            threads=threads,
            niceness=niceness,
            **({} if died is None else {"died": died}),
        )
        if process is None:
            process = self._make()
        else:
            process.set_listener(self._event.emit)
        self.process = process
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.close)

    def start(self) -> None:
        self.process.start()

    def submit(self, target: str, *args: Any, channel: str | None = None, **kwargs: Any) -> Task:
        """Run `target(ctx, *args, **kwargs)` in the process; with a `channel`, earlier
        tasks of that channel are superseded (their results never arrive)."""
        task_id = self.process.submit(target, *args, channel=channel, **kwargs)
        task = Task(self, task_id)
        self._tasks[task_id] = task
        for event in self._early.pop(task_id, []):
            task.deliver(event)
        return task

    def forget(self, task: Task) -> None:
        self._tasks.pop(task.id, None)

    @property
    def open_tasks(self) -> int:
        return len(self._tasks)

    @Slot(object)
    def _dispatch(self, event: work.Event) -> None:
        task = self._tasks.get(event.task)
        if task is None:  # only events queued before `submit` returned
            self._early.setdefault(event.task, []).append(event)
            return
        if isinstance(event, work.Failed) and not self.process.alive:
            self.processStopped.emit(event.message)
        task.deliver(event)

    def hand_over(self) -> work.WorkProcess:
        """Give up the process (to a pool of spares, say): the bridge's next `submit`
        starts a process of its own. The caller now owns the one returned."""
        process, self.process = self.process, self._make()
        return process

    def release(self) -> None:
        """End the process once its tasks are done, without waiting on the GUI thread."""
        self.process.release()

    def close(self, timeout: float = 10.0) -> None:
        """End the process; open tasks end as cancelled."""
        self.process.close(timeout)
        QCoreApplication.sendPostedEvents(self)  # deliver the endings still queued

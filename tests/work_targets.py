"""Tasks the work-process and job tests run in a child (importable by name there)."""

from __future__ import annotations

import os
import time


class Controls:
    def __init__(self) -> None:
        self.paused = False

    def pause(self) -> None:
        self.paused = True


def count_up(ctx, upto: int):
    """Yield (pid, i) for i < upto, reporting progress."""
    for i in range(upto):
        ctx.progress(i + 1, upto)
        yield os.getpid(), i


def echo(ctx, value):
    return value


def niceness(ctx):
    """The child's nice value (POSIX)."""
    return os.nice(0)


def wait_for_cancel(ctx, tag: str = ""):
    """Run until cancelled, with a `pause` the parent may call."""
    ctx.controls = Controls()
    ctx.emit(("started", tag, os.getpid()))
    while not ctx.cancelled:
        if ctx.controls.paused:
            ctx.emit(("paused", tag, os.getpid()))
            ctx.controls.paused = False
        time.sleep(0.005)
    return "never"


def slow_items(ctx, tag: str, count: int = 50):
    """Items until cancelled or done, one every few milliseconds."""
    for i in range(count):
        if ctx.cancelled:
            return
        yield tag, i
        time.sleep(0.005)


def fail(ctx, text: str):
    raise ValueError(text)


def crash(ctx, text: str):
    raise ZeroDivisionError(text)


remembered: dict = {}


def remember(ctx, key, value):
    """State kept in the child between tasks, as a loaded model is."""
    remembered[key] = value
    return sorted(remembered)


def _rebuilt_on() -> str:
    import threading

    return threading.current_thread().name


class UnpickledWhere:
    """Says, in the child, which thread unpickled it."""

    def __init__(self, thread: str = "") -> None:
        self.thread = thread

    def __reduce__(self):
        return (_unpickle_here, ())


def _unpickle_here() -> UnpickledWhere:
    return UnpickledWhere(_rebuilt_on())


def where_unpickled(ctx, value: UnpickledWhere):
    return value.thread, _rebuilt_on()


def report_and_return(ctx, n: int):
    """Progress and an item per step, then a result."""
    for i in range(n):
        ctx.progress(i + 1, n)
        ctx.emit(i)
    return "done"


def yield_nones(ctx):
    yield None
    yield (None, True)


def spin_on_progress(ctx):
    """Runs until `ctx.progress` says it was cancelled."""
    ctx.emit("started")
    while ctx.progress(0, 1):
        time.sleep(0.001)
    return "should not be reported"


def wait_for_path(ctx, path: str):
    """Hold the process until `path` exists (a test's gate on the tasks queued behind)."""
    while not os.path.exists(path) and not ctx.cancelled:
        time.sleep(0.005)

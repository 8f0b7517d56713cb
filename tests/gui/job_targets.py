"""Functions the process-job tests run in a child process (importable by name there)."""

from __future__ import annotations

import os
import time


class Controls:
    def __init__(self) -> None:
        self.paused = False

    def pause(self) -> None:
        self.paused = True


def count_up(ctx, upto: int):
    """Yield (pid, i) for i < upto, reporting progress; returns nothing (a generator)."""
    for i in range(upto):
        ctx.progress(i + 1, upto)
        yield os.getpid(), i


def wait_for_cancel(ctx):
    """Run until cancelled, with a `pause` the window may call."""
    ctx.controls = Controls()
    ctx.emit(("started", os.getpid()))
    while not ctx.cancelled:
        if ctx.controls.paused:
            ctx.emit(("paused", os.getpid()))
            ctx.controls.paused = False
        time.sleep(0.01)
    return "never"


def fail(ctx, text: str):
    raise ValueError(text)


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

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

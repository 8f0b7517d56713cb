"""A panel's job in a process of its own: the child's side. No Qt (the child never
imports it), and the window never imports what the job does.

Why a process: training and sweeps need torch, which takes about a second to import and
hundreds of MB; in a thread of the window they put torch into the window's process and
shared its interpreter lock. The window starts the child with the job's function named
as "module:function", so it imports none of it, and the child streams what the function
reports back over a pipe:

    child -> window: ("progress", done, total), ("item", value), ("ended", kind, payload)
    window -> child: ("cancel",), ("call", name)  # e.g. ("call", "pause") on a training

`kind` is "result", "failed" (payload: one line for the user) or "cancelled". A
function may set `ctx.controls` to an object whose methods ("call") the window may ask
for; if the window goes away, the child is cancelled (and `controls.stop()` is called).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

from kvae_studio.services.cancelled import Cancelled


def job_message(err: BaseException) -> str:
    """Our own errors and ValueError/OSError carry a message for users; others get their type."""
    text = str(err).strip() or type(err).__name__
    ours = type(err).__module__.split(".")[0] in ("model", "kvae_studio")
    if ours or isinstance(err, (ValueError, OSError)):
        return text
    return f"{type(err).__name__}: {text}"


class WorkContext:
    """What the work sees of its job: progress reports, items, and the cancel flag; the
    subclass says how they travel (signals of a thread, or a pipe from a process)."""

    def __init__(self, min_interval: float = 0.05):
        self._cancel = threading.Event()
        self._min_interval = min_interval
        self._last_progress = 0.0

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise `Cancelled` if the job was asked to stop."""
        if self._cancel.is_set():
            raise Cancelled

    def progress(self, done: int, total: int) -> bool:
        """Report progress; returns False once cancelled (stop as soon as convenient).

        Reports closer together than `min_interval` are dropped (but never the last one),
        so a callback called per item does not flood the GUI's event queue.
        """
        now = time.monotonic()
        if done >= total or now - self._last_progress >= self._min_interval:
            self._last_progress = now
            self._send_progress(int(done), int(total))
        return not self._cancel.is_set()

    def emit(self, item: Any) -> None:
        """Send an intermediate result (a training event, a preview frame) to the GUI."""
        self._send_item(item)

    def _send_progress(self, done: int, total: int) -> None:
        raise NotImplementedError

    def _send_item(self, item: Any) -> None:
        raise NotImplementedError


class ChildContext(WorkContext):
    """The context of work in a job's process: reports go over the pipe."""

    def __init__(self, conn: Connection, min_interval: float = 0.05):
        super().__init__(min_interval)
        self._conn = conn
        self._send_lock = threading.Lock()
        self.controls: Any = None  # set by the work: the target of ("call", name)

    def _send_progress(self, done: int, total: int) -> None:
        self.send(("progress", done, total))

    def _send_item(self, item: Any) -> None:
        self.send(("item", item))

    def send(self, message: tuple) -> None:
        with self._send_lock:
            self._conn.send(message)

    def listen(self) -> None:
        """The window's requests, on a thread of the child, until the pipe closes."""
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):  # the window has gone: stop as on Stop
                self._cancel.set()
                if self.controls is not None and hasattr(self.controls, "stop"):
                    self.controls.stop()
                return
            if message[0] == "cancel":
                self._cancel.set()
            elif message[0] == "call" and self.controls is not None:
                getattr(self.controls, message[1])()


def resolve(target: str) -> Any:
    """The function that "module:function" names."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def child_main(target: str, args: tuple, kwargs: dict, conn: Connection) -> None:
    """The child process: run `target(ctx, *args, **kwargs)`, reporting over `conn`."""
    ctx = ChildContext(conn)
    threading.Thread(target=ctx.listen, name="job-control", daemon=True).start()
    try:
        value = resolve(target)(ctx, *args, **kwargs)
        if inspect.isgenerator(value) or isinstance(value, Iterator):
            for item in value:
                ctx.emit(item)
            value = None
        ended: tuple = ("ended", "cancelled", None) if ctx.cancelled else ("ended", "result", value)
    except Cancelled:
        ended = ("ended", "cancelled", None)
    except Exception as err:  # one line for the window; the traceback on this stderr
        import traceback

        traceback.print_exc()
        ended = ("ended", "failed", job_message(err))
    with contextlib.suppress(BrokenPipeError, OSError):  # the window may have gone
        ctx.send(ended)

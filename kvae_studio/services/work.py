"""Work in a process of its own: typed messages, cancellation, "the newest wins".

Why a process: the window never imports torch (about a second to import, hundreds of
MB) and must not share its interpreter lock with the model. A `WorkProcess` is a
spawned child that runs tasks, one at a time and in order, each a function named as
"module:function" (so the parent imports none of it) called as `function(ctx, *args,
**kwargs)`. A task reports through its `TaskContext`: `progress(done, total)`,
`emit(item)` for intermediate results (or it is a generator: each value it yields is an
item), and its return value. What the parent hears are the `Event` dataclasses below,
delivered to one callback on a reader thread; `app/work_bridge.py` turns them into Qt
signals on the GUI thread.

Policies, stated once here:
- Cancellation is cooperative: `cancel(task)` sets the task's flag, which it polls
  (`ctx.cancelled`, `ctx.check()`, or the False that `ctx.progress` returns); a task
  still waiting in the queue is dropped at once. Killing threads would leave
  half-written files and torch in an unknown state.
- The newest wins: a task submitted with a `channel` cancels every earlier task of the
  same channel, and the parent drops whatever those superseded tasks still report but
  their one closing event (`Cancelled`), so a view never goes back to an older request.
- Every task ends with exactly one of `Finished`, `Failed` or `Cancelled`. A child that
  dies (killed, crashed) ends each of its outstanding tasks with `Failed`, saying so.
- A child can hold state between tasks (a loaded model, a data set): that is the task
  functions' business (a module-level cache in the child), not this module's. A task may
  also leave work for the child's idle time (`ctx.idle`, e.g. tabulating a decoder):
  it runs once no message has come for `IDLE_SECONDS`, and must return as soon as its
  `stop()` says a task is waiting.

Qt-free, so that it is tested and used headless; the pipe carries only the studio's own
objects between the studio and its own child.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import itertools
import logging
import multiprocessing
import pickle
import queue
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.reduction import ForkingPickler
from typing import Any

_log = logging.getLogger(__name__)

IDLE_SECONDS = 0.05  # longer than the gaps within a stroke (16 ms at 60 Hz) or a burst


@dataclass(frozen=True)
class _AboutTask:
    """Every message names the task it is about."""

    task: int


# Parent -> child.
@dataclass(frozen=True)
class Submit(_AboutTask):
    target: str  # "module:function"
    arguments: bytes = b""  # (args, kwargs), pickled: see `_Child`
    channel: str | None = None


class Cancel(_AboutTask):
    pass


@dataclass(frozen=True)
class Call(_AboutTask):
    """Ask the task's `ctx.controls` to run its method `name` (a training's pause)."""

    name: str


# Child -> parent: the events a task reports.
class Started(_AboutTask):
    pass


@dataclass(frozen=True)
class Progress(_AboutTask):
    done: int
    total: int


@dataclass(frozen=True)
class Item(_AboutTask):
    value: Any


@dataclass(frozen=True)
class Finished(_AboutTask):
    value: Any


@dataclass(frozen=True)
class Failed(_AboutTask):
    message: str  # one line for the user
    details: str = ""  # the child's traceback, for the log


class Cancelled(_AboutTask):
    pass


class CancelledError(Exception):
    """Raised inside a task (by `TaskContext.check`, or by the task itself) to stop it at
    a safe point; the task then ends with the event `Cancelled`. Here, beside the event,
    so that a task module (`scene_work`, `evaluation.run_sweeps`) needs nothing but this module, the
    standard library's only, to be stopped and tested without a display."""


Event = Started | Progress | Item | Finished | Failed | Cancelled
ENDINGS = (Finished, Failed, Cancelled)


def user_message(err: BaseException) -> str:
    """One line for the user: our own errors, ValueError and OSError carry a message
    meant for users; any other error is named by its type as well."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    ours = type(err).__module__.split(".")[0] in ("model", "kvae_studio")
    if ours or isinstance(err, (ValueError, OSError)):
        return text
    return f"{type(err).__name__}: {text}"


class TaskContext:
    """What a task sees of itself: progress, items, its cancel flag and its controls."""

    def __init__(self, task: int, send: Callable[[Any], None], min_interval: float = 0.05):
        self.task = task
        self._send = send
        self._cancel = threading.Event()
        self._min_interval = min_interval
        self._last_progress = 0.0
        self.controls: Any = None  # set by the task: the target of `Call`
        self.idle: Callable[[Callable[[], bool]], object] | None = None  # see the module

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()
        if self.controls is not None and hasattr(self.controls, "stop"):
            self.controls.stop()

    def check(self) -> None:
        """Raise `CancelledError` if the task was asked to stop."""
        if self._cancel.is_set():
            raise CancelledError

    def progress(self, done: int, total: int) -> bool:
        """Report progress; False once cancelled (stop as soon as convenient). Reports
        closer together than `min_interval` are dropped, never the last one."""
        now = time.monotonic()
        if done >= total or now - self._last_progress >= self._min_interval:
            self._last_progress = now
            self._send(Progress(self.task, int(done), int(total)))
        return not self._cancel.is_set()

    def emit(self, value: Any) -> None:
        """Send an intermediate result (a chunk of a map, a training event)."""
        self._send(Item(self.task, value))


def resolve(target: str) -> Callable[..., Any]:
    """The function that "module:function" names."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def run_task(ctx: TaskContext, target: str, args: tuple, kwargs: dict) -> Event:
    """Run one task to its end and return its closing event (items go out meanwhile)."""
    try:
        value = resolve(target)(ctx, *args, **kwargs)
        if inspect.isgenerator(value) or isinstance(value, Iterator):
            for item in value:
                ctx.emit(item)
                if ctx.cancelled:
                    value.close()
                    break
            value = None
        return Cancelled(ctx.task) if ctx.cancelled else Finished(ctx.task, value)
    except CancelledError:
        return Cancelled(ctx.task)
    except Exception as err:  # one line for the user, the traceback for the log
        return Failed(ctx.task, user_message(err), traceback.format_exc())


# The child.
class _Child:
    """The child's side: a listener thread reads the pipe, the main thread runs tasks.

    A task's arguments reach the listener as bytes and are unpickled by the main thread
    when the task starts: unpickling imports modules (numpy for an array), and two
    threads importing numpy and torch at once can leave one of them a partially
    initialised module (Python breaks the import deadlock that way). Only the main
    thread imports."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.send_lock = threading.Lock()
        self.queue: queue.Queue[Submit | None] = queue.Queue()
        self.lock = threading.Lock()
        self.waiting: dict[int, Submit] = {}
        self.running: tuple[Submit, TaskContext] | None = None
        self.idle_work: Callable[[Callable[[], bool]], object] | None = None

    def send(self, message: Any) -> None:
        with self.send_lock, contextlib.suppress(BrokenPipeError, OSError):
            self.conn.send(message)

    def listen(self) -> None:
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):  # the parent has gone: stop what runs, end
                message = None
            if message is None:
                with self.lock:
                    self.waiting.clear()
                    if self.running is not None:
                        self.running[1].cancel()
                self.queue.put(None)
                return
            if isinstance(message, Submit):
                with self.lock:
                    if message.channel is not None:
                        self._cancel_channel(message.channel)
                    self.waiting[message.task] = message
                self.queue.put(message)
            elif isinstance(message, Cancel):
                with self.lock:
                    self._cancel(message.task)
            elif isinstance(message, Call):
                with self.lock:
                    running = self.running
                if running is not None and running[0].task == message.task:
                    controls = running[1].controls
                    if controls is not None:
                        getattr(controls, message.name)()

    def _cancel(self, task: int) -> None:
        if self.waiting.pop(task, None) is not None:
            self.send(Cancelled(task))
        elif self.running is not None and self.running[0].task == task:
            self.running[1].cancel()

    def _cancel_channel(self, channel: str) -> None:
        for waiting in [s for s in self.waiting.values() if s.channel == channel]:
            self._cancel(waiting.task)
        if self.running is not None and self.running[0].channel == channel:
            self.running[1].cancel()

    def serve(self) -> None:
        while True:
            try:
                submit = self.queue.get(timeout=None if self.idle_work is None else IDLE_SECONDS)
            except queue.Empty:  # nothing to do: the last task's idle work, until a message
                try:
                    self.idle_work(lambda: not self.queue.empty())
                except Exception:  # idle work is optional; the next task reports its own
                    self.idle_work = None
                continue
            if submit is None:
                return
            with self.lock:
                if self.waiting.pop(submit.task, None) is None:
                    continue  # cancelled while it waited (already said)
                ctx = TaskContext(submit.task, self.send)
                self.running = (submit, ctx)
            self.send(Started(submit.task))
            try:
                args, kwargs = pickle.loads(submit.arguments)
            except Exception as err:  # a class the child cannot import, say
                ending: Event = Failed(submit.task, user_message(err), traceback.format_exc())
            else:
                ending = run_task(ctx, submit.target, args, kwargs)
            self.idle_work = ctx.idle
            with self.lock:
                self.running = None
            if isinstance(ending, Failed) and ending.details:
                import sys

                print(ending.details, file=sys.stderr)
            self.send(ending)


def lower_priority(niceness: int) -> None:
    """Add `niceness` to this process's nice value (POSIX; nothing where the platform has
    no `os.nice`, as Windows). Irreversible for a user: only for a process that lives for
    its background work. Best effort: a sandbox that forbids it leaves the work at its
    priority rather than failing it."""
    import os

    if niceness > 0 and hasattr(os, "nice"):
        try:
            os.nice(niceness)
        except OSError:
            _log.info("could not lower the work process's priority", exc_info=True)


def child_main(conn: Connection, threads: int | None, niceness: int = 0) -> None:
    """The child process's entry point."""
    if threads is not None:
        import os

        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, str(threads))
    lower_priority(niceness)
    child = _Child(conn)
    threading.Thread(target=child.listen, name="work-listen", daemon=True).start()
    child.serve()


# The parent.
class WorkProcess:
    """The parent's handle on one child process that runs tasks in order.

    `on_event` is called on the reader thread with every event the parent passes on
    (superseded tasks' reports are dropped; see the module's policies). Use from any
    thread: submit, cancel and call only send a message.
    """

    _ids = itertools.count(1)

    def __init__(
        self,
        on_event: Callable[[Event], None],
        name: str = "kvae-work",
        threads: int | None = None,
        died: str = "the work process stopped (exit code {code})",
        niceness: int = 0,
    ):
        """`niceness` > 0 runs the child at a lower priority (POSIX nice): background work
        (a training, a sweep) that must yield the cores to the window and its model."""
        self._on_event = on_event
        self._niceness = niceness
        self._died = died
        self._name = name
        self._threads = threads
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._open: dict[int, str | None] = {}  # task -> channel, until its ending
        self._superseded: set[int] = set()
        self._latest: dict[str, int] = {}
        self._process: Any = None
        self._conn: Connection | None = None
        self._reader: threading.Thread | None = None
        self._closing = False
        self._pid: int | None = None

    @property
    def pid(self) -> int | None:
        """The child's process id (the last child's, once it has ended)."""
        return self._pid

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def start(self) -> WorkProcess:
        """Start the child now (its imports take a while; overlap them with other work)."""
        if self.alive:
            return self
        context = multiprocessing.get_context("spawn")
        conn, child_end = context.Pipe()
        self._process = context.Process(
            target=child_main,
            args=(child_end, self._threads, self._niceness),
            name=self._name,
            daemon=True,
        )
        self._process.start()
        self._pid = self._process.pid
        child_end.close()
        self._conn = conn
        self._closing = False
        self._reader = threading.Thread(
            target=self._read, args=(conn, self._process), name=f"{self._name}-reader", daemon=True
        )
        self._reader.start()
        return self

    def submit(self, target: str, *args: Any, channel: str | None = None, **kwargs: Any) -> int:
        """Queue `target(ctx, *args, **kwargs)` in the child; returns the task's number.
        With a `channel`, every earlier task of that channel is superseded."""
        task = next(self._ids)
        if not self.alive:
            self.start()
        with self._lock:
            if channel is not None:
                for other, other_channel in self._open.items():
                    if other_channel == channel:
                        self._superseded.add(other)
                self._latest[channel] = task
            self._open[task] = channel
        try:
            arguments = ForkingPickler.dumps((args, kwargs))
            self._send(Submit(task, target, bytes(arguments), channel))
        except Exception as exc:  # arguments that cannot be pickled (or no memory to)
            with self._lock:
                self._open.pop(task, None)
            message = f"the task could not be sent to the work process: {exc!r}"
            self._tell(Failed(task, message, traceback.format_exc()))
        return task

    def cancel(self, task: int) -> None:
        self._send(Cancel(task))

    def set_listener(self, on_event: Callable[[Event], None]) -> None:
        """Pass the events on to `on_event` from now on (a process handed to a new owner)."""
        self._on_event = on_event

    @property
    def idle(self) -> bool:
        """Alive, with no task open."""
        with self._lock:
            return self.alive and not self._open

    def call(self, task: int, name: str) -> None:
        self._send(Call(task, name))

    def is_open(self, task: int) -> bool:
        """The task has not ended yet."""
        with self._lock:
            return task in self._open

    def _send(self, message: Any) -> None:
        with self._send_lock:
            if self._conn is None:
                return
            with contextlib.suppress(BrokenPipeError, OSError):
                self._conn.send(message)  # a dead child is reported by the reader

    def _read(self, conn: Connection, process: Any) -> None:
        while True:
            ready = wait([conn, process.sentinel])
            if conn in ready:
                try:
                    event = conn.recv()
                except (EOFError, OSError):
                    break
                self._pass_on(event)
            else:
                break
        process.join(5.0)
        with self._lock:
            orphans = list(self._open)
            self._open.clear()
            closing = self._closing
        code = process.exitcode
        for task in orphans:
            if closing:
                self._tell(Cancelled(task))
            else:
                self._tell(Failed(task, self._died.format(code=code)))

    def _pass_on(self, event: Event) -> None:
        ending = isinstance(event, ENDINGS)
        with self._lock:
            superseded = event.task in self._superseded
            if ending:
                self._open.pop(event.task, None)
                self._superseded.discard(event.task)
        if superseded:
            if ending:
                self._tell(Cancelled(event.task))
            return
        self._tell(event)

    def _tell(self, event: Event) -> None:
        """Pass one event to the listener. A listener that raises must not end the reader
        thread, which still has to pass on the other tasks' events and reap the child: a
        Qt bridge deleted while the window closes ("Signal source has been deleted") has
        nobody left to tell, and is dropped quietly; any other failure is logged."""
        try:
            self._on_event(event)
        except Exception as exc:
            if not (isinstance(exc, RuntimeError) and "deleted" in str(exc)):
                _log.warning("%s: the listener failed on %r", self._name, event, exc_info=True)

    def close(self, timeout: float = 10.0) -> None:
        """Cancel what runs, end the child (killed if it does not end in `timeout`)."""
        process, conn, reader = self._process, self._conn, self._reader
        if process is None:
            return
        with self._lock:
            self._closing = True
        self._send(None)
        process.join(timeout)
        if process.is_alive():
            process.kill()
            process.join(2.0)
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout)
        with self._send_lock:
            self._conn = None
        if conn is not None:
            conn.close()
        self._process = None

    def release(self) -> None:
        """Let the child end once its tasks are done, without waiting for it (the reader
        thread reaps it): for a process that served one job."""
        with self._lock:
            self._closing = True
        self._send(None)

    def kill(self) -> None:
        """End the child now (SIGKILL); its tasks end as Failed (for tests of a crash)."""
        if self._process is not None and self._process.is_alive():
            self._process.kill()

"""The model's own process: inference runs beside the GUI, not under its interpreter lock.

In a thread, the model and the window shared one interpreter lock: while the GUI thread
painted (pyqtgraph is Python, and Qt's paint calls keep the lock), the model waited,
and an edit took twice as long in the window as alone (measured: 58-74 ms against
24-28 ms). A child process has its own interpreter and its own core, so what the window
draws no longer slows the model and the model no longer stalls the window.

The child is started with "spawn" (forking a process with Qt and torch threads is not
safe), which costs one to two seconds of imports; so the studio starts one first thing
at launch (`start_spare`), a runner starts its own at once if none is waiting, and a
child that is let go healthy and idle is kept as a spare for the next runner (the tests
open many windows). The pipe carries only the studio's own objects, between the
studio and its own child: models travel as safetensors bytes plus their config, requests
and results as arrays.

`InferenceProcess` is used from one thread at a time (the runner's worker thread); it is
Qt-free so that it can be tested and benchmarked on its own.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # torch is imported where it is used: starting a child must not wait for it
    from kvae_studio.services.inference import InferenceRequest, InferenceResult

CHILD_THREADS = 1  # torch threads in the child: this small model is fastest on one
POLL_SECONDS = 0.01  # how often a waiting parent looks for a newer request
_spares: list[_Child] = []
_spares_lock = threading.Lock()


class InferenceProcessError(RuntimeError):
    """Inference failed in the child, or the child stopped; the message is one line and
    `details` holds the child's traceback, if there is one, for the log."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


def _one_line(err: BaseException) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def model_message(model: Any) -> tuple:
    """What the child is sent to hold `model`: a reference's file or seed (no weights
    travel, and the parent needs no torch), or a model object's weights."""
    from kvae_studio.services.model_ref import ModelRef

    if isinstance(model, ModelRef):
        return model.message()
    return ("model", *model.payload())  # a model object: torch is here already


def _serve(conn: Connection) -> None:
    """The child's entry point, by name: this module (which the window imports) must not
    import the model's code, so the child looks `inference_child.serve` up itself."""
    import importlib

    importlib.import_module("kvae_studio.services.inference_child").serve(conn)


class _Child:
    """A started child process and the parent's end of its pipe."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child_end = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child_end,), name="kvae-inference", daemon=True
        )
        self.process.start()
        child_end.close()
        self.model = None  # the model object whose weights the child holds
        self.busy = False  # a request is out and its answer not read yet

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def send(self, message: Any) -> None:
        try:
            self.conn.send(message)
        except (BrokenPipeError, EOFError, OSError):
            raise self.died() from None

    def reply(self, seq: int, superseded: Callable[[], bool] | None) -> tuple:
        """Wait for the answer to request `seq` (an older answer, left behind by a parent
        that stopped waiting, is skipped); tell the child once if the request is stale."""
        cancelled = False
        while True:
            if not cancelled and superseded is not None and superseded():
                self.send(("cancel",))
                cancelled = True
            ready = wait([self.conn, self.process.sentinel], POLL_SECONDS)
            if self.conn in ready:
                try:
                    answer = self.conn.recv()
                except (EOFError, OSError):
                    raise self.died() from None
                if _answer_seq(answer) == seq:
                    return answer
            elif ready:  # only the sentinel: the process has ended
                raise self.died()

    def died(self) -> InferenceProcessError:
        self.process.join(1.0)
        code = self.process.exitcode
        return InferenceProcessError(
            f"the inference process stopped (exit code {code}); it is restarted on the next edit"
        )

    def kill(self) -> None:
        """End the process now (SIGKILL): for an idle child at exit."""
        if self.process.is_alive():
            self.process.kill()
            self.process.join(2.0)
        self.conn.close()

    def stop(self) -> None:
        if self.alive:
            with contextlib.suppress(BrokenPipeError, OSError):
                self.conn.send(None)
            self.process.join(2.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(2.0)
        self.conn.close()


class InferenceProcess:
    """The parent's handle on one child: `run` a request there, `close` to let it go."""

    def __init__(self) -> None:
        self._child: _Child | None = None

    @property
    def pid(self) -> int | None:
        return None if self._child is None else self._child.process.pid

    def start(self) -> None:
        """Start a child (or take a spare) now, so that its imports overlap other work."""
        if self._child is None or not self._child.alive:
            self._child = _take_spare() or _Child()

    def run(
        self, request: InferenceRequest, superseded: Callable[[], bool] | None = None
    ) -> tuple[InferenceResult | None, int]:
        """(result, torch threads the child used); result None if a newer request came
        first. Raises InferenceProcessError with a one-line reason on failure."""
        if self._child is not None and not self._child.alive:  # said, then replaced
            error = self._child.died()
            self._drop_child()
            raise error
        self.start()
        try:
            if self._child.model is not request.model:
                self._child.send(model_message(request.model))
                self._child.model = request.model
            self._send_request(request)
        except InferenceProcessError:
            self._drop_child()
            raise
        return self.receive(request, superseded)

    def send_now(self, request: InferenceRequest) -> bool:
        """Send `request` to a child that is ready for it (started, alive, holding its
        model, no answer outstanding) and say whether it went; `receive` then waits for
        the answer. Cheap enough for the GUI thread: the request leaves before the window
        draws the edit, instead of after a hand-over to another thread that has to wait
        for the interpreter lock while the window draws."""
        child = self._child
        if child is None or child.busy or child.model is not request.model or not child.alive:
            return False
        try:
            self._send_request(request)
        except InferenceProcessError:
            return False  # left for `run`, which meets the dead child and says so
        return True

    def receive(
        self, request: InferenceRequest, superseded: Callable[[], bool] | None = None
    ) -> tuple[InferenceResult | None, int]:
        """Wait for the answer to `request`, sent by `run` or `send_now`."""
        child = self._child
        try:
            reply = child.reply(request.seq, superseded)
            child.busy = False
        except InferenceProcessError:
            self._drop_child()
            raise
        if reply[0] == "done":  # the child leaves out the arrays it was sent
            sent = {
                "images": request.images,
                "frame_visible": request.frame_visible,
                "pixel_visible": request.pixel_visible,
            }
            return dataclasses.replace(reply[1], **sent), reply[2]
        if reply[0] == "skipped":
            return None, 0
        raise InferenceProcessError(reply[2], details=reply[3])

    def _send_request(self, request: InferenceRequest) -> None:
        child = self._child
        message = ("infer", request.seq, request.images, request.frame_visible)
        child.send((*message, request.pixel_visible))
        child.busy = True

    def _drop_child(self) -> None:
        if self._child is not None:
            self._child.stop()
            self._child = None

    def close(self) -> None:
        """Keep a healthy child as a spare for the next runner; stop any other."""
        child, self._child = self._child, None
        if child is None:
            return
        with _spares_lock:
            if child.alive and not child.busy and not _spares:
                child.model = None  # the next runner sends its own
                _spares.append(child)
                return
        child.stop()


def _answer_seq(answer: tuple) -> int:
    """The request number an answer belongs to: ("done", result, threads) or
    ("skipped" | "failed", seq, ...)."""
    return answer[1].seq if answer[0] == "done" else answer[1]


def start_spare() -> None:
    """Start a child for the first runner to take, if none is waiting: called first
    thing at launch, its imports overlap the window's instead of following them."""
    with _spares_lock:
        if _spares:
            return
    child = _Child()
    with _spares_lock:
        _spares.append(child)


def _take_spare() -> _Child | None:
    with _spares_lock:
        while _spares:
            child = _spares.pop()
            if child.alive:
                return child
            child.stop()
    return None


@atexit.register
def _stop_spares() -> None:
    """At exit, end the idle children at once: they hold nothing to save, and waiting
    for torch to tear itself down in them cost every launch of the studio about 0.3 s."""
    with _spares_lock:
        spares = list(_spares)
        _spares.clear()
    for child in spares:
        child.kill()

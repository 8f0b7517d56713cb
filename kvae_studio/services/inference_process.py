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
import multiprocessing
import threading
import traceback
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


def model_payload(model) -> tuple[str, bytes]:
    """A model as (config JSON, safetensors bytes of its weights): no pickle needed."""
    from safetensors.torch import save

    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    return model.config.to_json(), save(tensors)


def model_message(model: Any) -> tuple:
    """What the child is sent to hold `model`: a reference's file or seed (no weights
    travel, and the parent needs no torch), or a model object's weights."""
    from kvae_studio.services.model_ref import ModelRef

    if isinstance(model, ModelRef):
        return model.message()
    return ("model", *model_payload(model))


def model_from_payload(config_json: str, weights: bytes):
    from safetensors.torch import load

    from model.config import KVAEConfig
    from model.kvae import KVAE

    model = KVAE(KVAEConfig.from_json(config_json))
    model.load_state_dict(load(weights))
    return model.eval()


def serve(conn: Connection) -> None:
    """The child's loop: a model, then requests; one reply per request. Any message that
    arrives while a request runs (a newer request, or a cancel) makes it stop after the
    imputation with a "skipped" reply: its result would be dropped anyway."""
    import torch

    from kvae_studio.services.inference import InferenceRequest, run_inference
    from kvae_studio.services.model_ref import model_from_message
    from model.imputation import ImputeMemo

    torch.set_num_threads(CHILD_THREADS)
    model, memo, model_problem = None, ImputeMemo(), "no model was sent before the request"
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the studio has gone
            return
        if message is None:
            return
        kind = message[0]
        if kind in ("model", "model_file", "model_fresh"):
            try:
                if kind == "model":
                    model = model_from_payload(*message[1:])
                else:
                    model = model_from_message(message)
                memo = ImputeMemo()
            except Exception as err:  # every request says why until another model comes
                model = None
                model_problem = f"the model could not be rebuilt for inference: {_one_line(err)}"
        elif kind == "infer":
            _, seq, images, frame_visible, pixel_visible = message
            try:
                if model is None:
                    raise InferenceProcessError(model_problem)
                request = InferenceRequest(seq, model, images, frame_visible, pixel_visible)
                result = run_inference(request, superseded=conn.poll, memo=memo)
            except Exception as err:
                conn.send(("failed", seq, _one_line(err), traceback.format_exc()))
                continue
            if result is None:
                conn.send(("skipped", seq))
            else:
                conn.send(("done", result, torch.get_num_threads()))
        # "cancel" needs no answer: its arrival is what `conn.poll` noticed


class _Child:
    """A started child process and the parent's end of its pipe."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child_end = context.Pipe()
        self.process = context.Process(
            target=serve, args=(child_end,), name="kvae-inference", daemon=True
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
        self.start()
        child = self._child
        try:
            if child.model is not request.model:
                child.send(model_message(request.model))
                child.model = request.model
            pixels = request.pixel_visible
            child.send(("infer", request.seq, request.images, request.frame_visible, pixels))
            child.busy = True
            reply = child.reply(request.seq, superseded)
            child.busy = False
        except InferenceProcessError:
            child.stop()
            self._child = None
            raise
        if reply[0] == "done":
            return reply[1], reply[2]
        if reply[0] == "skipped":
            return None, 0
        raise InferenceProcessError(reply[2], details=reply[3])

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

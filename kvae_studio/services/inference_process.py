"""The model's own process for Explore: a `services.work` process that runs
`services.inference_tasks`, so inference runs beside the GUI, not under its interpreter
lock.

In a thread, the model and the window shared one interpreter lock: while the GUI thread
painted (pyqtgraph is Python, and Qt's paint calls keep the lock), the model waited,
and an edit took twice as long in the window as alone (measured: 58-74 ms against
24-28 ms). A child process has its own interpreter and its own core.

The child is spawned (forking a process with Qt and torch threads is not safe), which
costs one to two seconds of imports; so the studio starts one first thing at launch
(`start_spare`, whose first task imports torch while the window imports Qt), a runner
takes it, and a runner that is let go with its process healthy and idle gives it back
for the next runner (the tests open many windows). Qt-free: the window's side of it is
`app.worker.InferenceRunner`.
"""

from __future__ import annotations

import atexit
import itertools
import threading
import weakref
from typing import Any

from kvae_studio.services.work import WorkProcess

TASKS = "kvae_studio.services.inference_tasks"
INFER = f"{TASKS}:infer"
WARM_UP = f"{TASKS}:warm_up"
LOAD = f"{TASKS}:load"
NAME = "kvae-inference"
DIED = "the inference process stopped (exit code {code}); it is restarted on the next edit"
CHILD_THREADS = 1  # as services.inference_tasks sets it (this module imports no torch)

_spares: list[WorkProcess] = []
_spares_lock = threading.Lock()


def _nobody(_event: Any) -> None:
    """The listener of a spare no runner holds: its warm-up's events go nowhere."""


def new_process(on_event=_nobody) -> WorkProcess:
    """A started model process, warming up (its imports under way)."""
    process = WorkProcess(on_event, name=NAME, died=DIED).start()
    process.submit(WARM_UP)
    return process


def start_spare() -> None:
    """Start a process for the first runner to take, if none is waiting: called first
    thing at launch, its imports overlap the window's instead of following them."""
    with _spares_lock:
        if _spares:
            return
    process = new_process()
    with _spares_lock:
        _spares.append(process)


def preload_spare(model: Any) -> None:
    """Have the waiting spare load `model` (a `ModelRef`) after its imports, so that the
    first request finds it loaded: the studio calls this as soon as it knows the model
    it opens with, while the window is built (a few tens of ms of a launch)."""
    from kvae_studio.services.model_ref import ModelRef

    if not isinstance(model, ModelRef):
        return
    with _spares_lock:
        for process in _spares:
            process.submit(LOAD, model)
            return


def take_spare() -> WorkProcess | None:
    """A waiting process, alive, or None."""
    with _spares_lock:
        while _spares:
            process = _spares.pop()
            if process.alive:
                return process
            process.close()
    return None


def give_back(process: WorkProcess) -> None:
    """Keep a healthy idle process as the next runner's spare; end any other."""
    with _spares_lock:
        if process.idle and not _spares:
            process.set_listener(_nobody)
            _spares.append(process)
            return
    process.close()


class ModelSpecs:
    """What a request names its model by: a `ModelRef` as it is (no weights travel); a
    model object (tests, benchmarks) once per process as its safetensors bytes, then by
    a token, so that an edit does not send the weights again."""

    _tokens = itertools.count(1)

    def __init__(self) -> None:
        self._token_of: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._sent: tuple[int | None, int] | None = None  # (process id, token) sent

    def spec(self, model: Any, pid: int | None) -> Any:
        from kvae_studio.services.model_ref import ModelRef

        if isinstance(model, ModelRef):
            return model
        token = self._token_of.get(model)
        if token is None:
            token = self._token_of[model] = next(self._tokens)
        if self._sent == (pid, token):
            return ("token", token)
        self._sent = (pid, token)
        return ("payload", token, *model.payload())  # torch is here already


@atexit.register
def _stop_spares() -> None:
    """At exit, end the idle processes at once: they hold nothing to save, and waiting
    for torch to tear itself down in them cost every launch about 0.3 s."""
    with _spares_lock:
        spares = list(_spares)
        _spares.clear()
    for process in spares:
        process.kill()

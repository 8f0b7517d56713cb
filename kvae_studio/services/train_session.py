"""One training run driven from the studio: the training service's steps in a job.

The steps (load the data, check it, build the Trainer, record studio.json, say numerical
failures once) are `kvae_studio.services.training`, which `kvae-studio train` calls too.

No Qt here. The Train panel runs `run_training` in a process of its own
(`services.work`) and sends `pause`, `resume` and `stop` as calls; there they
reach `TrainSession`, whose methods are thread-safe and may be called before the
`Trainer` exists (while the datasets are still loading): the call is remembered and
applied once it does.

Why a process (it was a thread): torch then never enters the window's process (about a
second and hundreds of MB saved at every launch, issue 16), and the training shares no
interpreter lock with the window, whose repaints no longer slow it. The cost is a
second start of torch when a run starts (about a second) and events that travel
pickled (a few hundred bytes per step). The panel still wakes up rarely: the curves and
the status line redraw on one-shot timers armed by new data (at most 10 and 4 Hz).
The option `threads` (torch.set_num_threads; the Train tab: cores - 1) leaves a core to
the GUI.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from kvae_studio.services.run_records import Started, write_studio_file
from kvae_studio.services.training import (
    build_trainer,
    check_training_data,
    load_training_data,
    training_events,
)
from model.run_folder import RunFolder
from model.training_options import TrainingOptions


def run_training(ctx: Any, options: TrainingOptions) -> Iterator[Any]:
    """The Train panel's job, in its own process (`services.work`): the session's
    events, with the session as the target of the window's pause, resume and stop."""
    session = TrainSession(options)
    ctx.controls = session
    yield from session.run(ctx)


class TrainSession:
    """Thread-safe handle on a run whose `Trainer` is built inside `run()`."""

    def __init__(self, options: TrainingOptions):
        self.options = options
        self._lock = threading.Lock()
        self._trainer: Any = None
        self._paused = False
        self._stopped = False

    # Called from the GUI thread.
    def pause(self) -> None:
        with self._lock:
            self._paused = True
            if self._trainer is not None:
                self._trainer.pause()

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            if self._trainer is not None:
                self._trainer.resume()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            if self._trainer is not None:
                self._trainer.stop()

    @property
    def stopped(self) -> bool:
        return self._stopped

    # Runs in the training's work process.
    def run(self, ctx: Any = None) -> Iterator[Any]:
        """Yield `Started`, then the Trainer's StepReport/EpochReport/Finished events."""
        req = self.options
        # The run folder's lock (model.run_folder), held until the run ends: a training
        # from the command line into the same folder is refused, and this one is refused
        # (naming the other process) while one runs there.
        folder = RunFolder(req.run_dir).acquire(
            resume=req.resume, command=f"KVAE Studio, Train panel ({req.run_dir.name})"
        )
        try:
            yield from self._run(req)
        finally:
            folder.release()

    def _run(self, req: TrainingOptions) -> Iterator[Any]:
        """`run` with the folder locked: the training service's steps, the command line's
        order (kvae_studio.services.training), with pause and stop applied on the way."""
        import torch

        if req.threads:
            torch.set_num_threads(req.threads)
        data = load_training_data(req.train_paths, req.test_path, req.validation_path)
        if self._stopped:
            return
        check_training_data(req, data)
        trainer = build_trainer(req, data)
        write_studio_file(req)
        with self._lock:
            self._trainer = trainer
            if self._paused:
                trainer.pause()
            if self._stopped:
                trainer.stop()
        yield Started(
            run_dir=str(req.run_dir),
            epoch=trainer.epoch,
            step=trainer.step,
            epochs=trainer.config.num_epochs,
            batches=max(1, len(data.train) // trainer.config.batch_size),
            sequences=len(data.train),
            device=f"{trainer.device} in {trainer.precision} ({trainer.precision_reason})",
        )
        yield from training_events(trainer)

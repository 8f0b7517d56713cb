"""One training run driven from the studio: the training service's steps in a job.

The steps (load the data, check it, build the Trainer, record studio.json, say numerical
failures once) are `kvae_studio.services.training`, which `kvae-studio train` calls too.

No Qt here. The Train panel runs `run_training` in a process of its own
(`services.job_process`) and sends `pause`, `resume` and `stop` as calls; there they
reach `TrainSession`, whose methods are thread-safe and may be called before the
`Trainer` exists (while the datasets are still loading): the request is remembered and
applied once it does.

Why a process (it was a thread): torch then never enters the window's process (about a
second and hundreds of MB saved at every launch, issue 16), and the training shares no
interpreter lock with the window, whose repaints no longer slow it. The cost is a
second start of torch when a run starts (about a second) and events that travel
pickled (a few hundred bytes per step). The panel still wakes up rarely: the curves and
the status line redraw on one-shot timers armed by new data (at most 10 and 4 Hz).
`threads` (torch.set_num_threads, default cores - 1) leaves a core to the GUI.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kvae_studio.services.training import (
    TrainRequest,
    build_trainer,
    check_training_data,
    load_training_data,
    training_events,
    write_studio_file,
)
from model.config import KVAEConfig
from model.run_folder import LOG_FILE, MODEL_FILE, RESUME_FILE, RunFolder


def run_training(ctx: Any, request: TrainRequest) -> Iterator[Any]:
    """The Train panel's job, in its own process (`services.job_process`): the session's
    events, with the session as the target of the window's pause, resume and stop."""
    session = TrainSession(request)
    ctx.controls = session
    yield from session.run(ctx)


@dataclass(frozen=True)
class Started:
    """The first event of a session: where the run starts and how long it is."""

    run_dir: str
    epoch: int
    step: int
    epochs: int
    batches: int
    sequences: int
    device: str
    kind: str = "started"


class TrainSession:
    """Thread-safe handle on a run whose `Trainer` is built inside `run()`."""

    def __init__(self, request: TrainRequest):
        self.request = request
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

    # Runs on the worker thread.
    def run(self, ctx: Any = None) -> Iterator[Any]:
        """Yield `Started`, then the Trainer's StepReport/EpochReport/Finished events."""
        req = self.request
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

    def _run(self, req: TrainRequest) -> Iterator[Any]:
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
            device=str(trainer.device),
        )
        yield from training_events(trainer)


@dataclass(frozen=True)
class RunState:
    """What a run folder holds: its config, how far it got, and its logged events."""

    run_dir: Path
    config: KVAEConfig
    epoch: int
    step: int
    can_resume: bool
    steps: list[dict]
    epochs: list[dict]


def read_run(run_dir: Path) -> RunState:
    """Config and progress from the model file, and the log trimmed to the checkpoint.

    The log may hold steps past the last checkpoint (a crash between two checkpoints);
    those will be trained again on resume, so they are dropped to keep the curve single.
    Raises ModelFileError if the folder has no usable model.
    """
    from model.model_file import ModelFileError, read_metadata

    meta = read_metadata(run_dir / MODEL_FILE)
    try:
        config = KVAEConfig.from_stored_json(meta["config"])
        summary = json.loads(meta.get("summary", "{}"))
    except (KeyError, ValueError) as err:
        message = f"{run_dir.name}: the model's metadata cannot be read ({err})"
        raise ModelFileError(message) from None
    step = int(summary.get("step", 0))
    epoch = int(summary.get("epoch", 0))
    steps, epochs = read_log(run_dir / LOG_FILE, upto_step=step)
    return RunState(
        run_dir=run_dir,
        config=config,
        epoch=epoch,
        step=step,
        can_resume=(run_dir / RESUME_FILE).is_file(),
        steps=steps,
        epochs=epochs,
    )


def read_log(path: Path, upto_step: int | None = None) -> tuple[list[dict], list[dict]]:
    """Step and epoch records of a log.jsonl, in step order; unreadable lines are skipped."""
    steps: list[dict] = []
    epochs: list[dict] = []
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return steps, epochs
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        if upto_step is not None and int(record.get("step", 0)) > upto_step:
            continue
        kind, step = record.get("kind"), int(record.get("step", 0))
        # A resumed run re-logs the steps after its last checkpoint: the later lines win.
        if kind == "step":
            while steps and int(steps[-1].get("step", 0)) >= step:
                steps.pop()
            steps.append(record)
        elif kind == "epoch":
            while epochs and int(epochs[-1].get("step", 0)) >= step:
                epochs.pop()
            epochs.append(record)
    return steps, epochs


def as_record(event: Any) -> dict:
    """A Trainer event as the dict log.jsonl would hold, so live and reloaded data match."""
    return asdict(event)

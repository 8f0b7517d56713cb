"""A training run as both front ends start it: one value of options
(`model.training_options.TrainingOptions`), one order of steps, one wording.

`kvae-studio train` and the Train panel (through `TrainSession`) do the same, in order:

1. `load_training_data`: the training files (several are joined) and the test and
   validation sets;
2. `check_training_data`: what would fail only after an epoch's work, refused now;
3. `build_trainer`: the `Trainer` of the options (a new run, one resumed, or one started
   from a model's weights; schedule changes applied to a run that brings its config);
4. `write_studio_file`: the run folder's record of its data and settings (Continue in the
   Train panel reads it back);
5. `training_events`: the Trainer's events, its numerical failures said as one message.

Locking the run folder (model.run_folder) and showing progress stay with each front end.

The Train panel runs `run_training` in a process of its own (`services.work`) and sends
`pause`, `resume` and `stop` as calls; there they reach `TrainSession`, whose methods
are thread-safe and may be called before the `Trainer` exists (while the data sets are
still loading): the call is remembered and applied once it does. Why a process (it was a
thread): torch never enters the window's process (about a second and hundreds of MB
saved at every launch, issue 16), and the training shares no interpreter lock with the
window. The cost is a second start of torch when a run starts (about a second) and
events that travel pickled (a few hundred bytes per step). The process runs at a lower
priority (POSIX nice), so the Train tab's `threads` (torch.set_num_threads) default to
every core there: the window and the Explore model take one back when they need it.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kvae_studio.services.run_records import Started, write_studio_file
from model.run_folder import RunFolder
from model.training_options import TrainingOptions


@dataclass(frozen=True)
class TrainingData:
    """The sequences of a run: training (joined), test and validation (or None), and what
    the training files say made them (`model_card.data_summary`: {} when they do not)."""

    train: np.ndarray
    test: np.ndarray | None = None
    validation: np.ndarray | None = None
    described: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def load_training_data(
    train_paths: tuple[Path, ...] | list[Path],
    test_path: Path | None = None,
    validation_path: Path | None = None,
) -> TrainingData:
    """Read the files; several training files are joined, and must agree in frames and size.

    DatasetError for a file that cannot be read, ValueError (one line) for files that differ.
    """
    from kvae_studio.services.model_card import data_summary
    from model.data import load_sequences

    files = [load_sequences(path) for path in train_paths]
    parts = [data.images for data in files]
    test = load_sequences(test_path).images if test_path else None
    validation = load_sequences(validation_path).images if validation_path else None
    if len({part.shape[1:] for part in parts}) > 1:
        raise ValueError(
            "the training files differ in frames or size: "
            + ", ".join(
                f"{path} {part.shape[1:]}" for path, part in zip(train_paths, parts, strict=True)
            )
        )
    train = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return TrainingData(train, test, validation, data_summary(files))


ROLES = {"test": "test set", "validation": "validation set"}
"""How `check_training_data` names the test and validation files (the command line: by
their options)."""


def check_training_data(
    options: TrainingOptions, data: TrainingData, roles: Mapping[str, str] = ROLES
) -> None:
    """ValueError (one line) for data that would fail only after an epoch's work: frames
    that are not square or not the config's size, sequences too short to be scored."""
    from model.data import frames_problem, length_problem

    config = options.config
    if problem := frames_problem(data.train.shape, config.frame_size):
        raise ValueError(f"{options.train_paths[0]}: {problem}")
    others = (
        ("test", options.test_path, data.test),
        ("validation", options.validation_path, data.validation),
    )
    for role, path, images in others:
        if images is None:
            continue
        problem = frames_problem(images.shape, data.train.shape[-1]) or length_problem(
            images.shape[1], config.t_init_mask, f"the {role} set's imputation metrics"
        )
        if problem:
            raise ValueError(f"{roles[role]} {path}: {problem}")


def build_trainer(options: TrainingOptions, data: TrainingData, processes: Any = None) -> Any:
    """The `model.training.Trainer` of `options` on `data` (`processes`: the job of several
    processes it is one of, model.distributed, whose device it takes; None: a job of one)."""
    from model.training import Trainer

    if processes is not None:
        options = dataclasses.replace(options, device=str(processes.device))
    trainer = Trainer(data.train, data.test, options, data.validation, processes)
    trainer.data_description = dict(data.described)
    return trainer


def training_events(trainer: Any) -> Iterator[Any]:
    """`trainer.run()`, with a singular matrix met outside a training step said in the
    Trainer's terms (TrainingError) instead of torch's."""
    import torch

    from model.training import TrainingError

    try:
        yield from trainer.run()
    except torch.linalg.LinAlgError as err:
        # A diverging run can make the filter's covariance singular before the loss
        # turns non-finite.
        detail = str(err).splitlines()[0]
        raise TrainingError(
            f"training diverged at step {trainer.step + 1} (epoch {trainer.epoch + 1}): "
            f"the Kalman filter met a singular matrix ({detail}); try a lower init_lr"
        ) from None


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
        """`run` with the folder locked: the steps above, in the command line's order,
        with pause and stop applied on the way."""
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

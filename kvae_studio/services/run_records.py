"""A training run's request and records, without torch: what the Train panel (in the
window) reads and writes, while the training itself runs in a job's process.

`services.training` and `services.train_session` (which do need torch) use these too,
and re-export them for the command line and the tests.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from model.config import KVAEConfig
from model.read_guard import UNREADABLE, parse_json, reading
from model.run_folder import LOG_FILE, MODEL_FILE, RESUME_FILE, STUDIO_FILE
from model.temp_files import atomic_write_text


@dataclass(frozen=True)
class TrainRequest:
    """Everything decided before a run starts: the command line's options or the Train
    panel's fields."""

    train_paths: tuple[Path, ...]  # several files are joined into one training set
    test_path: Path | None
    run_dir: Path
    config: KVAEConfig
    device: str = "auto"
    seed: int = 0
    resume: bool = False
    init_from: Path | None = None  # a model file whose weights a new run starts from
    checkpoint_every: int = 1
    eval_sequences: int | None = None
    epochs: int | None = None
    threads: int | None = None
    # KEY=VALUE changes to the schedule of a run that brings its own config (resume,
    # init_from): the model's architecture stays.
    schedule_overrides: tuple[str, ...] = ()
    validation_path: Path | None = None
    keep_best: str | None = None
    patience: int | None = None
    precision: str = "auto"  # model.precision: bf16 where the hardware does it natively


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
    with reading(run_dir.name, ModelFileError, "the model's metadata cannot be read"):
        config = KVAEConfig.from_stored_json(meta["config"])
        summary = parse_json(meta.get("summary", "{}"))
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
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return steps, epochs
    for line in lines:
        try:
            record = parse_json(line)
            step = int(record.get("step", 0))
        except UNREADABLE:  # not JSON, not an object, a step that is no whole number
            continue
        if upto_step is not None and step > upto_step:
            continue
        kind = record.get("kind")
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


def write_studio_file(request: TrainRequest) -> None:
    """Remember which datasets and settings a run used, so Continue can reuse them."""
    paths = [str(path) for path in request.train_paths]
    record = {
        # The Train panel trains on one file: with several (the command line), it keeps its own.
        "train": paths[0] if len(paths) == 1 else None,
        "test": str(request.test_path) if request.test_path else None,
        "device": request.device,
        "seed": request.seed,
        "checkpoint_every": request.checkpoint_every,
        "eval_sequences": request.eval_sequences,
        "threads": request.threads,
        "updated": time.strftime("%Y-%m-%d %H:%M:%S"),
        **({"train_files": paths} if len(paths) > 1 else {}),
        **({"init_from": str(request.init_from)} if request.init_from else {}),
        **({"validation": str(request.validation_path)} if request.validation_path else {}),
        **({"keep_best": request.keep_best} if request.keep_best else {}),
        **({"patience": request.patience} if request.patience else {}),
        "precision": request.precision,
    }
    request.run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(request.run_dir / STUDIO_FILE, json.dumps(record, indent=1))


def new_run_dir(runs_dir: Path, name: str) -> Path:
    """`runs_dir/name`, or `name-2`, `name-3`... if taken: a new run never joins an old one."""
    base = runs_dir / name
    path, n = base, 2
    while path.exists():
        path = base.with_name(f"{base.name}-{n}")
        n += 1
    return path


def read_studio_file(run_dir: str | os.PathLike) -> dict[str, Any]:
    """What `write_studio_file` recorded ({} for a run without a readable record)."""
    try:
        data = parse_json((Path(run_dir) / STUDIO_FILE).read_text())
    except (OSError, ValueError):  # UnicodeDecodeError and nesting too deep are ValueErrors
        return {}
    return data if isinstance(data, dict) else {}

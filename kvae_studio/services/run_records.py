"""A training run's records, without torch: what the Train panel (in the window) reads
and writes, while the training itself runs in a job's process. The run's options are
`model.training_options.TrainingOptions`; studio.json records them.

`services.training` (which does need torch) uses these too.
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
from model.training_options import TrainingOptions


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


def write_studio_file(options: TrainingOptions) -> None:
    """Remember which datasets and settings a run used, so Continue can reuse them."""
    record = {**options.to_record(), "updated": time.strftime("%Y-%m-%d %H:%M:%S")}
    options.run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(options.run_dir / STUDIO_FILE, json.dumps(record, indent=1))


def new_run_dir(runs_dir: Path, name: str) -> Path:
    """`runs_dir/name`, or `name-2`, `name-3`... if taken: a new run never joins an old one."""
    base = runs_dir / name
    path, n = base, 2
    while path.exists():
        path = base.with_name(f"{base.name}-{n}")
        n += 1
    return path


def read_studio_file(run_dir: str | os.PathLike) -> dict[str, Any]:
    """What `write_studio_file` recorded, as JSON ({} for a run without a readable
    record); `read_options` reads the options in it."""
    try:
        data = parse_json((Path(run_dir) / STUDIO_FILE).read_text())
    except (OSError, ValueError):  # UnicodeDecodeError and nesting too deep are ValueErrors
        return {}
    return data if isinstance(data, dict) else {}


def read_options(run_dir: str | os.PathLike) -> TrainingOptions:
    """The options a run's studio.json recorded (of any age: what it lacks or cannot be
    read takes the default); its config is the model file's (`read_run`)."""
    return TrainingOptions.from_record(read_studio_file(run_dir))

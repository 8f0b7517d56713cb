"""A Trainer's resume state (what resume.safetensors holds), the checkpoint a resumed run
starts from, and the schedule a resumed run may change.

One checkpoint, one commit: resume.safetensors holds the weights and config beside the
counters and the optimiser's moments, so the one atomic replace of that file commits a
whole checkpoint. model.safetensors, written just before it, is the run's model for
everyone else; the resume state records its SHA-256, so a crash between the two writes
is seen (the model file is then an epoch ahead) and the run continues from the last
complete checkpoint. Resume files written before this held no weights: such a pair is
used only when the model file's summary was written at the resume state's step.

The state is the same whatever the number of processes: the shuffle, the masks and the
noise are drawn for the whole global batch on every process (model.distributed), and
the optimiser's moments are the same on all of them, so a run resumes on any number.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from model import temp_files
from model.checkpoint import file_sha256, load_model, load_resume_state, model_from_tensors
from model.config import KVAEConfig
from model.kvae import KVAE
from model.model_file import ModelFileError, read_summary
from model.run_folder import MODEL_FILE, RESUME_FILE
from model.selection import BestTracker
from model.training_reports import TrainingError

if TYPE_CHECKING:
    from model.training import Trainer

WEIGHTS = "weights."
"""Prefix of the model's tensors in a resume state."""


def resume_state(trainer: Trainer, model_sha256: str | None = None) -> dict:
    """The weights and config, counters, random generators, the epoch's permutation and
    the optimiser's moments; `model_sha256` names the model file written with them."""
    state: dict = {
        "config": trainer.config.to_json(),
        "model_sha256": model_sha256,
        "epoch": trainer.epoch,
        "step": trainer.step,
        "batch_index": trainer.batch_index,
        "num_epochs": trainer.config.num_epochs,
        "miss_rng": trainer.miss_rng.bit_generator.state,
        "shuffle_rng": trainer.shuffle.get_state(),
        "noise_rng": trainer.noise.get_state().cpu(),
        "optimizer_phase": trainer.optimizer_phase,
        "world_size": trainer.processes.world_size,
        "wall_seconds": trainer.wall_seconds,
    }
    if trainer.best is not None:
        state["best"] = trainer.best.state()
    if trainer.permutation is not None:
        state["permutation"] = trainer.permutation
    opt = trainer.optimizer.state_dict()
    state["param_groups"] = json.loads(json.dumps(opt["param_groups"]))
    for index, values in opt["state"].items():
        for key, value in values.items():
            state[f"opt.{index}.{key}"] = value if torch.is_tensor(value) else torch.tensor(value)
    for name, value in trainer.model.state_dict().items():
        state[WEIGHTS + name] = value
    return state


def load_checkpoint(run_dir: Path, device: torch.device) -> tuple[KVAE, dict, list[str]]:
    """The model and resume state of the last complete checkpoint in `run_dir`, with notes
    for the user; TrainingError (one line) when there is none to continue from."""
    if not (run_dir / RESUME_FILE).exists():
        raise TrainingError(f"nothing to resume in {run_dir}: no {RESUME_FILE}")
    state = load_resume_state(run_dir / RESUME_FILE)
    weights = {k[len(WEIGHTS) :]: state.pop(k) for k in list(state) if k.startswith(WEIGHTS)}
    where = f"epoch {state.get('epoch')}, step {state.get('step')}"
    if not weights:
        return _older_pair(run_dir, state, device), state, []
    try:
        config = KVAEConfig.from_stored_json(state["config"])
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(f"{RESUME_FILE}: its config cannot be used ({err})") from None
    model = model_from_tensors(RESUME_FILE, config, weights).to(device)
    notes = []
    if file_sha256(run_dir / MODEL_FILE) != state.get("model_sha256"):
        notes.append(
            f"{MODEL_FILE} is not the one of the last complete checkpoint (the run was "
            f"stopped between the two writes): continuing from that checkpoint, {where}"
        )
    return model, state, notes


def _older_pair(run_dir: Path, state: dict, device: torch.device) -> KVAE:
    """A run folder written before the resume state held the weights: its model file is
    used only if it was written at the resume state's step (its summary says so)."""
    summary = read_summary(run_dir / MODEL_FILE)
    model_at = (summary.get("epoch"), summary.get("step"))
    state_at = (state.get("epoch"), state.get("step"))
    if model_at != state_at:
        raise TrainingError(
            f"{run_dir}: {MODEL_FILE} is from epoch {model_at[0]} (step {model_at[1]}) but "
            f"{RESUME_FILE} from epoch {state_at[0]} (step {state_at[1]}), a pair left by a "
            f"run stopped between its two writes: the last complete checkpoint is lost; "
            f"start again with --overwrite, or from the model's weights with --init-from"
        )
    return load_model(run_dir / MODEL_FILE, device)


def trim_log(path: Path, last_step: int) -> None:
    """Drop the records of steps after `last_step` (those a killed run logged past its last
    checkpoint, which the resumed run logs again) and a line a kill cut short; the log is
    rewritten atomically, and only if something goes. Lines are kept as bytes: a log
    someone edited into other text (not UTF-8, not JSON) is history, not ours to mend."""
    try:
        lines = path.read_bytes().splitlines(keepends=True)
    except FileNotFoundError:
        return
    kept = [line for line in lines if not _past(line, last_step)]
    if kept != lines:
        temp_files.atomic_write_bytes(path, b"".join(kept))


def _past(line: bytes, last_step: int) -> bool:
    if not line.endswith(b"\n"):
        return True  # cut short by a kill
    try:
        step = json.loads(line).get("step")
    except (ValueError, AttributeError, RecursionError):
        return False  # not a record of ours to judge
    return isinstance(step, int) and step > last_step


def restore(trainer: Trainer, state: dict) -> None:
    """Put a trainer (its optimiser already built for the stored phase) back in `state`."""
    trainer.epoch, trainer.step = int(state["epoch"]), int(state["step"])
    trainer.batch_index = int(state["batch_index"])
    trainer.wall_seconds = float(state.get("wall_seconds", 0.0))  # none before it was kept
    trainer.permutation = state.get("permutation")
    trainer.miss_rng.bit_generator.state = state["miss_rng"]
    trainer.shuffle.set_state(state["shuffle_rng"])
    trainer.noise.set_state(state["noise_rng"])
    best = trainer.best
    if best is not None and state.get("best", {}).get("metric") == best.metric:
        trainer.best = BestTracker.from_state(state["best"])
    opt_state: dict = {}
    for key, value in state.items():
        if key.startswith("opt."):
            _, index, name = key.split(".", 2)
            opt_state.setdefault(int(index), {})[name] = (
                value.to(trainer.device) if name != "step" else value
            )
    trainer.optimizer.load_state_dict({"state": opt_state, "param_groups": state["param_groups"]})


SCHEDULE_FIELDS = frozenset(
    {
        "batch_size", "num_epochs", "init_lr", "decay_rate", "decay_epochs", "max_grad_norm",
        "only_vae_epochs", "kf_update_steps", "train_miss_prob", "t_init_train_miss",
    }
)  # fmt: skip
"""The config fields a resumed run may change: how it trains, not what the model is."""


def override_schedule(config: KVAEConfig, changes: Mapping[str, Any]) -> KVAEConfig:
    """Typed changes (name -> value) to the training schedule of a run that brings its
    own config (resumed, or started from a model's weights); TrainingError for a change
    of the model itself or a value the config refuses."""
    try:
        changed = config.with_changes(changes)
    except ValueError as err:
        raise TrainingError(str(err)) from err
    fixed = sorted(
        name
        for name, value in asdict(changed).items()
        if value != getattr(config, name) and name not in SCHEDULE_FIELDS
    )
    if fixed:
        raise TrainingError(
            f"a resumed run keeps its model: {', '.join(fixed)} cannot change "
            f"(only the schedule can: {', '.join(sorted(SCHEDULE_FIELDS))})"
        )
    return changed

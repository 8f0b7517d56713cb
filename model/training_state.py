"""A Trainer's resume state (what resume.safetensors holds) and the schedule a resumed
run may change.

The state is the same whatever the number of processes: the shuffle, the masks and the
noise are drawn for the whole global batch on every process (model.distributed), and
the optimiser's moments are the same on all of them, so a run resumes on any number.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

import torch

from model.config import KVAEConfig
from model.selection import BestTracker
from model.training_reports import TrainingError

if TYPE_CHECKING:
    from model.training import Trainer


def resume_state(trainer: Trainer) -> dict:
    """Counters, random generators, the epoch's permutation and the optimiser's moments."""
    state: dict = {
        "epoch": trainer.epoch,
        "step": trainer.step,
        "batch_index": trainer.batch_index,
        "num_epochs": trainer.config.num_epochs,
        "miss_rng": trainer.miss_rng.bit_generator.state,
        "shuffle_rng": trainer.shuffle.get_state(),
        "noise_rng": trainer.noise.get_state().cpu(),
        "optimizer_phase": trainer.optimizer_phase,
        "world_size": trainer.processes.world_size,
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
    return state


def restore(trainer: Trainer, state: dict) -> None:
    """Put a trainer (its optimiser already built for the stored phase) back in `state`."""
    trainer.epoch, trainer.step = int(state["epoch"]), int(state["step"])
    trainer.batch_index = int(state["batch_index"])
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


def override_schedule(config: KVAEConfig, assignments: list[str]) -> KVAEConfig:
    """`key=value` changes to the training schedule of a run (e.g. when resuming it)."""
    try:
        changed = config.with_overrides(assignments)
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

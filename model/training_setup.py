"""What a training run starts from: its device, its checked options, its model and sizes.

Why a module of its own: a `Trainer` starts in one of three ways (a new model, resumed from
its run folder, initialised from a saved model's weights), and every option and array size
is checked before the first epoch so that a mistake costs one line and writes nothing. That
setup is separate from the loop that trains (`model.training`).
"""

from __future__ import annotations

import numpy as np
import torch

from model.checkpoint import load_model
from model.config import KVAEConfig
from model.kvae import KVAE
from model.run_folder import RESUME_FILE
from model.selection import METRICS
from model.training_options import PRECISIONS, TrainingOptions
from model.training_reports import TrainingError
from model.training_state import load_checkpoint, override_schedule


def pick_device(name: str = "auto") -> torch.device:
    """The torch device for `name` ("auto", "cpu", "cuda"); TrainingError if CUDA is missing."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainingError("--device cuda was asked for, but PyTorch sees no CUDA device")
    return torch.device(name)


def check_options(options: TrainingOptions, has_validation: bool) -> None:
    """TrainingError for model selection or precision options that do not go together."""
    keep_best, patience, precision = options.keep_best, options.patience, options.precision
    if keep_best is not None and keep_best not in METRICS:
        raise TrainingError(
            f"unknown --keep-best metric {keep_best!r}: use one of {', '.join(METRICS)}"
        )
    if keep_best is not None and not has_validation:
        raise TrainingError("--keep-best needs a validation set (--validation FILE)")
    if patience is not None and (keep_best is None or patience < 1):
        raise TrainingError("--patience N needs --keep-best, and N must be at least 1")
    if precision not in PRECISIONS:
        raise TrainingError(f"unknown precision {precision!r}: use {', '.join(PRECISIONS)}")


def starting_model(
    device: torch.device, options: TrainingOptions
) -> tuple[KVAE, KVAEConfig, dict | None, list[str]]:
    """The model a run trains, its config with the schedule's changes, the resume state,
    and notes for the user about where it resumes from.

    Resumed: the run folder's last complete checkpoint (`model.training_state`).
    `init_from`: a saved model's weights and architecture with a fresh schedule.
    Otherwise a new model of the options' config, seeded.
    """
    resume_state, notes = None, []
    if options.resume:
        if options.run_dir is None:
            raise TrainingError(f"nothing to resume: no run folder (no {RESUME_FILE})")
        model, resume_state, notes = load_checkpoint(options.run_dir, device)
        model.train()
        config = model.config
    elif options.init_from is not None:
        # A new run from a saved model's weights: its architecture, a fresh schedule.
        model = load_model(options.init_from, device).train()
        config = model.config
    else:
        config = options.config
        torch.manual_seed(options.seed)
        model = KVAE(config).to(device)
    if options.schedule_changes:
        config = override_schedule(config, options.schedule_changes)
        model.config = config
    if options.epochs is not None:
        config = config.with_changes({"num_epochs": options.epochs})
        model.config = config
    return model, config, resume_state, notes


def check_sizes(
    train: torch.Tensor,
    test: np.ndarray | None,
    validation: np.ndarray | None,
    config: KVAEConfig,
    world_size: int,
) -> None:
    """TrainingError unless every process gets a share of a batch and the frames fit."""
    if min(config.batch_size, len(train)) < world_size:
        raise TrainingError(
            f"a batch of {min(config.batch_size, len(train))} sequences cannot be "
            f"shared by {world_size} processes (each needs one at least): use fewer processes "
            "or a larger --set batch_size"
        )
    if train.shape[-1] != config.frame_size or train.dim() != 4:
        raise TrainingError(
            f"training frames are {tuple(train.shape[1:])}, the model expects "
            f"(T, {config.frame_size}, {config.frame_size})"
        )
    for name, images in (("test", test), ("validation", validation)):
        if images is not None and tuple(images.shape[2:]) != tuple(train.shape[2:]):
            raise TrainingError(
                f"the {name} frames are {tuple(images.shape[1:])}, the training frames "
                f"{tuple(train.shape[1:])}: they must have the same size"
            )

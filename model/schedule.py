"""The paper's training schedule (kvae-model.md, section 7): which parameters each phase
trains, the optimiser each phase gets, and the learning rate of each epoch."""

from __future__ import annotations

import torch
from torch import nn

from model.config import KVAEConfig
from model.kvae import KVAE

PHASE_GROUPS = {"vae": ("vae",), "vae+lgssm": ("vae", "kf"), "all": ("vae", "kf", "alpha")}


def phase_of(config: KVAEConfig, epoch: int) -> str:
    """'vae' (VAE alone), 'vae+lgssm' (VAE, A, B, C, a_0) or 'all' (alpha network too)."""
    if epoch < config.only_vae_epochs:
        return "vae"
    if epoch < config.only_vae_epochs + config.kf_update_steps:
        return "vae+lgssm"
    return "all"


def learning_rate(config: KVAEConfig, epoch: int) -> float:
    return config.init_lr * config.decay_rate ** (epoch // config.decay_epochs)


def phase_parameters(model: KVAE, phase: str) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """(trained, frozen) in `phase`; trained in a fixed order (VAE, dynamics, alpha
    network), which the optimiser's saved moments rely on."""
    groups = {
        "vae": model.vae_parameters(),
        "kf": model.kf_parameters(),
        "alpha": model.alpha_parameters(),
    }
    active = PHASE_GROUPS[phase]
    trained = [p for name in active for p in groups[name]]
    frozen = [p for name, params in groups.items() if name not in active for p in params]
    return trained, frozen


def train_only(model: KVAE, phase: str) -> list[nn.Parameter]:
    """Freeze every parameter `phase` does not train; returns the trained ones."""
    trained, frozen = phase_parameters(model, phase)
    for p in trained:
        p.requires_grad_(True)
    for p in frozen:
        p.requires_grad_(False)
    return trained


def phase_optimizer(model: KVAE, config: KVAEConfig, phase: str, epoch: int) -> torch.optim.Adam:
    """Adam over the phase's parameters, or over all of them with one optimiser per run."""
    if config.optimizer_per_phase:
        params = phase_parameters(model, phase)[0]
    else:
        params = list(model.parameters())
    return torch.optim.Adam(params, lr=learning_rate(config, epoch))

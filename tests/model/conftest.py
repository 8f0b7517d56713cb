"""Shared fixtures for the model tests: a small box dataset and a model trained on it."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from kvae_reference import STEPS, TRAIN_CONFIG, box_data
from trainer_options import cpu_fp32

from model.evaluation import imputation_metrics
from model.kvae import KVAE
from model.masks import planning_mask
from model.training import Trainer


@dataclass
class TrainedBox:
    model: KVAE
    losses: list[float]
    before: dict
    after: dict
    seconds: float
    test_images: np.ndarray
    test_centres: np.ndarray


@contextmanager
def one_thread():
    """Tiny tensors gain nothing from a second thread, and on a shared two-core machine
    OpenMP threads that wait for each other slow everything down: the training fixture
    took 55 s with two threads beside a training run, 6 s with one."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(old)


@pytest.fixture(autouse=True, scope="module")
def _one_thread_per_module():
    with one_thread():
        yield


@pytest.fixture(scope="session")
def trained_box() -> TrainedBox:
    """A KVAE trained for 6 short epochs (512 sequences) on the small box scene.

    Shared by the training test (did the loss and the Hamming distance fall?) and the
    pixel-mask tests that need a model which knows where the ball is.
    """
    with one_thread():
        return _train_box()


def _train_box() -> TrainedBox:
    torch.manual_seed(0)
    train, _ = box_data(512, seed=0)
    test, centres = box_data(48, seed=1)
    mask = planning_mask(STEPS, TRAIN_CONFIG.t_init_mask, TRAIN_CONFIG.t_steps_mask)
    start = time.perf_counter()
    trainer = Trainer(train, None, cpu_fp32(config=TRAIN_CONFIG, seed=0))
    before = imputation_metrics(trainer.model.eval(), test, mask)["hamming"]
    losses = [-e.terms["elbo"] for e in trainer.run() if e.kind == "step"]
    model = trainer.model.eval()
    after = imputation_metrics(model, test, mask)["hamming"]
    for p in model.parameters():
        p.requires_grad_(False)
    return TrainedBox(model, losses, before, after, time.perf_counter() - start, test, centres)

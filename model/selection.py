"""Checkpoint selection on a validation set: named scores, and the best epoch so far.

The paper scored the model at the end of training; our box runs showed imputation
getting worse after epoch ~30 while the ELBO kept improving, so `train --keep-best`
keeps the checkpoint with the best score on sequences that play no part in training
or in the reported figures, and `--patience` stops a run that no longer improves.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from model.evaluation import imputation_metrics, test_elbo
from model.kvae import KVAE
from model.masks import planning_mask, random_mask

VALIDATION_DROP_PROB = 0.5
VALIDATION_SEED = 0


def _hamming(model: KVAE, images: np.ndarray, kind: str, estimate: str) -> float:
    n, steps = images.shape[:2]
    cfg = model.config
    if kind == "planning":
        mask = planning_mask(steps, cfg.t_init_mask, cfg.t_steps_mask)
    else:
        mask = random_mask(n, steps, VALIDATION_DROP_PROB, cfg.t_init_mask, VALIDATION_SEED)
    return float(imputation_metrics(model, images, mask)["hamming"][estimate])


def _mean(*names: tuple[str, str]) -> Callable[[KVAE, np.ndarray], float]:
    def score(model: KVAE, images: np.ndarray) -> float:
        return float(np.mean([_hamming(model, images, kind, est) for kind, est in names]))

    return score


@dataclass(frozen=True)
class Metric:
    """A validation score; `lower_is_better` says which way is better."""

    describe: str
    score: Callable[[KVAE, np.ndarray], float]
    lower_is_better: bool = True


METRICS: dict[str, Metric] = {
    "planning-smoothing": Metric(
        "smoothed Hamming distance, planning mask (t_init_mask seen, t_steps_mask hidden)",
        _mean(("planning", "smoothing")),
    ),
    "random-smoothing": Metric(
        "smoothed Hamming distance, random drop 0.5 after t_init_mask seen",
        _mean(("random", "smoothing")),
    ),
    "smoothing": Metric(
        "mean of the smoothed Hamming distances with the planning and random-0.5 masks",
        _mean(("planning", "smoothing"), ("random", "smoothing")),
    ),
    "smoothing+filtering": Metric(
        "mean of the smoothed and filtered Hamming distances with both masks",
        _mean(
            ("planning", "smoothing"),
            ("random", "smoothing"),
            ("planning", "filtering"),
            ("random", "filtering"),
        ),
    ),
    "elbo": Metric("ELBO per frame (scale 1)", lambda m, x: test_elbo(m, x), False),
}


@dataclass
class BestTracker:
    """The best validation score so far, its epoch, and epochs since it improved."""

    metric: str
    best: float = math.nan
    best_epoch: int = 0
    since_best: int = 0

    def update(self, epoch: int, score: float) -> bool:
        """Record an epoch's score; True when it is the best so far."""
        lower = METRICS[self.metric].lower_is_better
        improved = math.isfinite(score) and (
            not math.isfinite(self.best) or (score < self.best if lower else score > self.best)
        )
        if improved:
            self.best, self.best_epoch, self.since_best = score, epoch, 0
        else:
            self.since_best += 1
        return improved

    def state(self) -> dict:
        return {
            "metric": self.metric,
            "best": self.best if math.isfinite(self.best) else None,
            "best_epoch": self.best_epoch,
            "since_best": self.since_best,
        }

    @classmethod
    def from_state(cls, state: dict) -> BestTracker:
        best = state.get("best")
        return cls(
            metric=state["metric"],
            best=math.nan if best is None else float(best),
            best_epoch=int(state["best_epoch"]),
            since_best=int(state["since_best"]),
        )

"""Checkpoint selection on a validation set: named scores, and the best epoch so far.

The paper scored the model at the end of training; our box runs showed imputation
getting worse after epoch ~30 while the ELBO kept improving, so `train --keep-best`
keeps the checkpoint with the best score on sequences that play no part in training
or in the reported figures, and `--patience` stops a run that no longer improves.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from model.evaluation import imputation_metrics, test_elbo
from model.kvae import KVAE
from model.masks import planning_mask, random_mask

VALIDATION_DROP_PROB = 0.5
VALIDATION_SEED = 0


Figure = tuple[str, str]
"""A validation figure: (mask, estimate), e.g. ("planning", "filtering")."""


def _mask(model: KVAE, images: np.ndarray, kind: str) -> np.ndarray:
    n, steps = images.shape[:2]
    cfg = model.config
    if kind == "planning":
        return planning_mask(steps, cfg.t_init_mask, cfg.t_steps_mask)
    return random_mask(n, steps, VALIDATION_DROP_PROB, cfg.t_init_mask, VALIDATION_SEED)


def hamming_figures(model: KVAE, images: np.ndarray, figures: Sequence[Figure]) -> dict[str, float]:
    """{"planning smoothing": 0.0161, ...}: the Hamming distance of each figure, each mask's
    imputation run once for all its estimates (the filtered and smoothed frames come from
    the same pass, so a score over both costs no more than one over either)."""
    values: dict[str, float] = {}
    for kind in dict.fromkeys(kind for kind, _ in figures):
        hamming = imputation_metrics(model, images, _mask(model, images, kind))["hamming"]
        for figure_kind, estimate in figures:
            if figure_kind == kind:
                values[f"{kind} {estimate}"] = float(hamming[estimate])
    return values


@dataclass(frozen=True)
class Metric:
    """A validation score; `lower_is_better` says which way is better.

    Either `score` computes it, or it is the mean of the Hamming distances `figures`,
    which the epoch's log record then lists one by one: a run's log says how each
    epoch did on each mask and estimate, so another selection rule can be weighed
    afterwards without scoring the run again."""

    describe: str
    score: Callable[[KVAE, np.ndarray], float] | None = None
    lower_is_better: bool = True
    figures: tuple[Figure, ...] = ()

    def evaluate(self, model: KVAE, images: np.ndarray) -> tuple[float, dict[str, float]]:
        """(the score, the figures it is the mean of: empty for a score of its own)."""
        if self.score is not None:
            return float(self.score(model, images)), {}
        values = hamming_figures(model, images, self.figures)
        return float(np.mean(list(values.values()))), values


PLANNING = "t_init_mask seen, t_steps_mask hidden"
RANDOM = f"random drop {VALIDATION_DROP_PROB} after t_init_mask seen"

METRICS: dict[str, Metric] = {
    "planning-smoothing": Metric(
        f"smoothed Hamming distance, planning mask ({PLANNING})",
        figures=(("planning", "smoothing"),),
    ),
    "random-smoothing": Metric(
        f"smoothed Hamming distance, {RANDOM}",
        figures=(("random", "smoothing"),),
    ),
    "smoothing": Metric(
        "mean of the smoothed Hamming distances with the planning and random-0.5 masks",
        figures=(("planning", "smoothing"), ("random", "smoothing")),
    ),
    "smoothing+filtering": Metric(
        "mean of the smoothed and filtered Hamming distances with both masks",
        figures=(
            ("planning", "smoothing"),
            ("random", "smoothing"),
            ("planning", "filtering"),
            ("random", "filtering"),
        ),
    ),
    "filtering": Metric(
        "mean of the filtered Hamming distances with the planning and random-0.5 masks",
        figures=(("planning", "filtering"), ("random", "filtering")),
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

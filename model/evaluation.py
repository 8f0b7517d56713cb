"""Test ELBO, imputation metrics and the paper's sweeps over a test set.

Shared by the training loop (per-epoch figures), `kvae-studio evaluate` and the
studio's Evaluate panel, so all three report the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
import torch

from model import metrics
from model.imputation import generate, impute
from model.kvae import KVAE
from model.masks import planning_mask, random_mask

PLANNING_STEPS = (1, 3, 5, 7, 9, 11, 13, 15)
DROP_PROBS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def _batches(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


@torch.no_grad()
def test_elbo(model: KVAE, images: np.ndarray, batch_size: int = 100, seed: int = 0) -> float:
    """Mean ELBO per observed frame with scale_reconstruction = 1 (the reported figure)."""
    gen = torch.Generator(device=model.device).manual_seed(seed)
    total, frames = 0.0, 0
    for sl in _batches(len(images), batch_size):
        x = torch.as_tensor(images[sl], device=model.device)
        terms = model.elbo(x, scale_reconstruction=1.0, generator=gen)
        n = x.shape[0] * x.shape[1]
        total += float(terms.elbo) * n
        frames += n
    return total / max(frames, 1)


@torch.no_grad()
def imputation_metrics(
    model: KVAE, images: np.ndarray, mask: np.ndarray, batch_size: int = 250
) -> dict:
    """Hamming distances and normalised RMSE of a on the unobserved frames of `mask`.

    mask (N, T) or (T,), 1 = observed. Generation starts from the first
    t_init_mask frames, as in the paper.
    """
    n, steps = images.shape[:2]
    mask = np.broadcast_to(np.asarray(mask, dtype=np.float32), (n, steps))
    n_init = min(model.config.t_init_mask, steps)
    truth = images > 0 if model.config.output == "bernoulli" else images
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("smooth", "filter", "gen", "a", "a_s", "a_g")
    }
    for sl in _batches(n, batch_size):
        x = torch.as_tensor(images[sl], device=model.device)
        m = torch.as_tensor(mask[sl].copy(), device=model.device)
        result = impute(model, x, m)
        rollout = generate(model, x, n_init)
        parts["smooth"].append(result.x_smoothed.cpu().numpy())
        parts["filter"].append(result.x_filtered.cpu().numpy())
        parts["gen"].append(rollout.x.cpu().numpy())
        parts["a"].append(result.a_encoded.cpu().numpy())
        parts["a_s"].append(result.a_smoothed_mean.cpu().numpy())
        parts["a_g"].append(rollout.a.cpu().numpy())
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    later_hidden = bool((mask[:, n_init:] == 0).all())
    return {
        "sequences": int(n),
        "hidden_fraction": float((mask == 0).mean()),
        "hamming": {
            "smoothing": metrics.hamming(truth, cat["smooth"], mask),
            "filtering": metrics.hamming(truth, cat["filter"], mask),
            "generation": metrics.hamming(truth, cat["gen"], mask),
            "baseline": metrics.baseline_hamming(truth),
        },
        "nrmse_a": {
            "smoothing": metrics.normalised_rmse(cat["a"], cat["a_s"], mask),
            "generation": metrics.normalised_rmse(cat["a"], cat["a_g"], mask),
        },
        # With every frame after the first ones hidden, nothing later can correct
        # the filter, so smoothing equals filtering by construction.
        "smoothing_equals_filtering": later_hidden,
    }


def evaluate(
    model: KVAE,
    images: np.ndarray,
    mask_kind: str = "planning",
    drop_prob: float = 0.5,
    seed: int = 0,
    with_elbo: bool = True,
) -> dict:
    """The figures `kvae-studio evaluate --json` prints."""
    n, steps = images.shape[:2]
    cfg = model.config
    if mask_kind == "planning":
        mask = planning_mask(steps, cfg.t_init_mask, cfg.t_steps_mask)
    elif mask_kind == "random":
        mask = random_mask(n, steps, drop_prob, cfg.t_init_mask, seed)
    else:
        raise ValueError(f"unknown mask {mask_kind!r}: use 'planning' or 'random'")
    result = imputation_metrics(model, images, mask)
    result["mask"] = {"kind": mask_kind, "drop_prob": drop_prob if mask_kind == "random" else None}
    result["test_elbo"] = test_elbo(model, images, seed=seed) if with_elbo else math.nan
    return result


def sweep(
    model: KVAE,
    images: np.ndarray,
    seed: int = 0,
    progress: Callable[[int, int], bool | None] | None = None,
) -> list[dict]:
    """The paper's imputation figure: planning with 1..15 hidden steps, random drop 0.1..1.0.

    One row per point: kind, x, and Hamming distances for smoothing, filtering,
    generation and the baseline. progress(done, total) returning False stops early.
    """
    n, steps = images.shape[:2]
    t_init = model.config.t_init_mask
    points = [("planning", s) for s in PLANNING_STEPS if t_init + s <= steps]
    points += [("random", p) for p in DROP_PROBS]
    rows = []
    for i, (kind, value) in enumerate(points):
        if kind == "planning":
            mask = planning_mask(steps, t_init, int(value))
        else:
            mask = random_mask(n, steps, float(value), t_init, seed)
        res = imputation_metrics(model, images, mask)
        rows.append({"kind": kind, "x": value, **res["hamming"]})
        if progress is not None and progress(i + 1, len(points)) is False:
            break
    return rows

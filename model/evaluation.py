"""Test ELBO, imputation metrics and the paper's sweeps over a test set.

Shared by the training loop (per-epoch figures), `kvae-studio evaluate` and the
studio's Evaluate panel, so all three report the same numbers.

Two scoring protocols (kvae-model.md, section 8), named in every result:
- "studio": the encoder's means are filtered, every sequence has its own random mask,
  each metric is pooled over the whole test set;
- "paper": as the original TensorFlow code scores, so that figures are comparable with
  the paper's: codes sampled from q(a|x) (seeded), the data cut into batches of 32 with
  the last partial batch dropped, one random mask of shape (32, T) drawn once and shared
  by every batch, each metric computed within a batch and then averaged over batches,
  the baseline taken from the first sequence of each batch.
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
from model.sweep_csv import HAMMING_KEYS

PLANNING_STEPS = (1, 3, 5, 7, 9, 11, 13, 15)
DROP_PROBS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
PROTOCOLS = ("studio", "paper")
PAPER_BATCH = 32  # the original's batch_size, which its scoring depends on


def _batches(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def check_protocol(protocol: str, sequences: int) -> None:
    """Raise ValueError, before any work, when `protocol` cannot score `sequences`."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}: use 'studio' or 'paper'")
    if protocol == "paper" and sequences < PAPER_BATCH:
        raise ValueError(
            f"the paper's protocol scores whole batches of {PAPER_BATCH} sequences; "
            f"the data has {sequences}"
        )


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
    model: KVAE,
    images: np.ndarray,
    mask: np.ndarray,
    batch_size: int = 250,
    protocol: str = "studio",
    seed: int = 0,
) -> dict:
    """Hamming distances and normalised RMSE of a on the unobserved frames of `mask`.

    mask (N, T) or (T,), 1 = observed; under the paper's protocol (32, T) or (T,), the
    same for every batch. Generation starts from the first t_init_mask frames, as in the
    paper. seed: the samples of q(a|x) under the paper's protocol (unused by the studio's).
    """
    check_protocol(protocol, len(images))
    if protocol == "paper":
        result = _paper_metrics(model, images, mask, seed)
    else:
        result = _studio_metrics(model, images, mask, batch_size)
    result["protocol"] = protocol
    return result


def _studio_metrics(model: KVAE, images: np.ndarray, mask: np.ndarray, batch_size: int) -> dict:
    n, steps = images.shape[:2]
    mask = np.broadcast_to(np.asarray(mask, dtype=np.float32), (n, steps))
    n_init = min(model.config.t_init_mask, steps)
    truth = _truth(model, images)
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("smooth", "filter", "gen", "a", "a_s", "a_g")
    }
    for sl in _batches(n, batch_size):
        x = torch.as_tensor(images[sl], device=model.device)
        m = torch.as_tensor(mask[sl].copy(), device=model.device)
        for key, value in _run(model, x, m, n_init).items():
            parts[key].append(value)
    cat = {k: np.concatenate(v) for k, v in parts.items()}
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
        "smoothing_equals_filtering": _later_hidden(mask, n_init),
    }


def _paper_metrics(model: KVAE, images: np.ndarray, mask: np.ndarray, seed: int) -> dict:
    """The original's `impute_all`: every figure per batch of 32, then their mean."""
    n, steps = images.shape[:2]
    batches = n // PAPER_BATCH
    mask = np.broadcast_to(np.asarray(mask, dtype=np.float32), (PAPER_BATCH, steps))
    n_init = min(model.config.t_init_mask, steps)
    m = torch.as_tensor(mask.copy(), device=model.device)
    gen = torch.Generator().manual_seed(seed)  # on the CPU: the same samples on any device
    rows = []
    for b in range(batches):
        chunk = images[b * PAPER_BATCH : (b + 1) * PAPER_BATCH]
        x = torch.as_tensor(chunk, device=model.device)
        codes = sample_codes(model, x, gen)
        out = _run(model, x, m, n_init, codes)
        truth = _truth(model, chunk)
        rows.append(
            (
                metrics.hamming(truth, out["smooth"], mask),
                metrics.hamming(truth, out["filter"], mask),
                metrics.hamming(truth, out["gen"], mask),
                metrics.baseline_hamming(truth[:1]),
                metrics.normalised_rmse_hidden(out["a"], out["a_s"], mask),
                metrics.normalised_rmse_hidden(out["a"], out["a_g"], mask),
            )
        )
    mean = np.mean(np.array(rows, dtype=np.float64), axis=0)
    return {
        "sequences": int(batches * PAPER_BATCH),
        "hidden_fraction": float((mask == 0).mean()),
        "hamming": dict(zip(HAMMING_KEYS, map(float, mean[:4]), strict=True)),
        "nrmse_a": {"smoothing": float(mean[4]), "generation": float(mean[5])},
        "smoothing_equals_filtering": _later_hidden(mask, n_init),
    }


def sample_codes(model: KVAE, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One sample a_t ~ q(a_t | x_t) per frame of x (B, T, H, W): the codes the original
    filters when it scores (its `a_vae`); the encoder's means when use_vae is off."""
    mean, var = model.encode(model.prepare_frames(x))
    if not model.config.use_vae:
        return mean
    eps = torch.randn(mean.shape, generator=generator).to(mean.device)
    return mean + var.sqrt() * eps


def _run(model, x, m, n_init, codes=None) -> dict[str, np.ndarray]:
    """The figures' inputs; only the hidden frames are decoded, the only ones scored."""
    hidden = m.expand(x.shape[0], -1) == 0
    result = impute(model, x, m, codes=codes, decode_only=hidden)
    rollout = generate(model, x, n_init, codes=codes, decode_only=hidden)
    return {
        "smooth": result.x_smoothed.cpu().numpy(),
        "filter": result.x_filtered.cpu().numpy(),
        "gen": rollout.x.cpu().numpy(),
        "a": result.a_encoded.cpu().numpy(),
        "a_s": result.a_smoothed_mean.cpu().numpy(),
        "a_g": rollout.a.cpu().numpy(),
    }


def _truth(model: KVAE, images: np.ndarray) -> np.ndarray:
    return images > 0 if model.config.output == "bernoulli" else images


def _later_hidden(mask: np.ndarray, n_init: int) -> bool:
    # With every frame after the first ones hidden, nothing later can correct the
    # filter, so smoothing equals filtering by construction.
    return bool((mask[:, n_init:] == 0).all())


def make_mask(
    kind: str, sequences: int, steps: int, t_init: int, value: float, seed: int, protocol: str
) -> np.ndarray:
    """The mask of one figure: planning with `value` hidden steps (T,), or random with drop
    probability `value`, one row per sequence (studio) or one (32, T) mask (paper)."""
    if kind == "planning":
        return planning_mask(steps, t_init, int(value))
    if kind == "random":
        rows = PAPER_BATCH if protocol == "paper" else sequences
        return random_mask(rows, steps, float(value), t_init, seed)
    raise ValueError(f"unknown mask {kind!r}: use 'planning' or 'random'")


def evaluate(
    model: KVAE,
    images: np.ndarray,
    mask_kind: str = "planning",
    drop_prob: float = 0.5,
    seed: int = 0,
    with_elbo: bool = True,
    protocol: str = "studio",
) -> dict:
    """The figures `kvae-studio evaluate --json` prints."""
    n, steps = images.shape[:2]
    cfg = model.config
    check_protocol(protocol, n)
    value = cfg.t_steps_mask if mask_kind == "planning" else drop_prob
    mask = make_mask(mask_kind, n, steps, cfg.t_init_mask, value, seed, protocol)
    result = imputation_metrics(model, images, mask, protocol=protocol, seed=seed)
    result["mask"] = {"kind": mask_kind, "drop_prob": drop_prob if mask_kind == "random" else None}
    if not with_elbo:
        result["test_elbo"] = math.nan
    elif protocol == "paper":  # the original's test(): whole batches of 32, their mean
        scored = images[: (n // PAPER_BATCH) * PAPER_BATCH]
        result["test_elbo"] = test_elbo(model, scored, batch_size=PAPER_BATCH, seed=seed)
    else:
        result["test_elbo"] = test_elbo(model, images, seed=seed)
    return result


def sweep(
    model: KVAE,
    images: np.ndarray,
    seed: int = 0,
    progress: Callable[[int, int], bool | None] | None = None,
    protocol: str = "studio",
    on_row: Callable[[dict], None] | None = None,
) -> list[dict]:
    """The paper's imputation figure: planning with 1..15 hidden steps, random drop 0.1..1.0.

    One row per point: protocol, kind, x, and Hamming distances for smoothing, filtering,
    generation and the baseline. progress(done, total) returning False stops early;
    on_row(row) sees each row as soon as it is computed (a live plot draws it).
    """
    n, steps = images.shape[:2]
    check_protocol(protocol, n)
    t_init = model.config.t_init_mask
    points = [("planning", s) for s in PLANNING_STEPS if t_init + s <= steps]
    points += [("random", p) for p in DROP_PROBS]
    rows = []
    for i, (kind, value) in enumerate(points):
        mask = make_mask(kind, n, steps, t_init, value, seed, protocol)
        res = imputation_metrics(model, images, mask, protocol=protocol, seed=seed)
        rows.append({"protocol": protocol, "kind": kind, "x": value, **res["hamming"]})
        if on_row is not None:
            on_row(rows[-1])
        if progress is not None and progress(i + 1, len(points)) is False:
            break
    return rows

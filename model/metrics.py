"""Imputation metrics of the paper (kvae-model.md, section 8), in numpy."""

from __future__ import annotations

import numpy as np

BASELINE_FIRST = (0, 3, 6)
BASELINE_LAST = (9, 12, 15)


def binarise(frames: np.ndarray) -> np.ndarray:
    return np.asarray(frames) > 0.5


def hamming(truth: np.ndarray, predicted: np.ndarray, mask: np.ndarray) -> float:
    """Fraction of differing pixels over the unobserved frames (mask 0) only.

    truth, predicted (N, T, H, W); mask (N, T) or (T,). NaN when nothing is hidden.
    """
    hidden = np.broadcast_to(np.asarray(mask) == 0, truth.shape[:2])
    if not hidden.any():
        return float("nan")
    wrong = binarise(truth)[hidden] != binarise(predicted)[hidden]
    return float(wrong.mean())


def baseline_hamming(truth: np.ndarray) -> float:
    """Mean over sequences of the largest Hamming distance between two frames of the truth,
    frames i in {0, 3, 6} against j in {9, 12, 15} (0-based): what a model that draws
    the ball in the wrong place would score."""
    t = truth.shape[1]
    firsts = [i for i in BASELINE_FIRST if i < t]
    lasts = [j for j in BASELINE_LAST if j < t]
    if not firsts or not lasts:
        return float("nan")
    b = binarise(truth)
    dist = np.stack([(b[:, i] != b[:, j]).mean(axis=(1, 2)) for i in firsts for j in lasts], 1)
    return float(dist.max(axis=1).mean())


def normalised_rmse(reference: np.ndarray, estimate: np.ndarray, mask: np.ndarray) -> float:
    """RMSE between imputed and encoder codes on unobserved frames / std of encoder codes."""
    hidden = np.broadcast_to(np.asarray(mask) == 0, reference.shape[:2])
    if not hidden.any():
        return float("nan")
    err = np.sqrt(np.mean((reference[hidden] - estimate[hidden]) ** 2))
    return float(err / max(float(np.std(reference)), 1e-12))


def normalised_rmse_hidden(reference: np.ndarray, estimate: np.ndarray, mask: np.ndarray) -> float:
    """As `normalised_rmse`, but divided by the std of the encoder codes on the unobserved
    frames only, as the original's `norm_rmse(a_imputed[unobs], a_reconstr[unobs])` is."""
    hidden = np.broadcast_to(np.asarray(mask) == 0, reference.shape[:2])
    if not hidden.any():
        return float("nan")
    ref = reference[hidden]
    err = np.sqrt(np.mean((ref - estimate[hidden]) ** 2))
    return float(err / max(float(np.std(ref)), 1e-12))

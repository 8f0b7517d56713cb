"""One Explore update: impute and generate for one sequence and mask, returned as numpy.

No torch here: the window uses these request and result types. `run_inference`
(`services.inference_run`), which the model's process runs, imports it.

Qt-free and run in the model's process: everything that touches torch or does model maths
(metrics, covariance ellipses) happens here, so the GUI thread only copies arrays into
items. A request is a snapshot taken on the GUI thread; the result carries the request's
masks back, so what is drawn always matches the mask it was computed for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kvae_studio.services.model_ref import ExploredModel
from model import metrics
from model.masks import generation_start

ELLIPSE_POINTS = 48


@dataclass(frozen=True)
class InferenceRequest:
    """A snapshot of what to infer; `seq` orders requests (newest wins)."""

    seq: int
    model: ExploredModel  # a ModelRef the model's process loads, or a loaded KVAE
    images: np.ndarray  # (T, H, W) float32, the true sequence
    frame_visible: np.ndarray  # (T,) float32, 1 = frame observed
    pixel_visible: np.ndarray | None  # (T, H, W) float32, 1 = pixel visible; None = all

    @property
    def fully_visible(self) -> np.ndarray:
        """(T,) bool: frames seen whole."""
        seen = self.frame_visible > 0
        if self.pixel_visible is not None:
            seen = seen & (self.pixel_visible > 0).all(axis=(1, 2))
        return seen

    @property
    def evaluated(self) -> np.ndarray:
        """(T,) bool: frames the metrics score, those not seen whole (hidden or painted on)."""
        return ~self.fully_visible

    @property
    def n_init(self) -> int:
        """Frames the generation starts from (`model.masks.generation_start`): the leading
        run of frames shown with at most a few pixels painted over."""
        t_init = self.model.config.t_init_mask
        return generation_start(self.frame_visible, self.pixel_visible, t_init)


@dataclass(frozen=True)
class Metrics:
    """Hamming distances (section 8) on the evaluated frames; NaN when there are none."""

    smoothing: float
    filtering: float
    generation: float
    baseline: float
    frames: int  # how many frames were scored
    coincide: bool  # nothing is seen after the first unseen frame: filtering == smoothing
    partly: int = 0  # of those, frames partly painted over (seen in part, scored whole)
    # Nothing is seen between the roll-out's first frames and the last scored frame: the
    # filter only predicts there, as the roll-out does, so generation == filtering.
    rollout: bool = False


@dataclass(frozen=True)
class InferenceResult:
    """Everything the Explore view draws for one request; arrays are (T, ...) numpy."""

    seq: int
    images: np.ndarray
    frame_visible: np.ndarray
    pixel_visible: np.ndarray | None
    evaluated: np.ndarray  # (T,) bool
    n_init: int
    x_filtered: np.ndarray
    x_smoothed: np.ndarray
    x_composite: np.ndarray
    x_generated: np.ndarray | None  # None when n_init == 0
    a_encoded: np.ndarray  # (T, da)
    a_filtered: np.ndarray
    a_smoothed: np.ndarray
    a_smoothed_cov: np.ndarray  # (T, da, da)
    a_generated: np.ndarray | None
    ellipses: np.ndarray  # (T, ELLIPSE_POINTS, 2): 2-sigma outline of the smoothed a_t
    z_smoothed: np.ndarray  # (T, dz)
    z_smoothed_std: np.ndarray
    z_filtered: np.ndarray
    alpha: np.ndarray  # (T, K)
    metrics: Metrics
    seconds: float

    @property
    def fully_visible_frames(self) -> np.ndarray:
        """(T,) bool: frames the model saw whole."""
        return ~self.evaluated


def score(
    truth: np.ndarray,
    filtered: np.ndarray,
    smoothed: np.ndarray,
    generated: np.ndarray | None,
    request: InferenceRequest,
) -> Metrics:
    """The paper's Hamming distances, on the frames not seen whole (hidden or painted on)."""
    evaluated = request.evaluated
    mask = (~evaluated).astype(np.float32)[None]
    nan = float("nan")

    def ham(pred: np.ndarray | None) -> float:
        return nan if pred is None else metrics.hamming(truth[None], pred[None], mask)

    seen_any = request.frame_visible > 0
    if request.pixel_visible is not None:
        seen_any = seen_any & (request.pixel_visible > 0).any(axis=(1, 2))
    first = int(np.argmax(evaluated)) if evaluated.any() else len(evaluated)
    coincide = bool(evaluated.any() and not seen_any[first + 1 :].any())
    last = len(evaluated) - 1 - int(np.argmax(evaluated[::-1])) if evaluated.any() else -1
    n_init = request.n_init if generated is not None else 0
    rollout = bool(n_init > 0 and last >= n_init and not seen_any[n_init : last + 1].any())
    return Metrics(
        smoothing=ham(smoothed),
        filtering=ham(filtered),
        generation=ham(generated),
        baseline=metrics.baseline_hamming(truth[None]),
        frames=int(evaluated.sum()),
        coincide=coincide,
        partly=int((evaluated & seen_any).sum()),
        rollout=rollout,
    )


def sigma_ellipses(mean: np.ndarray, cov: np.ndarray, sigmas: float = 2.0) -> np.ndarray:
    """Outlines (T, ELLIPSE_POINTS, 2) of the `sigmas`-sigma ellipses of the first two
    dimensions of N(mean_t, cov_t); a 1-d code gets a vertical bar at y = 0."""
    steps = mean.shape[0]
    angle = np.linspace(0.0, 2.0 * np.pi, ELLIPSE_POINTS)
    circle = np.stack([np.cos(angle), np.sin(angle)], axis=-1)  # (P, 2)
    if mean.shape[1] < 2:
        out = np.zeros((steps, ELLIPSE_POINTS, 2), dtype=np.float32)
        out[..., 0] = mean[:, :1] + sigmas * np.sqrt(cov[:, :1, 0]) * circle[None, :, 0]
        return out
    c2 = cov[:, :2, :2].astype(np.float64)
    c2 = 0.5 * (c2 + np.swapaxes(c2, -1, -2))
    values, vectors = np.linalg.eigh(c2)
    scale = sigmas * np.sqrt(np.clip(values, 0.0, None))  # (T, 2)
    outline = np.einsum("tij,pj->tpi", vectors * scale[:, None, :], circle)
    return (outline + mean[:, None, :2]).astype(np.float32)

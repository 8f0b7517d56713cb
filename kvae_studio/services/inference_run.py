"""One Explore update in the model's process: impute, generate and score, as numpy.

The request and result types (`services.inference`) import no torch, so the window can
use them; this module is what the model's process (`services.inference_process`) runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from kvae_studio.services.inference import (
    InferenceRequest,
    InferenceResult,
    score,
    sigma_ellipses,
)
from model.checkpoint import finite_frames
from model.imputation import ImputeMemo, generate, impute

FROM_REQUEST = ("seq", "images", "frame_visible", "pixel_visible")  # returned as asked
FROM_IMPUTATION = {  # result field: the imputation's tensor it is (first sequence, numpy)
    "x_composite": "x_composite",
    "a_encoded": "a_encoded",
    "a_filtered": "a_filtered_mean",
    "a_smoothed": "a_smoothed_mean",
    "z_smoothed": "z_smoothed_mean",
    "z_filtered": "z_filtered_mean",
    "alpha": "alpha",
}


def run_inference(
    request: InferenceRequest,
    superseded: Callable[[], bool] | None = None,
    memo: ImputeMemo | None = None,
) -> InferenceResult | None:
    """Impute, generate and score; None if `superseded()` says a newer request is waiting.

    With a `memo` (one per sequence being edited, see `model.imputation.ImputeMemo`), what
    earlier edits computed and this one would compute again is reused (the model's
    weights must not change in place meanwhile).
    """
    started = time.perf_counter()
    model = request.model
    x = torch.as_tensor(request.images, dtype=torch.float32)[None]
    mask = torch.as_tensor(request.frame_visible, dtype=torch.float32)[None]
    pixel = None
    if request.pixel_visible is not None:
        pixel = torch.as_tensor(request.pixel_visible, dtype=torch.float32)[None]
    imp = impute(model, x, mask, pixel, memo=memo)
    if superseded is not None and superseded():
        return None
    n_init = request.n_init
    # The roll-out sees its first frames as the user left them: painted pixels blank.
    x_start = x if pixel is None else x * pixel
    gen = generate(model, x_start, n_init, memo=memo) if n_init > 0 else None

    def np0(t: Any) -> np.ndarray:
        return t[0].detach().cpu().numpy().astype(np.float32, copy=False)

    a_cov = np0(imp.a_smoothed_cov)
    z_cov = np0(imp.z_smoothed_cov)
    x_filtered, x_smoothed = finite_frames(np0(imp.x_filtered)), finite_frames(np0(imp.x_smoothed))
    x_generated = None if gen is None else np0(gen.x)
    evaluated = request.evaluated
    truth = model.prepare_frames(x)[0].cpu().numpy()
    taken = {field: np0(getattr(imp, source)) for field, source in FROM_IMPUTATION.items()}
    asked = {name: getattr(request, name) for name in FROM_REQUEST}
    return InferenceResult(
        **taken,
        **asked,
        evaluated=evaluated,
        n_init=n_init,
        x_filtered=x_filtered,
        x_smoothed=x_smoothed,
        x_generated=x_generated,
        a_smoothed_cov=a_cov,
        a_generated=None if gen is None else np0(gen.a),
        ellipses=sigma_ellipses(taken["a_smoothed"], a_cov),
        z_smoothed_std=np.sqrt(np.clip(np.diagonal(z_cov, axis1=-2, axis2=-1), 0, None)),
        metrics=score(truth, x_filtered, x_smoothed, x_generated, request),
        seconds=time.perf_counter() - started,
    )

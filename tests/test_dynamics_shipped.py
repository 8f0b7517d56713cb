"""The Dynamics tab's tasks work for every shipped model on its scene's test set, as the
tab asks for them (in this process here; the tab runs the same functions in its
analysis process): the regime map's alpha is the model's own for those codes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kvae_studio.services import dynamics_tasks
from kvae_studio.services.dynamics import Source
from kvae_studio.services.model_ref import model_ref_of_file
from kvae_studio.services.resources import shipped_examples, shipped_models, shipped_test_set
from model.checkpoint import load_model

MODELS = {**shipped_models(), **shipped_examples()}


class Context:
    cancelled = False

    def progress(self, done: int, total: int) -> bool:
        return True


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_view_of_a_shipped_model(name):
    path = MODELS[name]
    scene = "box" if name in shipped_examples() else name
    source = Source(model_ref_of_file(path), str(shipped_test_set(scene)), sequences=40)
    ctx = Context()
    summary = dynamics_tasks.summary(ctx, source)
    assert summary.sequences == 40
    chunks = list(dynamics_tasks.regime_map(ctx, source, chunk=25))
    assert [c.first for c in chunks] == [0, 25]
    codes = np.concatenate([c.codes for c in chunks])
    alpha = np.concatenate([c.alpha for c in chunks])
    # the weights the model's own filter gives those codes with every frame seen
    model = load_model(path).eval()
    with torch.no_grad():
        own = model.kalman_pass(torch.as_tensor(codes), torch.ones(codes.shape[:2])).alpha
    np.testing.assert_allclose(alpha, own.numpy(), atol=1e-5)
    step = 3 if summary.recurrent else None
    amap = dynamics_tasks.alpha_map(ctx, source, 0 if step else None, step)
    assert amap.alpha.shape[0] == summary.regimes and np.isfinite(amap.alpha).all()
    flow = dynamics_tasks.regime_flow(ctx, source)
    assert flow.flow.shape[0] == summary.regimes and flow.counts.sum() == 40 * summary.steps
    imagined = dynamics_tasks.imagination(ctx, source, steps=30, sequences=4)
    assert imagined.mean_frames.shape[:2] == (4, 30)
    errors = list(dynamics_tasks.error_over_time(ctx, source))
    assert errors[-1].median["smoothed"][summary.steps - 5] < errors[-1].median["baseline"][0]
    matrices = dynamics_tasks.regime_matrices(ctx, source)
    assert matrices.A.shape == (summary.regimes, 4, 4)

"""benchmarks/bench_train.py --parts: its parts of a step cover the training step's work."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import torch

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
spec = importlib.util.spec_from_file_location("bench_train", BENCHMARKS / "bench_train.py")
bench_train = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_train)

from model.config import KVAEConfig  # noqa: E402
from model.kvae import KVAE  # noqa: E402


def _with_gradient(model: KVAE) -> set[str]:
    return {name for name, p in model.named_parameters() if p.grad is not None and p.grad.any()}


def test_the_parts_train_every_parameter_the_elbo_trains():
    torch.manual_seed(0)
    frames, _ = bench_train.ball_frames(4, 20, seed=1)
    model = KVAE(KVAEConfig(batch_size=4)).train()
    x = model.prepare_frames(torch.as_tensor(frames))
    (-model.elbo(x).elbo).backward()
    trained = _with_gradient(model)
    assert any(n.startswith("encoder") for n in trained)
    assert any(n.startswith("alpha_net") for n in trained)
    model.zero_grad(set_to_none=True)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    seconds = bench_train.step_parts(model, x, torch.optim.SGD(model.parameters(), lr=1e-3))
    assert len(seconds) == len(bench_train.PARTS) and all(s > 0 for s in seconds)
    assert _with_gradient(model) == trained
    moved = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    assert moved == trained  # the optimiser part stepped them all

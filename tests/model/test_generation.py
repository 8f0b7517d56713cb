"""generate() against a hand-rolled roll-out, and what impute() hands back."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from kvae_reference import NumpyDynamics, lively, np64

from model.config import KVAEConfig
from model.imputation import generate, impute

CFG = dict(frame_size=16, filters=(4, 4), alpha_units=8)


def test_deterministic_rollout_matches_a_hand_rolled_loop():
    model = lively(KVAEConfig(**CFG)).eval()
    x = (torch.rand(2, 8, 16, 16) > 0.8).float()
    n_init, steps = 3, 9
    out = generate(model, x, n_init, steps=steps)
    with torch.no_grad():
        a_seen = model.encode(x[:, :n_init])[0]
        kp = model.kalman_pass(a_seen, torch.ones(2, n_init))
    dyn = NumpyDynamics(model)
    for b in range(2):
        state = dyn.start()
        for inp in [dyn.a0, *np64(a_seen[b])]:
            alpha, state = dyn.step(inp, state)
        z = np64(kp.smoothed_mean[b, -1])
        for t in range(n_init, steps):
            A, C = dyn.mix(alpha)
            z = A @ z
            a = C @ z
            np.testing.assert_allclose(np64(out.alpha[b, t]), alpha, rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(np64(out.z[b, t]), z, rtol=1e-3, atol=1e-4)
            np.testing.assert_allclose(np64(out.a[b, t]), a, rtol=1e-3, atol=1e-4)
            alpha, state = dyn.step(a, state)
    torch.testing.assert_close(out.z[:, :n_init], kp.smoothed_mean)
    assert out.x.shape == (2, steps, 16, 16)
    torch.testing.assert_close(out.x, model.decode(out.a), rtol=1e-5, atol=1e-6)


def test_mlp_dynamics_network_state_after_the_seen_frames():
    """alpha_rnn = False: the FIFO after the seen codes equals feeding them one by one."""
    model = lively(KVAEConfig(**CFG, alpha_rnn=False, fifo_size=3)).eval()
    x = (torch.rand(1, 8, 16, 16) > 0.8).float()
    n_init = 4
    out = generate(model, x, n_init, steps=8)
    net = model.alpha_net
    with torch.no_grad():
        a_seen = model.encode(x[:, :n_init])[0]
        state = net.initial_state(model.a0.expand(1, -1))
        _, _, state = net.step(model.a0.expand(1, -1), state)
        for t in range(n_init - 1):
            _, _, state = net.step(a_seen[:, t], state)
        alpha, _, _ = net.step(a_seen[:, -1], state)
    torch.testing.assert_close(out.alpha[:, n_init], alpha)


def test_stochastic_rollout_is_reproducible_with_a_generator():
    model = lively(KVAEConfig(**CFG)).eval()
    x = (torch.rand(2, 8, 16, 16) > 0.8).float()
    g = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    one = generate(model, x, 3, stochastic=True, generator=g())
    two = generate(model, x, 3, stochastic=True, generator=g())
    plain = generate(model, x, 3)
    assert torch.equal(one.a, two.a)
    assert not torch.allclose(one.a[:, 3:], plain.a[:, 3:])
    torch.testing.assert_close(one.a[:, :3], plain.a[:, :3])
    with pytest.raises(ValueError, match="n_init"):
        generate(model, x, 0)


def test_results_are_ordinary_tensors():
    """Computed under inference mode, handed back as tensors a caller may edit."""
    model = lively(KVAEConfig(**CFG)).eval()
    x = (torch.rand(1, 6, 16, 16) > 0.8).float()
    res = impute(model, x, torch.tensor([[1.0, 1, 0, 0, 1, 1]]))
    gen = generate(model, x, 2)
    for tensor in (res.x_smoothed, res.z_smoothed_cov, gen.x, gen.a):
        assert not tensor.is_inference() and not tensor.requires_grad
    res.x_smoothed[0, 0] = 0.5  # in place, outside inference mode
    (gen.a * torch.ones(1, requires_grad=True)).sum().backward()

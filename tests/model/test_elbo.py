"""The ELBO term by term, the dynamics network's feed, and which parameters each phase trains."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from kvae_reference import (
    NumpyDynamics,
    filter_with_feed,
    joint_posterior,
    lively,
    mvn_logpdf,
    np64,
)
from trainer_options import cpu_fp32

from model import lgssm
from model.config import KVAEConfig
from model.kvae import KVAE
from model.objective import elbo_terms
from model.schedule import train_only
from model.training import Trainer

TINY = dict(frame_size=8, filters=(4, 4), alpha_units=6, batch_size=2)
JITTER = 1e-6  # model.objective samples z with cholesky(Sigma + 1e-6 I); so does the reference


def tiny_model(seed=0, **overrides) -> KVAE:
    """A small lively KVAE (its B stirred too), in training mode."""
    return lively(KVAEConfig(**{**TINY, **overrides}), seed, stir_b=True)


def frames(batch=2, steps=6, size=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(batch, steps, size, size, generator=g) > 0.7).float()


# ----------------------------------------------------------------------------- objective
def brute_force_terms(log_px, log_qa, a, mask, sm, sc, A, C, Q, R, mu0, S0, noise, offsets, scale):
    """Section 6 with explicit loops and scipy's multivariate normal, in float64."""
    batch, steps = mask.shape
    n_obs = mask.sum()
    tot = dict(log_px=0.0, log_qa=0.0, transition=0.0, emission=0.0, initial=0.0, entropy=0.0)
    for b in range(batch):
        z = []
        for t in range(steps):
            cov = sc[b, t] + JITTER * np.eye(len(mu0))
            z.append(sm[b, t] + np.linalg.cholesky(cov) @ noise[b, t])
            tot["entropy"] -= mvn_logpdf(z[t], sm[b, t], cov)
        tot["initial"] += mvn_logpdf(z[0], mu0, S0)
        for t in range(steps):
            if t > 0:
                pred = A[b, t] @ z[t - 1] + (0 if offsets is None else offsets[b, t])
                tot["transition"] += mvn_logpdf(z[t], pred, Q)
            if mask[b, t]:
                tot["emission"] += mvn_logpdf(a[b, t], C[b, t] @ z[t], R)
                tot["log_px"] += log_px[b, t]
                tot["log_qa"] += log_qa[b, t]
    tot = {k: v / n_obs for k, v in tot.items()}
    tot["elbo_kf"] = tot["transition"] + tot["emission"] + tot["initial"] + tot["entropy"]
    tot["elbo"] = scale * tot["log_px"] + tot["elbo_kf"] - tot["log_qa"]
    return tot


@pytest.mark.parametrize("with_offsets", [False, True])
def test_elbo_terms_match_brute_force(with_offsets):
    rng = np.random.default_rng(0)
    B, T, dz, da = 2, 5, 3, 2
    mask = np.array([[1, 1, 0, 0, 1], [1, 0, 1, 1, 1]], np.float64)
    L = rng.standard_normal((B, T, dz, dz))
    inputs = dict(
        log_px=rng.standard_normal((B, T)) - 50,
        log_qa=rng.standard_normal((B, T)) + 3,
        a=rng.standard_normal((B, T, da)),
        mask=mask,
        sm=rng.standard_normal((B, T, dz)),
        sc=0.3 * L @ L.transpose(0, 1, 3, 2) + 0.1 * np.eye(dz),
        A=np.eye(dz) + 0.2 * rng.standard_normal((B, T, dz, dz)),
        C=rng.standard_normal((B, T, da, dz)),
        Q=0.08 * np.eye(dz) + 0.01,
        R=np.array([[0.03, 0.01], [0.01, 0.05]]),
        mu0=rng.standard_normal(dz),
        S0=20 * np.eye(dz),
        noise=rng.standard_normal((B, T, dz)),
        offsets=rng.standard_normal((B, T, dz)) if with_offsets else None,
        scale=0.3,
    )
    expect = brute_force_terms(**inputs)
    t = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in inputs.items()}
    ssm = lgssm.StateSpace(*(t[name] for name in ("A", "C", "Q", "R", "mu0", "S0", "offsets")))
    got = elbo_terms(
        t["log_px"], t["log_qa"], t["a"], t["mask"], t["sm"], t["sc"], ssm, t["noise"], t["scale"]
    )
    for name, value in got._asdict().items():
        assert float(value) == pytest.approx(expect[name], rel=1e-10, abs=1e-10), name


def numpy_kvae_elbo(model: KVAE, x: torch.Tensor, mask: torch.Tensor, seed: int, scale: float):
    """KVAE.elbo recomputed: networks' outputs from torch, everything else in float64 numpy.

    The random draws are replayed in the model's order: eps for a (B, T, da), then the
    noise for z (B, T, dz), from one generator.
    """
    gen = torch.Generator().manual_seed(seed)
    xb = (x > 0).float()
    with torch.no_grad():
        mean, var = model.encode(xb)
        eps = torch.randn(mean.shape, generator=gen)
        noise = np64(torch.randn(*mean.shape[:2], model.config.dim_z, generator=gen))
        a_t = mean + var.sqrt() * eps
        logits = np64(model.decode_logits(a_t))
    mean, var, a, xn, m = np64(mean), np64(var), np64(a_t), np64(xb), np64(mask)
    log_p = -np.logaddexp(0, -logits)  # log sigmoid
    log_1mp = -np.logaddexp(0, logits)
    log_px = (xn * log_p + (1 - xn) * log_1mp).sum((-1, -2))
    B, T = m.shape
    log_qa = np.array(
        [[mvn_logpdf(a[b, t], mean[b, t], np.diag(var[b, t])) for t in range(T)] for b in range(B)]
    )
    dyn = NumpyDynamics(model)
    sm, sc, As, Cs = [], [], [], []
    for b in range(B):
        ref = filter_with_feed(dyn, a[b], m[b])
        s_mean, s_cov = joint_posterior(
            ref["A"], ref["C"], dyn.Q, dyn.R, dyn.mu0, dyn.Sigma0, a[b], m[b]
        )
        sm.append(s_mean)
        sc.append(s_cov)
        As.append(ref["A"])
        Cs.append(ref["C"])
    return brute_force_terms(
        log_px,
        log_qa,
        a,
        m,
        np.array(sm),
        np.array(sc),
        np.array(As),
        np.array(Cs),
        dyn.Q,
        dyn.R,
        dyn.mu0,
        dyn.Sigma0,
        noise,
        None,
        scale,
    )


@pytest.mark.parametrize("masked", [False, True], ids=["all-observed", "missing-frames"])
def test_kvae_elbo_matches_brute_force(masked):
    model = tiny_model(seed=1)
    x = frames(batch=2, steps=6)
    mask = torch.ones(2, 6)
    if masked:
        mask[0, 2:4] = 0
        mask[1, 4] = 0
    with torch.no_grad():
        got = model.elbo(
            x, mask, scale_reconstruction=0.7, generator=torch.Generator().manual_seed(5)
        )
    expect = numpy_kvae_elbo(model, x, mask, seed=5, scale=0.7)
    for name, value in got._asdict().items():
        assert float(value) == pytest.approx(expect[name], rel=2e-4, abs=2e-4), name


# ----------------------------------------------------------------------------- dynamics
@pytest.mark.parametrize("gaps", [[], [2], [1, 2, 3], [5, 6, 7, 8, 9]])
def test_dynamics_network_is_fed_the_prediction_in_gaps(gaps):
    """Against a hand-rolled loop: alpha_t sees a_{t-1}, or C_{t-1} mu_{t-1|t-2} if missing."""
    model = tiny_model(seed=2)
    torch.manual_seed(3)
    a = torch.randn(1, 10, 2)
    mask = torch.ones(1, 10)
    mask[0, gaps] = 0
    with torch.no_grad():
        kp = model.kalman_pass(a, mask)
    ref = filter_with_feed(NumpyDynamics(model), np64(a[0]), np64(mask[0]))
    np.testing.assert_allclose(np64(kp.alpha[0]), ref["alpha"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np64(kp.A[0]), ref["A"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np64(kp.C[0]), ref["C"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np64(kp.filtered.filtered_mean[0]), ref["fm"], rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(np64(kp.filtered.predicted_cov[0]), ref["pc"], rtol=1e-3, atol=1e-4)
    if gaps:  # the feed matters: feeding zeros (or a_{t-1}) instead would change alpha
        wrong = a.clone()
        wrong[0, gaps] = 0
        with torch.no_grad():
            other = model.kalman_pass(wrong, torch.ones(1, 10))
        assert not torch.allclose(
            other.alpha[0, gaps[0] + 1 :], kp.alpha[0, gaps[0] + 1 :], atol=1e-3
        )


@pytest.mark.parametrize("first_gap", [0, 1, 5])
def test_fast_path_equals_interleaved_path(first_gap):
    """All frames observed: one LSTM call over the sequence equals stepping it in the filter.

    Sequence 0 sees every frame; sequence 1 misses one, which sends the whole batch
    through the interleaved filter (the network stepped once per frame from the gap
    on). Sequence 0's results must equal those of the one-call path (in float64, so
    that rounding differences between the two LSTM kernels stay far below the bound).
    """
    model = tiny_model(seed=4).double()
    a = torch.randn(2, 9, 2, dtype=torch.float64)
    mask = torch.ones(2, 9, dtype=torch.float64)
    mask[1, first_gap] = 0
    with torch.no_grad():
        fast = model.kalman_pass(a[:1], mask[:1])
        slow = model.kalman_pass(a, mask)
    for name in ("alpha", "A", "C", "smoothed_mean", "smoothed_cov"):
        torch.testing.assert_close(
            getattr(fast, name)[0], getattr(slow, name)[0], rtol=1e-10, atol=1e-12
        )
    for x, y in zip(fast.filtered, slow.filtered, strict=True):
        torch.testing.assert_close(x[0], y[0], rtol=1e-10, atol=1e-12)
    # and sequence 1 did take another path: its alphas after the gap differ
    with torch.no_grad():
        alone = model.kalman_pass(a[1:], torch.ones(1, 9, dtype=torch.float64))
    assert not torch.allclose(
        alone.alpha[0, first_gap + 1 :], slow.alpha[1, first_gap + 1 :], atol=1e-4
    )


def test_k1_is_a_plain_lgssm():
    """K = 1: alpha is identically 1, A_t = A, C_t = C, and the pass is the textbook smoother."""
    model = tiny_model(seed=5, K=1)
    a = torch.randn(2, 8, 2)
    mask = torch.ones(2, 8)
    mask[1, 3:6] = 0
    with torch.no_grad():
        kp = model.kalman_pass(a, mask)
        assert torch.equal(kp.alpha, torch.ones(2, 8, 1))
        A = model.A[0].expand(2, 8, -1, -1)
        C = model.C[0].expand(2, 8, -1, -1)
        torch.testing.assert_close(kp.A, A)
        torch.testing.assert_close(kp.C, C)
        ssm = lgssm.StateSpace(A, C, model.Q, model.R, model.mu0, model.Sigma0)
        ref = lgssm.kalman_smooth(a, mask, ssm)
    torch.testing.assert_close(kp.smoothed_mean, ref.smoothed_mean)
    torch.testing.assert_close(kp.smoothed_cov, ref.smoothed_cov)


# ----------------------------------------------------------------------------- training phases
@pytest.mark.parametrize("learn_u", [False, True])
@pytest.mark.parametrize("phase", ["vae", "vae+lgssm", "all"])
def test_each_phase_trains_its_groups_and_no_other(phase, learn_u):
    torch.manual_seed(0)
    data = np.asarray(frames(batch=4, steps=6))
    trainer = Trainer(data, options=cpu_fp32(config=KVAEConfig(**TINY, learn_u=learn_u)))
    model = trainer.model
    trained = train_only(model, phase)
    mask = torch.ones(4, 6)
    mask[:, 3] = 0  # exercise the interleaved path too
    (-model.elbo(torch.as_tensor(data), mask).elbo).backward()
    groups = {
        "vae": model.vae_parameters(),
        "kf": model.kf_parameters(),
        "alpha": model.alpha_parameters(),
    }
    active = {"vae": {"vae"}, "vae+lgssm": {"vae", "kf"}, "all": {"vae", "kf", "alpha"}}[phase]
    assert {id(p) for p in trained} == {id(p) for g in active for p in groups[g]}
    names = {id(p): n for n, p in model.named_parameters()}
    for group, params in groups.items():
        for p in params:
            name = names[id(p)]
            if group not in active:
                assert p.grad is None, f"{name} got a gradient in phase {phase}"
            elif name == "B" and not learn_u:
                # u_t = 0 without learn_u, so B_t u_t vanishes: B cannot learn anything.
                assert p.grad is None or not p.grad.any()
            else:
                assert p.grad is not None and p.grad.abs().sum() > 0, f"{name} untrained in {phase}"
    assert {id(p) for g in groups.values() for p in g} == {id(p) for p in model.parameters()}


def test_elbo_gradient_matches_finite_differences_in_a0():
    """A small end-to-end check that the pass is differentiable where the schedule needs it."""
    model = tiny_model(seed=6).double()
    a = torch.randn(1, 6, 2, dtype=torch.float64)
    mask = torch.tensor([[1, 1, 0, 0, 1, 1]], dtype=torch.float64)

    def f(a0):
        with torch.no_grad():
            model.a0.copy_(a0)
        kp = model.kalman_pass(a, mask)
        return kp.smoothed_mean.sum() + kp.smoothed_cov.diagonal(dim1=-2, dim2=-1).sum()

    a0 = model.a0.detach().clone()
    value = f(a0)
    value.backward()
    grad = model.a0.grad.clone()
    h = 1e-6
    for i in range(2):
        e = torch.zeros(2, dtype=torch.float64)
        e[i] = h
        with torch.no_grad():
            fd = (f(a0 + e) - f(a0 - e)) / (2 * h)
        assert float(grad[i]) == pytest.approx(float(fd), rel=1e-5, abs=1e-7)
    assert math.isfinite(float(value))

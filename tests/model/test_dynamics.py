"""model.dynamics: joint posterior samples (FFBS) against the exact joint Gaussian, the
regime weights and alpha maps against the dynamics network run directly, errors over time
against model.evaluation's figures, the regime flow against a plain loop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from model import dynamics, lgssm, metrics
from model.config import KVAEConfig
from model.data import load_sequences
from model.evaluation import imputation_metrics
from model.imputation import Imputation, impute
from model.kvae import KVAE
from model.masks import planning_mask, random_mask

ORIGINAL_BOX = Path(__file__).resolve().parents[1] / "data" / "original-box.npz"
DZ, DA, T = 3, 2, 5


# FFBS against the joint Gaussian.


def small_lgssm(seed: int = 3) -> dict:
    """A tiny time-varying LGSSM in float64 with control offsets and a missing step."""
    rng = np.random.default_rng(seed)
    A = np.eye(DZ) + 0.25 * rng.standard_normal((T, DZ, DZ))
    C = rng.standard_normal((T, DA, DZ))
    Q = 0.05 * np.eye(DZ) + 0.02 * np.ones((DZ, DZ))
    R = np.array([[0.3, 0.05], [0.05, 0.2]])
    mu0 = rng.standard_normal(DZ)
    Sigma0 = 1.5 * np.eye(DZ) + 0.2 * np.ones((DZ, DZ))
    offsets = 0.3 * rng.standard_normal((T, DZ))
    offsets[0] = 0.0  # z_1 has no offset (A[0] and offsets[0] are unused)
    a = rng.standard_normal((T, DA))
    mask = np.ones(T)
    mask[2] = 0.0
    return dict(A=A, C=C, Q=Q, R=R, mu0=mu0, Sigma0=Sigma0, offsets=offsets, a=a, mask=mask)


def exact_joint(p: dict) -> tuple[np.ndarray, np.ndarray]:
    """Mean (T*dz,) and covariance (T*dz, T*dz) of p(z_1..z_T | observed a), built without
    model.lgssm: z = G w + g with w = (z_1 - mu0, eps_2, ..., eps_T) ~ N(0, blockdiag(Sigma0,
    Q, ..., Q)), G's block (t, s) = A_t ... A_{s+1}; then the observed a_t = C_t z_t + delta
    stacked as a = H z + delta, and the Gaussian conditioned on them with one linear solve."""
    A, C, Q, R = p["A"], p["C"], p["Q"], p["R"]
    n = T * DZ
    blk = lambda t: slice(t * DZ, (t + 1) * DZ)  # noqa: E731
    G = np.zeros((n, n))
    g = np.zeros(n)
    W = np.zeros((n, n))
    W[blk(0), blk(0)] = p["Sigma0"]
    g[blk(0)] = p["mu0"]
    for t in range(1, T):
        W[blk(t), blk(t)] = Q
        g[blk(t)] = A[t] @ g[blk(t - 1)] + p["offsets"][t]
    for t in range(T):
        G[blk(t), blk(t)] = np.eye(DZ)
        for s in range(t - 1, -1, -1):
            G[blk(t), blk(s)] = A[t] @ G[blk(t - 1), blk(s)]
    prior = G @ W @ G.T
    seen = [t for t in range(T) if p["mask"][t]]
    H = np.zeros((len(seen) * DA, n))
    for row, t in enumerate(seen):
        H[row * DA : (row + 1) * DA, blk(t)] = C[t]
    a = np.concatenate([p["a"][t] for t in seen])
    S = H @ prior @ H.T + np.kron(np.eye(len(seen)), R)
    gain_t = np.linalg.solve(S, H @ prior)  # K^T
    mean = g + gain_t.T @ (a - H @ g)
    cov = prior - (H @ prior).T @ gain_t
    return mean, 0.5 * (cov + cov.T)


def filtered_of(p: dict) -> tuple[lgssm.FilteredPosterior, torch.Tensor, lgssm.StateSpace]:
    t = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    ssm = lgssm.StateSpace(
        t(p["A"])[None], t(p["C"])[None], t(p["Q"]), t(p["R"]), t(p["mu0"]), t(p["Sigma0"]),
        t(p["offsets"])[None],
    )  # fmt: skip
    filtered = lgssm.kalman_filter(t(p["a"])[None], t(p["mask"])[None], ssm)
    return filtered, ssm.A, ssm


def test_the_smoother_matches_the_exact_marginals():
    p = small_lgssm()
    mean, cov = exact_joint(p)
    filtered, A, _ = filtered_of(p)
    sm, sc = lgssm.rts_smooth(filtered, A)
    np.testing.assert_allclose(sm[0].numpy().ravel(), mean, atol=1e-8)
    for t in range(T):
        block = slice(t * DZ, (t + 1) * DZ)
        np.testing.assert_allclose(sc[0, t].numpy(), cov[block, block], atol=1e-8)


SAMPLES = 20_000


def test_ffbs_draws_whole_trajectories_from_the_joint_posterior():
    """Sample means, per-step covariances and the covariances between steps t and t+1,
    t and t+2 of 20000 FFBS draws against the exact joint posterior.

    Tolerances from the Monte Carlo error: with S independent Gaussian draws the sample mean
    of component i has standard error sqrt(Sigma_ii / S), and a sample covariance entry
    Sigma_ij has variance (Sigma_ii Sigma_jj + Sigma_ij^2) / S (Isserlis). Each entry may
    be off by 5 of its standard errors: over the ~130 entries checked a correct sampler
    fails with probability ~1e-4 (and the seed is fixed, so the test is deterministic).
    The cross-covariances are tens of standard errors away from 0, so independent draws
    from the smoothed marginals (which get every per-step moment right) fail them.
    """
    p = small_lgssm()
    mean, cov = exact_joint(p)
    filtered, A, _ = filtered_of(p)
    gen = torch.Generator().manual_seed(0)
    z = dynamics.ffbs(filtered, A, SAMPLES, gen)
    assert z.shape == (SAMPLES, 1, T, DZ) and z.dtype == torch.float64
    flat = z[:, 0].reshape(SAMPLES, T * DZ).numpy()
    sd = np.sqrt(np.diag(cov))
    assert np.all(np.abs(flat.mean(0) - mean) <= 5 * sd / np.sqrt(SAMPLES))
    sample_cov = np.cov(flat, rowvar=False)
    se = np.sqrt((np.outer(sd**2, sd**2) + cov**2) / SAMPLES)
    checked = 0
    for t in range(T):
        for lag in (0, 1, 2):
            if t + lag >= T:
                continue
            rows, cols = slice(t * DZ, (t + 1) * DZ), slice((t + lag) * DZ, (t + lag + 1) * DZ)
            err = np.abs(sample_cov[rows, cols] - cov[rows, cols])
            assert np.all(err <= 5 * se[rows, cols]), (t, lag, err / se[rows, cols])
            checked += 1
    assert checked == T + (T - 1) + (T - 2)
    # the lag-1 covariances are far from 0: draws that ignore them could not pass
    lag1 = cov[0:DZ, DZ : 2 * DZ]
    assert np.abs(lag1).max() > 20 * se[0:DZ, DZ : 2 * DZ].max()


def test_ffbs_with_q_and_offsets_recomputes_the_same_predictions():
    p = small_lgssm()
    filtered, A, ssm = filtered_of(p)
    one = dynamics.ffbs(filtered, A, 50, torch.Generator().manual_seed(5))
    two = dynamics.ffbs(filtered, A, 50, torch.Generator().manual_seed(5), ssm.offsets, ssm.Q)
    torch.testing.assert_close(one, two, rtol=1e-9, atol=1e-9)
    # without the offsets the recomputed predictions differ: the argument is used
    three = dynamics.ffbs(filtered, A, 50, torch.Generator().manual_seed(5), None, ssm.Q)
    assert (three - one).abs().max() > 1e-3


def test_ffbs_float32_survives_a_nearly_singular_covariance():
    """A filtered covariance that float32 rounding leaves slightly indefinite: the jitter
    fallback still gives finite samples."""
    cov = torch.tensor([[1.0, 1.0], [1.0, 1.0 - 1e-8]], dtype=torch.float32)
    root = dynamics._cholesky(cov[None])
    assert torch.isfinite(root).all()
    torch.testing.assert_close(root[0] @ root[0].T, cov, atol=1e-5, rtol=0)


# Regime weights and alpha maps.


def small_model(**settings) -> KVAE:
    torch.manual_seed(0)
    config = KVAEConfig(frame_size=16, filters=(8, 8), alpha_units=8, K=3, dim_z=4, **settings)
    model = KVAE(config).eval()
    with torch.no_grad():  # a0 away from 0, so that a shifted input would show
        model.a0.copy_(torch.randn(config.dim_a))
    return model


def test_regime_weights_are_the_kalman_pass_weights():
    """The same network call on the same inputs: equal to float32 rounding (1e-6)."""
    model = small_model()
    codes = torch.randn(4, 9, 2)
    expected = model.kalman_pass(codes, torch.ones(4, 9)).alpha.detach()
    got = dynamics.regime_weights(model, codes)
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)


def test_alpha_grid_of_an_mlp_is_the_network_on_the_grid():
    """dim_a = 3: the grid points sit at 0 in the third dimension."""
    model = small_model(alpha_rnn=False, fifo_size=1, dim_a=3)
    net = model.alpha_net
    xs, ys = torch.linspace(-3, 2, 6), torch.linspace(-1, 4, 4)
    got = dynamics.alpha_grid(model, xs, ys)
    assert got.shape == (3, 4, 6)
    with torch.no_grad():
        for i, y in enumerate(ys):
            for j, x in enumerate(xs):
                point = torch.stack([x, y, torch.tensor(0.0)])
                want = torch.softmax(net.alpha_head(net.mlp(point)), -1)
                torch.testing.assert_close(got[:, i, j], want, atol=1e-6, rtol=0)
    # an MLP fed one code forgets the history
    history = torch.randn(5, 3)
    torch.testing.assert_close(dynamics.alpha_grid(model, xs, ys, history), got)


@pytest.mark.parametrize("settings", [{}, {"alpha_rnn": False, "fifo_size": 3}])
def test_alpha_grid_with_a_history_is_the_network_run_on_it(settings):
    """LSTM and MLP over a FIFO: the map at each point is the last step of `sequence` on
    history + [point]; without history, of `sequence` on [point] alone."""
    model = small_model(**settings)
    xs, ys = torch.linspace(-2, 2, 5), torch.linspace(-1, 1, 3)
    history = torch.randn(6, 2)
    for hist in (history, None):
        got = dynamics.alpha_grid(model, xs, ys, hist)
        with torch.no_grad():
            for i, y in enumerate(ys):
                for j, x in enumerate(xs):
                    point = torch.stack([x, y])[None]
                    inputs = point if hist is None else torch.cat([hist, point])
                    want = model.alpha_net.sequence(inputs[None])[0][0, -1]
                    torch.testing.assert_close(got[:, i, j], want, atol=1e-6, rtol=0)


def test_history_at_a_step_puts_the_grid_point_in_place_of_the_previous_code():
    """At step s, the grid point equal to code s-1 gives alpha of frame s."""
    model = small_model()
    codes = torch.randn(8, 2)
    alpha = dynamics.regime_weights(model, codes[None])[0]
    for step in (1, 4, 7):
        c = codes[step - 1]
        got = dynamics.alpha_grid(model, c[:1], c[1:], dynamics.history_at(model, codes, step))
        torch.testing.assert_close(got[:, 0, 0], alpha[step], atol=1e-6, rtol=0)
    assert dynamics.history_at(model, codes, 0).shape == (0, 2)
    with pytest.raises(ValueError):
        dynamics.history_at(model, codes, 9)


# The regime flow.


def test_regime_flow_is_the_mean_displacement_per_cell():
    model = small_model()
    with torch.no_grad():
        model.A.add_(0.1 * torch.randn_like(model.A))
    gen = torch.Generator().manual_seed(1)
    z = torch.randn(300, 4, generator=gen)
    positions = 1.5 * torch.randn(300, 2, generator=gen)
    ex, ey = torch.linspace(-2, 2, 5), torch.linspace(-1.5, 1.5, 4)
    flow, counts = dynamics.regime_flow(model, z, positions, ex, ey)
    assert flow.shape == (3, 3, 4, 2) and counts.shape == (3, 4)
    hist, _, _ = np.histogram2d(positions[:, 1].numpy(), positions[:, 0].numpy(),
                                bins=(ey.numpy(), ex.numpy()))  # fmt: skip
    np.testing.assert_array_equal(counts.numpy(), hist)
    A, C = model.A.detach().numpy(), model.C.detach().numpy()
    pos = positions.numpy()
    for i in range(3):
        for j in range(4):
            inside = (
                (pos[:, 0] >= ex[j].item()) & (pos[:, 0] <= ex[j + 1].item())
                & (pos[:, 1] >= ey[i].item()) & (pos[:, 1] <= ey[i + 1].item())
            )  # fmt: skip
            # (a point exactly on an inner edge would count twice here; none is)
            for k in range(3):
                if not inside.any():
                    assert torch.isnan(flow[k, i, j]).all()
                    continue
                zz = z.numpy()[inside]
                want = (C[k] @ A[k] @ zz.T - C[k] @ zz.T).T.mean(0)
                np.testing.assert_allclose(flow[k, i, j].numpy(), want, atol=1e-5)


# Errors over time.


def test_error_over_time_averages_to_the_evaluation_figures():
    """Every frame has as many pixels, so the mean over all hidden (sequence, step) cells of
    the per-frame Hamming distances is the pooled `metrics.hamming` of model.evaluation."""
    torch.manual_seed(0)
    model = KVAE(KVAEConfig(filters=(8, 8, 8), alpha_units=8, dim_z=3, K=2)).eval()
    images = load_sequences(ORIGINAL_BOX).images[:6]
    n, steps = images.shape[:2]
    for mask in (planning_mask(steps, 4, 12), random_mask(n, steps, 0.5, 4, seed=2)):
        errors = dynamics.error_over_time(model, images, mask, batch_size=4)
        assert errors["smoothed"].shape == (n, steps) and errors["baseline"].shape == (n,)
        hidden = np.broadcast_to(mask == 0, (n, steps))
        assert np.isnan(errors["smoothed"][~hidden]).all()
        assert np.isfinite(errors["smoothed"][hidden]).all()
        figures = imputation_metrics(model, images, mask)["hamming"]
        for kind, key in (("smoothed", "smoothing"), ("filtered", "filtering"),
                          ("generated", "generation")):  # fmt: skip
            assert np.nanmean(errors[kind]) == pytest.approx(figures[key], abs=1e-12), kind
        assert errors["baseline"].mean() == pytest.approx(figures["baseline"], abs=1e-12)
        assert errors["baseline"][0] == metrics.baseline_hamming(images[:1] > 0)


def test_rollout_starts_at_the_first_hidden_frame():
    assert dynamics.rollout_start(np.ones((2, 10)), 4) == 4
    mask = np.ones((2, 10))
    mask[1, 2] = 0
    assert dynamics.rollout_start(mask, 4) == 2
    mask[0, 0] = 0
    assert dynamics.rollout_start(mask, 4) == 1


# Posterior samples and roll-outs.


def test_posterior_samples_of_one_sequence():
    model = small_model()
    x = (torch.rand(1, 10, 16, 16, generator=torch.Generator().manual_seed(0)) > 0.9).float()
    mask = torch.tensor([1, 1, 1, 0, 0, 0, 1, 1, 1, 1.0])
    draws = dynamics.posterior_samples(model, x, mask, None, 16, torch.Generator().manual_seed(0))
    assert draws.z.shape == (16, 10, 4) and draws.frames.shape == (8, 10, 16, 16)
    imp = impute(model, x, mask[None])
    torch.testing.assert_close(draws.smoothed_mean, imp.z_smoothed_mean[0])
    torch.testing.assert_close(draws.smoothed_cov, imp.z_smoothed_cov[0])
    p = draws.object_probability
    assert p.shape == (10, 16, 16) and ((p >= 0) & (p <= 1)).all()
    # a painted frame goes through impute's Laplace path and still samples
    pixels = torch.ones(1, 10, 16, 16)
    pixels[0, 4, :8] = 0
    draws = dynamics.posterior_samples(model, x, None, pixels, 4, torch.Generator().manual_seed(0))
    assert draws.z.shape == (4, 10, 4) and torch.isfinite(draws.z).all()


def test_impute_hands_over_its_kalman_pass_beside_its_fields():
    """The pass is an attribute, not a field: code that walks the fields' tensors (as
    test_pixel_masks.assert_identical does) sees the same fields as before."""
    model = small_model()
    x = (torch.rand(2, 6, 16, 16, generator=torch.Generator().manual_seed(1)) > 0.9).float()
    imp = impute(model, x, torch.tensor([[1, 1, 0, 0, 1, 1.0]] * 2))
    assert "kalman" not in Imputation.__dataclass_fields__
    for name in Imputation.__dataclass_fields__:
        assert torch.equal(getattr(imp, name), getattr(imp, name))
    kp = imp.kalman
    torch.testing.assert_close(kp.smoothed_mean, imp.z_smoothed_mean)
    torch.testing.assert_close(kp.filtered.filtered_cov, imp.z_filtered_cov)
    assert not kp.A.is_inference() and not kp.filtered.predicted_mean.is_inference()


def test_imagination_is_seeded():
    model = small_model()
    images = (np.random.default_rng(0).random((3, 6, 16, 16)) > 0.9).astype(np.float32)
    one = dynamics.imagination(model, images, 3, 12, seed=4)
    two = dynamics.imagination(model, images, 3, 12, seed=4)
    assert one.mean_codes.shape == (3, 12, 2) and one.sampled_frames.shape == (3, 12, 16, 16)
    torch.testing.assert_close(one.sampled_codes, two.sampled_codes)
    assert (one.sampled_codes - one.mean_codes)[:, 3:].abs().max() > 0

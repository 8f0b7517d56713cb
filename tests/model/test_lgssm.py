"""model.lgssm against independent implementations (pykalman, filterpy, the joint Gaussian)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from filterpy.kalman import KalmanFilter as FilterpyKF
from kvae_reference import joint_posterior
from pykalman import standard as pk

from model import lgssm

DZ, DA = 3, 2


def random_problem(batch=3, steps=12, seed=0, per_step_R=False, with_offsets=False):
    """Random time-varying A_t, C_t (float64), missing steps (not the first), B > 1."""
    rng = np.random.default_rng(seed)
    A = np.eye(DZ) + 0.3 * rng.standard_normal((batch, steps, DZ, DZ))
    C = rng.standard_normal((batch, steps, DA, DZ))
    Lq = 0.3 * rng.standard_normal((DZ, DZ))
    Q = Lq @ Lq.T + 0.05 * np.eye(DZ)
    R = np.array([[0.2, 0.05], [0.05, 0.1]])
    if per_step_R:
        L = 0.4 * rng.standard_normal((batch, steps, DA, DA))
        R = L @ L.transpose(0, 1, 3, 2) + 0.05 * np.eye(DA)
    mu0 = rng.standard_normal(DZ)
    Sigma0 = 2.0 * np.eye(DZ) + 0.3 * np.ones((DZ, DZ))
    a = rng.standard_normal((batch, steps, DA))
    mask = (rng.random((batch, steps)) > 0.35).astype(np.float64)
    mask[:, 0] = 1
    mask[0, 4:7] = 0  # a gap of three
    offsets = 0.3 * rng.standard_normal((batch, steps, DZ)) if with_offsets else None
    return dict(a=a, mask=mask, A=A, C=C, Q=Q, R=R, mu0=mu0, Sigma0=Sigma0, offsets=offsets)


def ours(p, dtype=torch.float64):
    t = lambda v: None if v is None else torch.tensor(v, dtype=dtype)  # noqa: E731
    names = ("A", "C", "Q", "R", "mu0", "Sigma0", "offsets")
    ssm = lgssm.StateSpace(*(t(p[name]) for name in names))
    return lgssm.kalman_smooth(t(p["a"]), t(p["mask"]), ssm)


def pykalman_reference(p, b):
    """pykalman's own filter and RTS smoother, time-varying, missing steps as masked rows."""
    steps = p["a"].shape[1]
    obs = np.ma.masked_array(p["a"][b], mask=np.repeat(p["mask"][b][:, None] == 0, DA, 1))
    R = p["R"][b] if p["R"].ndim == 4 else p["R"]
    offsets = np.zeros((steps - 1, DZ)) if p["offsets"] is None else p["offsets"][b, 1:]
    pm, pc, _, fm, fc = pk._filter(
        p["A"][b, 1:], p["C"][b], p["Q"], R, offsets, np.zeros(DA), p["mu0"], p["Sigma0"], obs
    )
    sm, sc, _ = pk._smooth(p["A"][b, 1:], fm, fc, pm, pc)
    return pm, pc, fm, fc, sm, sc


def rel_err(x, ref):
    """Largest error per (b, t) block, relative to that block's size."""
    x, ref = np.asarray(x, np.float64), np.asarray(ref, np.float64)
    axes = tuple(range(2, x.ndim)) if x.ndim > 2 else (-1,)
    num = np.sqrt(((x - ref) ** 2).sum(axes))
    den = np.sqrt((ref**2).sum(axes))
    return float((num / np.maximum(den, 1e-300)).max())


def stacked(results):
    return [np.stack(parts) for parts in zip(*results, strict=True)]


@pytest.mark.parametrize(
    "dtype, tol", [(torch.float64, 1e-7), (torch.float32, 1e-3)], ids=["float64", "float32"]
)
@pytest.mark.parametrize("variant", ["plain", "per_step_R+offsets"])
def test_smoother_and_filter_match_pykalman(dtype, tol, variant):
    p = random_problem(per_step_R=variant != "plain", with_offsets=variant != "plain")
    res = ours(p, dtype)
    pm, pc, fm, fc, sm, sc = stacked(pykalman_reference(p, b) for b in range(len(p["a"])))
    f = res.filtered
    for name, x, ref in [
        ("predicted mean", f.predicted_mean, pm),
        ("predicted cov", f.predicted_cov, pc),
        ("filtered mean", f.filtered_mean, fm),
        ("filtered cov", f.filtered_cov, fc),
        ("smoothed mean", res.smoothed_mean, sm),
        ("smoothed cov", res.smoothed_cov, sc),
    ]:
        assert x.dtype == dtype
        assert rel_err(x.double(), ref) < tol, name


def test_smoother_matches_the_joint_gaussian():
    """A third, brute-force reference: smoothed and filtered marginals of the joint Gaussian."""
    p = random_problem(seed=3, per_step_R=True, with_offsets=True)
    res = ours(p)
    for b in range(len(p["a"])):
        R = p["R"][b]
        args = (p["A"][b], p["C"][b], p["Q"], R, p["mu0"], p["Sigma0"], p["a"][b], p["mask"][b])
        sm, sc = joint_posterior(*args, offsets=p["offsets"][b])
        assert rel_err(res.smoothed_mean[b : b + 1].numpy(), sm[None]) < 1e-8
        assert rel_err(res.smoothed_cov[b : b + 1].numpy(), sc[None]) < 1e-8
        for t in (0, 5, len(p["a"][b]) - 1):
            fm, fc = joint_posterior(*args, offsets=p["offsets"][b], upto=t)
            np.testing.assert_allclose(
                res.filtered.filtered_mean[b, t].numpy(), fm[t], rtol=1e-8, atol=1e-10
            )
            np.testing.assert_allclose(
                res.filtered.filtered_cov[b, t].numpy(), fc[t], rtol=1e-8, atol=1e-10
            )


def test_filter_matches_filterpy_step_by_step():
    """filterpy (Joseph-form update, z=None for a missing step) with per-step F, H, R, B u."""
    p = random_problem(seed=5, per_step_R=True, with_offsets=True)
    res = ours(p)
    for b in range(len(p["a"])):
        kf = FilterpyKF(dim_x=DZ, dim_z=DA, dim_u=DZ)
        kf.x, kf.P, kf.Q = p["mu0"].copy(), p["Sigma0"].copy(), p["Q"]
        for t in range(p["a"].shape[1]):
            if t > 0:
                kf.predict(u=p["offsets"][b, t], B=np.eye(DZ), F=p["A"][b, t])
            z = p["a"][b, t] if p["mask"][b, t] else None
            kf.update(z, R=p["R"][b, t], H=p["C"][b, t])
            np.testing.assert_allclose(
                res.filtered.filtered_mean[b, t].numpy(), kf.x, rtol=1e-8, atol=1e-10
            )
            np.testing.assert_allclose(
                res.filtered.filtered_cov[b, t].numpy(), kf.P, rtol=1e-8, atol=1e-10
            )


def test_missing_step_keeps_the_prediction():
    p = random_problem(seed=1)
    f = ours(p).filtered
    missing = p["mask"] == 0
    assert missing.any()
    assert torch.equal(f.filtered_mean[missing], f.predicted_mean[missing])
    np.testing.assert_allclose(
        f.filtered_cov[missing], f.predicted_cov[missing], rtol=1e-12, atol=1e-12
    )


def test_a_filtered_prefix_is_taken_as_given_and_the_rest_is_filtered_after_it():
    p = random_problem(seed=2, per_step_R=True, with_offsets=True)
    t = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    names = ("A", "C", "Q", "R", "mu0", "Sigma0", "offsets")
    ssm = lgssm.StateSpace(*(t(p[name]) for name in names))
    a, mask = t(p["a"]), t(p["mask"])
    whole = lgssm.kalman_filter(a, mask, ssm)
    for first in (1, 5, a.shape[1]):
        prefix = lgssm.FilteredPosterior(*(q[:, :first] for q in whole))
        again = lgssm.kalman_filter(a, mask, ssm, prefix)
        for got, want in zip(again, whole, strict=True):
            assert torch.equal(got, want)
    # the prefix is used, not recomputed: a different last filtered mean moves what follows
    prefix = lgssm.FilteredPosterior(*(q[:, :5].clone() for q in whole))
    prefix.filtered_mean[:, -1] += 1.0
    moved = lgssm.kalman_filter(a, mask, ssm, prefix)
    assert torch.equal(moved.filtered_mean[:, :4], whole.filtered_mean[:, :4])
    assert not torch.allclose(moved.predicted_mean[:, 5], whole.predicted_mean[:, 5])


def test_covariances_stay_symmetric_positive_definite_in_float32():
    """A long, sharply observed sequence: the Joseph form keeps every covariance SPD."""
    rng = np.random.default_rng(7)
    batch, steps = 4, 300
    theta = 0.1
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    A = np.zeros((batch, steps, 4, 4))
    A[..., :2, :2] = rot
    A[..., :2, 2:] = 0.2 * np.eye(2)
    A[..., 2:, 2:] = np.eye(2)
    C = np.broadcast_to(np.hstack([np.eye(2), np.zeros((2, 2))]), (batch, steps, 2, 4)).copy()
    C += 0.01 * rng.standard_normal(C.shape)
    mask = (rng.random((batch, steps)) > 0.2).astype(np.float32)
    f32 = lambda v: torch.tensor(v, dtype=torch.float32)  # noqa: E731
    res = lgssm.kalman_smooth(
        f32(rng.standard_normal((batch, steps, 2))),
        f32(mask),
        lgssm.StateSpace(
            f32(A),
            f32(C),
            1e-3 * torch.eye(4),
            1e-4 * torch.eye(2),
            torch.zeros(4),
            20.0 * torch.eye(4),
        ),
    )
    for cov in (res.filtered.predicted_cov, res.filtered.filtered_cov, res.smoothed_cov):
        assert torch.isfinite(cov).all()
        assert torch.equal(cov, cov.transpose(-1, -2))
        assert torch.linalg.eigvalsh(cov.double()).min() > 0
        torch.linalg.cholesky(cov)  # raises if not PD in float32


def test_time_invariant_matrices_may_be_given_once():
    """R may be one (da, da) matrix or one per step; the two spellings agree."""
    p = random_problem(seed=2)
    res = ours(p)
    p2 = dict(p, R=np.broadcast_to(p["R"], (*p["a"].shape[:2], DA, DA)).copy())
    res2 = ours(p2)
    torch.testing.assert_close(res.smoothed_mean, res2.smoothed_mean, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(res.smoothed_cov, res2.smoothed_cov, rtol=1e-12, atol=1e-12)


def test_single_step_and_observation_marginals():
    p = random_problem(steps=1, seed=4)
    res = ours(p)
    torch.testing.assert_close(res.smoothed_mean, res.filtered.filtered_mean)
    C = torch.tensor(p["C"])
    mean, cov = lgssm.observation_marginals(
        res.smoothed_mean, res.smoothed_cov, C, torch.tensor(p["R"])
    )
    expect = C @ res.smoothed_cov @ C.transpose(-1, -2) + torch.tensor(p["R"])
    torch.testing.assert_close(cov, expect)
    torch.testing.assert_close(mean, (C @ res.smoothed_mean.unsqueeze(-1)).squeeze(-1))

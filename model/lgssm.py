"""Exact inference in a linear Gaussian state space model with missing observations.

Pure, batched functions over explicit (B, T, ...) tensors, in the spirit of
dynamax: the KVAE interleaves its own dynamics network with `predict` and
`update`, and `kalman_smooth` runs the same steps for fixed matrices.

Conventions (kvae-model.md, section 5):
    z_1 ~ N(mu0, Sigma0),   z_t = A_t z_{t-1} + b_t + eps,  eps ~ N(0, Q),
    a_t = C_t z_t + delta,  delta ~ N(0, R_t),
so A[:, t] maps z_{t-1} to z_t and A[:, 0] is unused. A step with mask 0 keeps
its prediction: the gain is forced to zero. Covariances are updated in Joseph
form and symmetrised, and every inverse is a solve, so float32 stays SPD.

Speed: at the interactive sizes (one sequence of 20 to 200 steps, 4 x 4 states)
every step costs a few dozen tiny kernels, so the time is per-kernel overhead,
not arithmetic. The loops therefore keep means as (B, n, 1) columns, fuse each
product with the sum that follows it (baddbmm), split stacked tensors once with
unbind instead of indexing them per step, and skip the update of a step that no
sequence observes (zero gain: the Joseph form returns the prediction exactly).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor


class FilteredPosterior(NamedTuple):
    """Predicted p(z_t | a_{<t}) and filtered p(z_t | a_{<=t}) marginals, each (B, T, ...)."""

    predicted_mean: Tensor
    predicted_cov: Tensor
    filtered_mean: Tensor
    filtered_cov: Tensor


class StateSpace(NamedTuple):
    """The model's parameters for a batch of sequences (conventions above).

    A (B, T, dz, dz); C (B, T, da, dz); Q (dz, dz); R (da, da) or per step (B, T, da, da);
    mu0 (dz,); Sigma0 (dz, dz); offsets (B, T, dz), the control term B_t u_t, or None.
    """

    A: Tensor
    C: Tensor
    Q: Tensor
    R: Tensor
    mu0: Tensor
    Sigma0: Tensor
    offsets: Tensor | None = None


class SmoothedPosterior(NamedTuple):
    """Smoothed marginals p(z_t | a_{1:T}): means (B, T, dz), covariances (B, T, dz, dz)."""

    smoothed_mean: Tensor
    smoothed_cov: Tensor
    filtered: FilteredPosterior


def symmetrise(m: Tensor) -> Tensor:
    return 0.5 * (m + m.transpose(-1, -2))


def _sym_plus(m: Tensor, extra: Tensor) -> Tensor:
    """extra + (m + m^T) / 2 in two kernels (the halving is exact in binary floating point)."""
    return torch.add(extra, m + m.transpose(-1, -2), alpha=0.5)


def predict(
    mean: Tensor, cov: Tensor, A: Tensor, Q: Tensor, offset: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """One time update: mu' = A mu + b, Sigma' = A Sigma A^T + Q."""
    col = mean.unsqueeze(-1)
    new_mean, new_cov = predict_column(
        col, cov, A, Q, None if offset is None else offset.unsqueeze(-1)
    )
    return new_mean.squeeze(-1), new_cov


def update(
    mean: Tensor, cov: Tensor, a: Tensor, observed: Tensor, C: Tensor, R: Tensor
) -> tuple[Tensor, Tensor]:
    """One measurement update with a per-sequence observed flag (B,) in {0, 1}.

    K = m Sigma C^T S^{-1} with S = C Sigma C^T + R, then the Joseph form
    (I - KC) Sigma (I - KC)^T + K R K^T, which is exact for any gain and so
    also for the zero gain of a missing step.
    """
    gate = observed.to(cov.dtype)[:, None, None]
    new_mean, new_cov = update_column(
        mean.unsqueeze(-1), cov, a.unsqueeze(-1), C, R, eye_like(cov), gate
    )
    return new_mean.squeeze(-1), new_cov


def predict_column(col: Tensor, cov: Tensor, A: Tensor, Q: Tensor, offset: Tensor | None):
    """predict() on a (..., dz, 1) column mean; offset, if any, also a column."""
    new_mean = A @ col if offset is None else _addmm(offset, A, col)
    new_cov = _sym_plus(A @ cov @ A.transpose(-1, -2), Q)
    return new_mean, new_cov


def update_column(col: Tensor, cov: Tensor, a_col: Tensor, C: Tensor, R: Tensor, eye: Tensor, gate):
    """update() on column vectors; gate (B, 1, 1) in {0, 1}, or None when all observe."""
    cov_ct = cov @ C.transpose(-1, -2)  # (B, dz, da)
    S = _addmm(R, C, cov_ct)
    gain_t = torch.linalg.solve(S, cov_ct.transpose(-1, -2))  # K^T = S^{-1} C Sigma
    if gate is not None:
        gain_t = gain_t * gate
    gain = gain_t.transpose(-1, -2)
    residual = _addmm(a_col, C, col, alpha=-1.0)
    new_col = _addmm(col, gain, residual)
    i_kc = _addmm(eye, gain, C, alpha=-1.0)
    joseph = _addmm(gain @ R @ gain_t, i_kc @ cov, i_kc.transpose(-1, -2))
    return new_col, symmetrise(joseph)


def _addmm(base: Tensor, m1: Tensor, m2: Tensor, alpha: float = 1.0) -> Tensor:
    """base + alpha m1 @ m2, one kernel for (B, n, k) @ (B, k, m) operands."""
    if m1.dim() == 3 and m2.dim() == 3 and base.dim() <= 3:
        return torch.baddbmm(base, m1, m2, alpha=alpha)
    return base + alpha * (m1 @ m2) if alpha != 1.0 else base + m1 @ m2


_EYES: dict = {}


def eye_like(m: Tensor) -> Tensor:
    """A cached identity of m's size, dtype and device (read-only: never written to)."""
    key = (m.shape[-1], m.dtype, m.device)
    eye = _EYES.get(key)
    if eye is None:
        with torch.inference_mode(False):  # a normal tensor, usable with autograd later
            eye = _EYES[key] = torch.eye(m.shape[-1], dtype=m.dtype, device=m.device)
    return eye


def step_flags(mask: Tensor) -> tuple[list[bool], list[bool]]:
    """Per step: does every sequence observe it (mask 1), does any (mask not 0)?

    One host transfer for all steps, so that the loops can skip work without a
    device synchronisation per step.
    """
    m = mask.detach().cpu()
    return (m == 1).all(0).tolist(), (m != 0).any(0).tolist()


def kalman_filter(
    a: Tensor, mask: Tensor, ssm: StateSpace, prefix: FilteredPosterior | None = None
) -> FilteredPosterior:
    """Forward pass for given matrices: a (B, T, da); mask (B, T), 1 = observed.

    prefix: the posterior of the first steps, already filtered by a pass whose inputs
    there were the same (codes, mask, matrices); the loop starts after them, so a
    second pass that differs only from some step on redoes only the rest.
    """
    A, C, Q, R, mu0, Sigma0, offsets = ssm
    batch, steps = a.shape[:2]
    every, some = step_flags(mask)
    gates = (mask.to(a.dtype)[:, :, None, None]).unbind(1)
    a_cols = a.unsqueeze(-1).unbind(1)
    As, Cs = A.unbind(1), C.unbind(1)
    Rs = R.unbind(1) if R.dim() == 4 else [R] * steps
    offs = [None] * steps if offsets is None else offsets.unsqueeze(-1).unbind(1)
    eye = eye_like(Sigma0)
    col = mu0.expand(batch, -1).unsqueeze(-1)
    cov = Sigma0.expand(batch, -1, -1)
    pm, pc, fm, fc = [], [], [], []
    first = 0
    if prefix is not None and prefix.filtered_mean.shape[1] > 0:
        first = prefix.filtered_mean.shape[1]
        pm = list(prefix.predicted_mean.unsqueeze(-1).unbind(1))
        pc = list(prefix.predicted_cov.unbind(1))
        fm = list(prefix.filtered_mean.unsqueeze(-1).unbind(1))
        fc = list(prefix.filtered_cov.unbind(1))
        col, cov = fm[-1], fc[-1]
    for t in range(first, steps):
        if t > 0:
            col, cov = predict_column(col, cov, As[t], Q, offs[t])
        pm.append(col)
        pc.append(cov)
        if some[t]:
            gate = None if every[t] else gates[t]
            col, cov = update_column(col, cov, a_cols[t], Cs[t], Rs[t], eye, gate)
        fm.append(col)
        fc.append(cov)
    return stack_posterior(pm, pc, fm, fc)


def stack_posterior(pm: list, pc: list, fm: list, fc: list) -> FilteredPosterior:
    """FilteredPosterior from per-step column means (B, dz, 1) and covariances."""
    return FilteredPosterior(
        torch.stack(pm, 1).squeeze(-1),
        torch.stack(pc, 1),
        torch.stack(fm, 1).squeeze(-1),
        torch.stack(fc, 1),
    )


def rts_smooth(filtered: FilteredPosterior, A: Tensor) -> tuple[Tensor, Tensor]:
    """Rauch-Tung-Striebel backward pass.

    The gains J_t = Sigma_{t|t} A_{t+1}^T Sigma_{t+1|t}^{-1} depend only on the
    forward pass, so they are computed for all t in one batched solve; the
    recursion that remains is a few matrix products per step.
    """
    pm, pc, fm, fc = filtered
    steps = fm.shape[1]
    if steps == 1:
        return fm, fc
    # J_t^T = Sigma_{t+1|t}^{-1} A_{t+1} Sigma_{t|t}   (both covariances symmetric)
    gains_t = torch.linalg.solve(pc[:, 1:], A[:, 1:] @ fc[:, :-1])
    gains, gains_t = gains_t.transpose(-1, -2).unbind(1), gains_t.unbind(1)
    pm_cols, fm_cols = pm.unsqueeze(-1).unbind(1), fm.unsqueeze(-1).unbind(1)
    pcs, fcs = pc.unbind(1), fc.unbind(1)
    col, cov = fm_cols[-1], fcs[-1]
    means, covs = [col], [cov]
    for t in range(steps - 2, -1, -1):
        J = gains[t]
        col = _addmm(fm_cols[t], J, col - pm_cols[t + 1])
        cov = symmetrise(_addmm(fcs[t], J @ (cov - pcs[t + 1]), gains_t[t]))
        means.append(col)
        covs.append(cov)
    means.reverse()
    covs.reverse()
    return torch.stack(means, 1).squeeze(-1), torch.stack(covs, 1)


def kalman_smooth(a: Tensor, mask: Tensor, ssm: StateSpace) -> SmoothedPosterior:
    """Smoothed means (B, T, dz) and covariances (B, T, dz, dz), then the filter's results.

    Arguments as for `kalman_filter`; A[:, 0] is unused.
    """
    filtered = kalman_filter(a, mask, ssm)
    mean, cov = rts_smooth(filtered, ssm.A)
    return SmoothedPosterior(mean, cov, filtered)


def observation_marginals(mean: Tensor, cov: Tensor, C: Tensor, R: Tensor) -> tuple[Tensor, Tensor]:
    """Marginal of a_t = C_t z_t + delta: mean C mu, covariance C Sigma C^T + R."""
    a_mean = (C @ mean.unsqueeze(-1)).squeeze(-1)
    a_cov = symmetrise(C @ cov @ C.transpose(-1, -2)) + R
    return a_mean, a_cov

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


class SmoothedPosterior(NamedTuple):
    """Smoothed marginals p(z_t | a_{1:T}): means (B, T, dz), covariances (B, T, dz, dz)."""

    smoothed_mean: Tensor
    smoothed_cov: Tensor
    filtered: FilteredPosterior


def symmetrise(m: Tensor) -> Tensor:
    return 0.5 * (m + m.transpose(-1, -2))


def predict(
    mean: Tensor, cov: Tensor, A: Tensor, Q: Tensor, offset: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """One time update: mu' = A mu + b, Sigma' = A Sigma A^T + Q."""
    new_mean = (A @ mean.unsqueeze(-1)).squeeze(-1)
    if offset is not None:
        new_mean = new_mean + offset
    new_cov = symmetrise(A @ cov @ A.transpose(-1, -2)) + Q
    return new_mean, new_cov


def update(
    mean: Tensor, cov: Tensor, a: Tensor, observed: Tensor, C: Tensor, R: Tensor
) -> tuple[Tensor, Tensor]:
    """One measurement update with a per-sequence observed flag (B,) in {0, 1}.

    K = m Sigma C^T S^{-1} with S = C Sigma C^T + R, then the Joseph form
    (I - KC) Sigma (I - KC)^T + K R K^T, which is exact for any gain and so
    also for the zero gain of a missing step.
    """
    cov_ct = cov @ C.transpose(-1, -2)  # (B, dz, da)
    S = C @ cov_ct + R
    gain = torch.linalg.solve(S, cov_ct.transpose(-1, -2)).transpose(-1, -2)
    gain = gain * observed.to(gain.dtype)[:, None, None]
    residual = a - (C @ mean.unsqueeze(-1)).squeeze(-1)
    new_mean = mean + (gain @ residual.unsqueeze(-1)).squeeze(-1)
    eye = torch.eye(cov.shape[-1], dtype=cov.dtype, device=cov.device)
    i_kc = eye - gain @ C
    new_cov = i_kc @ cov @ i_kc.transpose(-1, -2) + gain @ R @ gain.transpose(-1, -2)
    return new_mean, symmetrise(new_cov)


def _at(matrix: Tensor, t: int) -> Tensor:
    """Step t of a time-varying (B, T, n, m) tensor, or the tensor itself if fixed (n, m)."""
    return matrix[:, t] if matrix.dim() == 4 else matrix


def kalman_filter(
    a: Tensor,
    mask: Tensor,
    A: Tensor,
    C: Tensor,
    Q: Tensor,
    R: Tensor,
    mu0: Tensor,
    Sigma0: Tensor,
    offsets: Tensor | None = None,
) -> FilteredPosterior:
    """Forward pass for given matrices.

    a (B, T, da); mask (B, T), 1 = observed; A (B, T, dz, dz); C (B, T, da, dz);
    Q (dz, dz); R (da, da) or per step (B, T, da, da); mu0 (dz,); Sigma0 (dz, dz);
    offsets (B, T, dz) optional, the control term B_t u_t.
    """
    batch, steps = a.shape[:2]
    mean = mu0.expand(batch, -1)
    cov = Sigma0.expand(batch, -1, -1)
    pred_means, pred_covs, filt_means, filt_covs = [], [], [], []
    for t in range(steps):
        if t > 0:
            offset = None if offsets is None else offsets[:, t]
            mean, cov = predict(mean, cov, A[:, t], Q, offset)
        pred_means.append(mean)
        pred_covs.append(cov)
        mean, cov = update(mean, cov, a[:, t], mask[:, t], C[:, t], _at(R, t))
        filt_means.append(mean)
        filt_covs.append(cov)
    return FilteredPosterior(
        torch.stack(pred_means, 1),
        torch.stack(pred_covs, 1),
        torch.stack(filt_means, 1),
        torch.stack(filt_covs, 1),
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
    gains = torch.linalg.solve(pc[:, 1:], A[:, 1:] @ fc[:, :-1]).transpose(-1, -2)
    mean, cov = fm[:, -1], fc[:, -1]
    means, covs = [mean], [cov]
    for t in range(steps - 2, -1, -1):
        J = gains[:, t]
        mean = fm[:, t] + (J @ (mean - pm[:, t + 1]).unsqueeze(-1)).squeeze(-1)
        cov = symmetrise(fc[:, t] + J @ (cov - pc[:, t + 1]) @ J.transpose(-1, -2))
        means.append(mean)
        covs.append(cov)
    means.reverse()
    covs.reverse()
    return torch.stack(means, 1), torch.stack(covs, 1)


def kalman_smooth(
    a: Tensor,
    mask: Tensor,
    A: Tensor,
    C: Tensor,
    Q: Tensor,
    R: Tensor,
    mu0: Tensor,
    Sigma0: Tensor,
    offsets: Tensor | None = None,
) -> SmoothedPosterior:
    """Smoothed means (B, T, dz) and covariances (B, T, dz, dz), then the filter's results.

    Arguments as for `kalman_filter`; A[:, 0] is unused.
    """
    filtered = kalman_filter(a, mask, A, C, Q, R, mu0, Sigma0, offsets)
    mean, cov = rts_smooth(filtered, A)
    return SmoothedPosterior(mean, cov, filtered)


def observation_marginals(mean: Tensor, cov: Tensor, C: Tensor, R: Tensor) -> tuple[Tensor, Tensor]:
    """Marginal of a_t = C_t z_t + delta: mean C mu, covariance C Sigma C^T + R."""
    a_mean = (C @ mean.unsqueeze(-1)).squeeze(-1)
    a_cov = symmetrise(C @ cov @ C.transpose(-1, -2)) + R
    return a_mean, a_cov

"""The KVAE's evidence lower bound, term by term (kvae-model.md, section 6).

A pure function of tensors, so each term can be checked against a brute-force
computation. Every term is a sum over the batch divided by the number of
observed frames, as in the public release.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

from model.lgssm import StateSpace


class ELBOTerms(NamedTuple):
    """The six terms a user watches, and the two totals (all scalars)."""

    log_px: Tensor
    log_qa: Tensor
    transition: Tensor
    emission: Tensor
    initial: Tensor
    entropy: Tensor
    elbo_kf: Tensor
    elbo: Tensor

    def as_floats(self) -> dict[str, float]:
        return {name: float(value) for name, value in self._asdict().items()}


def gaussian_log_prob(x: Tensor, mean: Tensor, chol: Tensor) -> Tensor:
    """log N(x; mean, L L^T) over the last axis, with L lower-triangular."""
    diff = (x - mean).unsqueeze(-1)
    chol = chol.expand(*diff.shape[:-2], *chol.shape[-2:])
    white = torch.linalg.solve_triangular(chol, diff, upper=False).squeeze(-1)
    log_det = torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
    dim = x.shape[-1]
    return -0.5 * (white.square().sum(-1) + dim * math.log(2 * math.pi)) - log_det


def sample_smoothed_states(mean: Tensor, cov: Tensor, noise: Tensor) -> tuple[Tensor, Tensor]:
    """z_t = mu_{t|T} + L_t eps_t independently per t; returns z and the factors L_t."""
    dim = cov.shape[-1]
    jitter = 1e-6 * torch.eye(dim, dtype=cov.dtype, device=cov.device)
    chol = torch.linalg.cholesky(cov + jitter)
    return mean + (chol @ noise.unsqueeze(-1)).squeeze(-1), chol


def elbo_terms(
    log_px_frames: Tensor,
    log_qa_frames: Tensor,
    a: Tensor,
    mask: Tensor,
    smoothed_mean: Tensor,
    smoothed_cov: Tensor,
    ssm: StateSpace,
    noise: Tensor,
    scale_reconstruction: float = 1.0,
) -> ELBOTerms:
    """The ELBO with one sample of z per step from the smoothing marginals.

    log_px_frames, log_qa_frames (B, T): per-frame log p(x_t|a_t) and log q(a_t|x_t);
    a (B, T, da) the sampled codes; mask (B, T); ssm the state space model's parameters
    (R one matrix, not per step); noise (B, T, dz) standard normal.
    """
    A, C, Q, R, mu0, Sigma0, offsets = ssm
    mask = mask.to(a.dtype)
    n_obs = mask.sum().clamp_min(1.0)
    z, chol = sample_smoothed_states(smoothed_mean, smoothed_cov, noise)

    log_px = (log_px_frames * mask).sum() / n_obs
    log_qa = (log_qa_frames * mask).sum() / n_obs

    predicted = (A[:, 1:] @ z[:, :-1].unsqueeze(-1)).squeeze(-1)
    if offsets is not None:
        predicted = predicted + offsets[:, 1:]
    chol_q = torch.linalg.cholesky(Q)
    transition = gaussian_log_prob(z[:, 1:], predicted, chol_q).sum() / n_obs

    chol_r = torch.linalg.cholesky(R)
    emitted = (C @ z.unsqueeze(-1)).squeeze(-1)
    emission = (gaussian_log_prob(a, emitted, chol_r) * mask).sum() / n_obs

    initial = gaussian_log_prob(z[:, 0], mu0, torch.linalg.cholesky(Sigma0)).sum() / n_obs
    entropy = -gaussian_log_prob(z, smoothed_mean, chol).sum() / n_obs

    elbo_kf = transition + emission + initial + entropy
    elbo = scale_reconstruction * log_px + elbo_kf - log_qa
    return ELBOTerms(log_px, log_qa, transition, emission, initial, entropy, elbo_kf, elbo)

"""Partly hidden frames as Laplace pseudo-observations of a_t.

The encoder never saw occluders in training, so its code for a half-hidden ball
is unreliable. Instead, for such a frame we find the code that best explains
the visible pixels under the decoder, combined with the prior the other frames
give, p(a_t | rest) = N(m, P^{-1}):

    a* = argmax_a  log p(x_visible | a) - 1/2 (a - m)^T P (a - m)

by damped Gauss-Newton steps (Levenberg-Marquardt: a step is kept only if it
raises the objective, so more steps never give a worse answer), from the best code on
a table of the decoder (model.code_grid) where there is one. Around a*, the visible-pixel
likelihood is approximately Gaussian in a with precision H (the Gauss-Newton
curvature J^T W J) and mode y = a* + H^{-1} P (a* - m). Since a_t = C z_t + delta,
the frame then says about z_t what an observation y with noise R + H^{-1}
says, which is what the filter is given. Nothing visible near the object
gives H ~ 0 and a huge noise: the frame becomes, smoothly, a missing one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.func import jacfwd, vmap

from model.code_grid import code_grid, grid_start

RIDGE = 1e-4  # keeps H invertible when the visible pixels say nothing about a
MAX_DAMPING = 10.0  # a row whose steps were refused this often stops where it is
NEWTON_STEPS = 8  # the most steps per start; most frames stop after one or two
GAIN_TOLERANCE = 0.02  # nats: a step that promises less than this is not taken
SMALL_REFUSAL = 0.1  # nats: a refused step that promised less than this ends its row
# (the quadratic model is then wrong by more than is left to gain). With it the tolerance
# and the damping could tighten (from 0.05 and 1.0) without flat likelihoods, such as an
# untrained decoder's, spending a refused step per damping level on every stroke.


def _decoder_logits_and_jacobian(model, a: Tensor) -> tuple[Tensor, Tensor]:
    """Decoder outputs (N, P) and their derivatives along each axis of a, (N, da, P).

    The studio's decoder differentiates itself in one stacked forward pass
    (`Decoder.forward_with_jacobian`); any other decoder module goes through
    torch.func's forward mode.
    """
    n = a.shape[0]
    decoder = model.decoder
    if hasattr(decoder, "forward_with_jacobian"):
        out, jac = decoder.forward_with_jacobian(a)
        return out.reshape(n, -1), jac.reshape(jac.shape[0], n, -1).transpose(0, 1)

    def single(code: Tensor) -> Tensor:
        return decoder(code.unsqueeze(0)).flatten()

    out = decoder(a).flatten(1)
    jac = vmap(jacfwd(single))(a)  # (N, P, da)
    return out, jac.transpose(1, 2)


def _likelihood_grad_and_weights(model, out: Tensor, x: Tensor, vis: Tensor):
    """Gradient of the visible pixels' log-likelihood in the outputs, and the GN weights."""
    if model.config.output == "bernoulli":
        p = torch.sigmoid(out)
        return (x - p) * vis, p * (1 - p) * vis
    var = model.config.noise_pixel_var
    return (x - out) / var * vis, vis / var


def _likelihood(model, out: Tensor, x: Tensor, vis: Tensor) -> Tensor:
    """Log-likelihood of the visible pixels, up to a constant, per row."""
    if model.config.output == "bernoulli":
        ll = -torch.nn.functional.binary_cross_entropy_with_logits(out, x, reduction="none")
    else:
        ll = -0.5 * (x - out).square() / model.config.noise_pixel_var
    return (ll * vis).sum(-1)


@dataclass(frozen=True)
class Decoded:
    """Codes (N, da) with the decoder's outputs (N, P) and Jacobians (N, da, P) there:
    what a Newton step needs of the decoder, which does not depend on the visible pixels,
    so a later stroke on the same frame can start from it without a decoder pass."""

    codes: Tensor
    out: Tensor
    jac: Tensor


@dataclass(frozen=True)
class LaplaceEstimate:
    a_star: Tensor  # (N, da)
    pseudo: Tensor  # (N, da) the pseudo-observation y
    pseudo_cov: Tensor  # (N, da, da) R + H^{-1}
    decoded: Decoded  # at a*


def laplace_estimates(
    model,
    frames: Tensor,
    visible: Tensor,
    prior_mean: Tensor,
    prior_cov: Tensor,
    init: Tensor | Callable[[], Tensor],
    steps: int = NEWTON_STEPS,
    warm: Decoded | None = None,
) -> LaplaceEstimate:
    """The Laplace estimate of each of N partly hidden frames: a*, the pseudo-observation
    y and its covariance R + H^{-1}, and the decoder at a*.

    frames, visible (N, H, W); prior_mean (N, da); prior_cov (N, da, da); init (N, da),
    a second starting point beside the prior mean (the encoder's code), since the
    likelihood of a small object is multimodal; the better posterior wins. Where the
    decoder is tabulated (dim_a <= 3) the grid's best code is the start, and the prior
    mean and init are added only where they lie outside the grid; init may be a function
    that makes it, called only when the grid does not cover every prior mean.
    steps: the most Newton steps per start; a start stops earlier once converged.
    warm: where its codes are finite, the only start of that frame (the answer to a
    nearby question, e.g. the last stroke on the frame): no search, no decoder pass.
    """
    n, da = prior_mean.shape
    x = frames.flatten(1)
    vis = visible.flatten(1)
    eye = torch.eye(da, device=frames.device, dtype=prior_mean.dtype)
    # eye given as a batch of matrices: a bare (da, da) right-hand side is read as a
    # batch of da vectors when there are exactly da frames (N == da)
    precision = torch.linalg.solve(prior_cov, eye.expand(n, da, da))

    frame_of = torch.arange(n, device=frames.device)
    warmed = (
        torch.zeros(n, dtype=torch.bool, device=frames.device)
        if warm is None
        else warm.codes.isfinite().all(-1)
    )
    cold = frame_of[~warmed]
    grid = code_grid(model) if len(cold) else None
    if len(cold) == 0:
        starts, owners = prior_mean[:0], cold
    elif grid is None:
        init = init() if callable(init) else init
        starts, owners = torch.cat([prior_mean[cold], init[cold]]), cold.repeat(2)
    else:
        found = grid_start(model, grid, x[cold], vis[cold], prior_mean[cold], precision[cold])
        starts, owners = found, cold
        far = cold[~grid.covers(prior_mean[cold])]
        if len(far):
            init = init() if callable(init) else init
            extra = torch.cat([far, far[~grid.covers(init[far])]])
            starts = torch.cat([starts, prior_mean[far], init[extra[len(far) :]]])
            owners = torch.cat([owners, extra])
    known = None
    if warm is not None and warmed.any():
        known = Decoded(warm.codes[warmed], warm.out[warmed], warm.jac[warmed])
        owners = torch.cat([owners, frame_of[warmed]])

    m, p = prior_mean[owners], precision[owners]
    a, out, jac, objective = _damped_newton(
        model, x[owners], vis[owners], m, p, starts, steps, known
    )
    # each frame's best start; the first one listed on a tie
    best = torch.full((n,), -torch.inf, dtype=objective.dtype, device=a.device)
    best = best.scatter_reduce(0, owners, objective, "amax")
    index = torch.arange(len(owners), device=a.device)
    index = torch.where(objective == best[owners], index, len(owners))
    rows = torch.full((n,), len(owners), device=a.device).scatter_reduce(0, owners, index, "amin")

    a_star = a[rows]
    _, weight = _likelihood_grad_and_weights(model, out[rows], x, vis)
    h_lik = (jac[rows] * weight.unsqueeze(1)) @ jac[rows].transpose(1, 2) + RIDGE * eye
    shift = (precision @ (a_star - prior_mean).unsqueeze(-1)).squeeze(-1)
    pseudo = a_star + torch.linalg.solve(h_lik, shift.unsqueeze(-1)).squeeze(-1)
    pseudo_cov = model.R + torch.linalg.solve(h_lik, eye.expand(n, da, da))
    pseudo_cov = 0.5 * (pseudo_cov + pseudo_cov.transpose(-1, -2))
    return LaplaceEstimate(a_star, pseudo, pseudo_cov, Decoded(a_star, out[rows], jac[rows]))


def _damped_newton(model, x, vis, m, precision, a, steps: int, known: Decoded | None = None):
    """Levenberg-Marquardt on each row from `a`, then from `known`'s codes (whose decoder
    outputs come with them): (a, decoder outputs, Jacobian, objective) at the last
    accepted code. A step is kept only if it raises the objective; a rejected
    one raises the damping, an accepted one lowers it. A row stops when its next step
    promises less than GAIN_TOLERANCE, when it was refused too often or refused after
    promising less than SMALL_REFUSAL, or after `steps`."""
    if len(a) == 0 and known is not None:
        out, jac = known.out[:0], known.jac[:0]
    else:
        out, jac = _decoder_logits_and_jacobian(model, a)
    if known is not None:
        a = torch.cat([a, known.codes])
        out, jac = torch.cat([out, known.out]), torch.cat([jac, known.jac])
    rows, da = a.shape
    eye = torch.eye(da, device=a.device, dtype=a.dtype)
    objective = _objective(model, out, x, vis, a, m, precision)
    damping = torch.zeros(rows, device=a.device, dtype=a.dtype)
    active = torch.arange(rows, device=a.device)
    for _ in range(steps):
        if len(active) == 0:
            break
        j = jac[active]
        grad_out, weight = _likelihood_grad_and_weights(model, out[active], x[active], vis[active])
        diff = (a[active] - m[active]).unsqueeze(-1)
        grad = (j @ grad_out.unsqueeze(-1) - precision[active] @ diff).squeeze(-1)
        hess = (j * weight.unsqueeze(1)) @ j.transpose(1, 2) + precision[active] + RIDGE * eye
        scale = hess.diagonal(dim1=-2, dim2=-1).mean(-1) * damping[active]
        step = torch.linalg.solve(hess + scale[:, None, None] * eye, grad.unsqueeze(-1))
        step = step.squeeze(-1).clamp(-1.0, 1.0)
        # converged: the quadratic model promises less than GAIN_TOLERANCE from this step
        promised = (step * grad).sum(-1) - 0.5 * (
            step.unsqueeze(1) @ hess @ step.unsqueeze(-1)
        ).flatten()
        moving = promised >= GAIN_TOLERANCE
        active, step, promised = active[moving], step[moving], promised[moving]
        if len(active) == 0:
            break
        trial = a[active] + step
        trial_out, trial_jac = _decoder_logits_and_jacobian(model, trial)
        trial_objective = _objective(
            model, trial_out, x[active], vis[active], trial, m[active], precision[active]
        )
        better = trial_objective > objective[active]
        kept = active[better]
        a[kept], out[kept], jac[kept] = trial[better], trial_out[better], trial_jac[better]
        objective[kept] = trial_objective[better]
        damping[kept] = torch.where(damping[kept] > 1e-3, damping[kept] / 10, 0.0)
        refused = active[~better]
        damping[refused] = torch.where(damping[refused] > 0, damping[refused] * 10, 1e-2)
        damping[refused[promised[~better] < SMALL_REFUSAL]] = torch.inf
        active = active[(damping[active] <= MAX_DAMPING)]
    return a, out, jac, objective


def _objective(model, out, x, vis, a, m, precision) -> Tensor:
    """log p(x_visible | a) - (a - m)' P (a - m) / 2, per row."""
    diff = (a - m).unsqueeze(-1)
    prior = (diff.transpose(1, 2) @ precision @ diff).flatten()
    return _likelihood(model, out, x, vis) - 0.5 * prior

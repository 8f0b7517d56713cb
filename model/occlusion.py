"""Partly hidden frames as Laplace pseudo-observations of a_t.

The encoder never saw occluders in training, so its code for a half-hidden ball
is unreliable. Instead, for such a frame we find the code that best explains
the visible pixels under the decoder, combined with the prior the other frames
give, p(a_t | rest) = N(m, P^{-1}):

    a* = argmax_a  log p(x_visible | a) - 1/2 (a - m)^T P (a - m)

by Gauss-Newton steps on the 2-D variable. Around a*, the visible-pixel
likelihood is approximately Gaussian in a with precision H (the Gauss-Newton
curvature J^T W J) and mode y = a* + H^{-1} P (a* - m). Since a_t = C z_t + delta,
the frame then says about z_t what an observation y with noise R + H^{-1}
says, which is what the filter is given. Nothing visible near the object
gives H ~ 0 and a huge noise: the frame becomes, smoothly, a missing one.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.func import jacfwd, vmap

RIDGE = 1e-4  # keeps H invertible when the visible pixels say nothing about a


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


def laplace_observations(
    model,
    frames: Tensor,
    visible: Tensor,
    prior_mean: Tensor,
    prior_cov: Tensor,
    init: Tensor,
    steps: int = 6,
) -> tuple[Tensor, Tensor, Tensor]:
    """Return (a*, pseudo-observation y, its covariance R + H^{-1}) for N frames.

    frames, visible (N, H, W); prior_mean (N, da); prior_cov (N, da, da); init (N, da),
    a second starting point beside the prior mean (the encoder's code), since the
    likelihood of a small object is multimodal; the better posterior wins.
    """
    n, da = prior_mean.shape
    x = frames.flatten(1).repeat(2, 1)
    vis = visible.flatten(1).repeat(2, 1)
    m = prior_mean.repeat(2, 1)
    eye = torch.eye(da, device=frames.device, dtype=prior_mean.dtype)
    # eye given as a batch of matrices: a bare (da, da) right-hand side is read as a
    # batch of da vectors when there are exactly da frames (N == da)
    precision = torch.linalg.solve(prior_cov, eye.expand(n, da, da)).repeat(2, 1, 1)
    a = torch.cat([prior_mean, init], 0)
    for _ in range(steps):
        out, jac = _decoder_logits_and_jacobian(model, a)  # jac (2N, da, P)
        grad_out, weight = _likelihood_grad_and_weights(model, out, x, vis)
        g_lik = (jac @ grad_out.unsqueeze(-1)).squeeze(-1)
        h_lik = (jac * weight.unsqueeze(1)) @ jac.transpose(1, 2)
        diff = a - m
        grad = g_lik - (precision @ diff.unsqueeze(-1)).squeeze(-1)
        hess = h_lik + precision + RIDGE * eye
        step = torch.linalg.solve(hess, grad.unsqueeze(-1)).squeeze(-1)
        a = a + step.clamp(-1.0, 1.0)

    out, jac = _decoder_logits_and_jacobian(model, a)
    _, weight = _likelihood_grad_and_weights(model, out, x, vis)
    ll = _likelihood(model, out, x, vis)
    diff = a - m
    objective = ll - 0.5 * (diff.unsqueeze(1) @ precision @ diff.unsqueeze(-1)).flatten()
    best = torch.where(objective[:n] >= objective[n:], 0, 1)
    rows = best * n + torch.arange(n, device=a.device)
    a_star = a[rows]
    h_lik = ((jac * weight.unsqueeze(1)) @ jac.transpose(1, 2))[rows] + RIDGE * eye
    shift = (precision[rows] @ diff[rows].unsqueeze(-1)).squeeze(-1)
    pseudo = a_star + torch.linalg.solve(h_lik, shift.unsqueeze(-1)).squeeze(-1)
    pseudo_cov = model.R + torch.linalg.solve(h_lik, eye.expand(n, da, da))
    pseudo_cov = 0.5 * (pseudo_cov + pseudo_cov.transpose(-1, -2))
    return a_star, pseudo, pseudo_cov

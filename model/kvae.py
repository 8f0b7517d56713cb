"""The Kalman Variational Auto-Encoder (Fraccaro et al., NIPS 2017).

The module owns the parameters and wires the parts together: the VAE codes each
frame as a_t, the dynamics network mixes K linear regimes into A_t, B_t, C_t,
and `model.lgssm` filters and smooths exactly on the codes. The dynamics network
is interleaved with the filter: when frame t-1 is missing it is fed the
prediction C_{t-1} mu_{t-1|t-2}, which lets the model switch regime in a gap.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from model import lgssm
from model.config import KVAEConfig
from model.networks import AlphaNetwork, Decoder, Encoder
from model.objective import ELBOTerms, elbo_terms


class KalmanPass(NamedTuple):
    """What one forward-backward pass over the codes produces (all (B, T, ...))."""

    alpha: Tensor
    A: Tensor
    C: Tensor
    offsets: Tensor | None
    filtered: lgssm.FilteredPosterior
    smoothed_mean: Tensor
    smoothed_cov: Tensor


class KVAE(nn.Module):
    """Parameters and computations of the KVAE; no I/O, no training loop."""

    def __init__(self, config: KVAEConfig | None = None):
        super().__init__()
        self.config = config = config or KVAEConfig()
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)
        self.alpha_net = AlphaNetwork(config)
        k, dz, da, du = config.K, config.dim_z, config.dim_a, config.dim_u
        scale = config.init_kf_matrices
        self.A = nn.Parameter(torch.eye(dz).repeat(k, 1, 1))
        self.B = nn.Parameter(scale * torch.randn(k, dz, du))
        self.C = nn.Parameter(scale * torch.randn(k, da, dz))
        self.a0 = nn.Parameter(torch.zeros(da))
        self.register_buffer("Q", config.noise_transition * torch.eye(dz))
        self.register_buffer("R", config.noise_emission * torch.eye(da))
        self.register_buffer("mu0", torch.zeros(dz))
        self.register_buffer("Sigma0", config.init_cov * torch.eye(dz))

    # Parameter groups, for the training schedule (section 7).
    def vae_parameters(self) -> list[nn.Parameter]:
        return [*self.encoder.parameters(), *self.decoder.parameters()]

    def kf_parameters(self) -> list[nn.Parameter]:
        return [self.A, self.B, self.C, self.a0]

    def alpha_parameters(self) -> list[nn.Parameter]:
        return list(self.alpha_net.parameters())

    @property
    def device(self) -> torch.device:
        return self.A.device

    # Frames and codes.
    def prepare_frames(self, x: Tensor) -> Tensor:
        """Frames as the model sees them: binarised (pixel > 0) for the Bernoulli decoder."""
        x = x.to(self.device, torch.float32)
        return (x > 0).float() if self.config.output == "bernoulli" else x

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """x (B, T, H, W) -> mean and variance of q(a_t | x_t), each (B, T, da)."""
        batch, steps = x.shape[:2]
        mean, var = self.encoder(x.flatten(0, 1))
        return mean.view(batch, steps, -1), var.view(batch, steps, -1)

    def decode_logits(self, a: Tensor) -> Tensor:
        """a (B, T, da) -> Bernoulli logits or Gaussian means (B, T, H, W)."""
        batch, steps = a.shape[:2]
        out = self.decoder(a.flatten(0, 1))
        return out.view(batch, steps, *out.shape[-2:])

    def frames_from_logits(self, out: Tensor) -> Tensor:
        return torch.sigmoid(out) if self.config.output == "bernoulli" else out.clamp(0, 1)

    def decode(self, a: Tensor) -> Tensor:
        """Expected frames (B, T, H, W) in [0, 1] for codes a (B, T, da)."""
        return self.frames_from_logits(self.decode_logits(a))

    def frame_log_likelihood(self, out: Tensor, x: Tensor) -> Tensor:
        """log p(x_t | a_t) per frame (B, T) from decoder output `out`."""
        if self.config.output == "bernoulli":
            ll = -F.binary_cross_entropy_with_logits(out, x, reduction="none")
        else:
            var = self.config.noise_pixel_var
            ll = -0.5 * ((x - out).square() / var + math.log(2 * math.pi * var))
        return ll.flatten(2).sum(-1)

    # Dynamics.
    def mix(self, alpha: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """A, B, C as alpha-weighted sums of the K regimes, for alpha of shape (..., K)."""
        return (
            torch.einsum("...k,kij->...ij", alpha, self.A),
            torch.einsum("...k,kij->...ij", alpha, self.B),
            torch.einsum("...k,kij->...ij", alpha, self.C),
        )

    def _offsets(self, B: Tensor, u: Tensor | None) -> Tensor | None:
        """The control term B_t u_t; u is zero unless learned, so the term is skipped."""
        if u is None:
            return None
        return (B @ u.unsqueeze(-1)).squeeze(-1)

    def kalman_pass(
        self,
        a: Tensor,
        mask: Tensor,
        R_steps: Tensor | None = None,
        alpha_inputs: Tensor | None = None,
    ) -> KalmanPass:
        """Filter and smooth codes a (B, T, da) under mask (B, T), 1 = observed.

        R_steps (B, T, da, da) replaces R per step (partly occluded frames carry
        their own uncertainty); alpha_inputs (B, T, da) replaces the codes fed to
        the dynamics network at observed steps.
        """
        mask = mask.to(a.dtype)
        R = self.R if R_steps is None else R_steps
        fed = a if alpha_inputs is None else alpha_inputs
        if bool(mask.all()):
            # Every input of the dynamics network is known: one call over the sequence.
            inputs = torch.cat([self.a0.expand(a.shape[0], 1, -1), fed[:, :-1]], 1)
            alpha, u = self.alpha_net.sequence(inputs)
            A, B, C = self.mix(alpha)
            offsets = self._offsets(B, u)
            filtered = lgssm.kalman_filter(a, mask, A, C, self.Q, R, self.mu0, self.Sigma0, offsets)
        else:
            alpha, A, C, offsets, filtered = self._interleaved_filter(a, mask, R, fed)
        mean, cov = lgssm.rts_smooth(filtered, A)
        return KalmanPass(alpha, A, C, offsets, filtered, mean, cov)

    def _interleaved_filter(self, a: Tensor, mask: Tensor, R: Tensor, fed: Tensor):
        batch, steps = a.shape[:2]
        first = self.a0.expand(batch, -1)
        state = self.alpha_net.initial_state(first)
        alpha_t, u_t, state = self.alpha_net.step(first, state)
        mean = self.mu0.expand(batch, -1)
        cov = self.Sigma0.expand(batch, -1, -1)
        alphas, As, Cs, offs, pm, pc, fm, fc = ([] for _ in range(8))
        for t in range(steps):
            A_t, B_t, C_t = self.mix(alpha_t)
            offset = self._offsets(B_t, u_t)
            if t > 0:
                mean, cov = lgssm.predict(mean, cov, A_t, self.Q, offset)
            pm.append(mean)
            pc.append(cov)
            R_t = R[:, t] if R.dim() == 4 else R
            observed = mask[:, t]
            prediction = (C_t @ mean.unsqueeze(-1)).squeeze(-1)
            mean, cov = lgssm.update(mean, cov, a[:, t], observed, C_t, R_t)
            fm.append(mean)
            fc.append(cov)
            alphas.append(alpha_t)
            As.append(A_t)
            Cs.append(C_t)
            offs.append(offset)
            if t + 1 < steps:
                m = observed.unsqueeze(-1)
                inp = m * fed[:, t] + (1 - m) * prediction
                alpha_t, u_t, state = self.alpha_net.step(inp, state)
        stack = lambda xs: torch.stack(xs, 1)  # noqa: E731
        filtered = lgssm.FilteredPosterior(stack(pm), stack(pc), stack(fm), stack(fc))
        offsets = None if offs[0] is None else stack(offs)
        return stack(alphas), stack(As), stack(Cs), offsets, filtered

    # Objective.
    def elbo(
        self,
        x: Tensor,
        mask: Tensor | None = None,
        scale_reconstruction: float | None = None,
        generator: torch.Generator | None = None,
    ) -> ELBOTerms:
        """One-sample ELBO of a batch of sequences x (B, T, H, W)."""
        cfg = self.config
        x = self.prepare_frames(x)
        batch, steps = x.shape[:2]
        if mask is None:
            mask = torch.ones(batch, steps, device=x.device)
        mask = mask.to(x.device, x.dtype)
        scale = cfg.scale_reconstruction if scale_reconstruction is None else scale_reconstruction
        a_mean, a_var = self.encode(x)
        if cfg.use_vae:
            eps = torch.randn(a_mean.shape, generator=generator, device=x.device)
            a = a_mean + a_var.sqrt() * eps
            log_qa = -0.5 * (eps.square() + torch.log(2 * math.pi * a_var)).sum(-1)
        else:
            a = a_mean
            log_qa = torch.zeros(batch, steps, device=x.device)
        log_px = self.frame_log_likelihood(self.decode_logits(a), x)
        kp = self.kalman_pass(a, mask)
        noise = torch.randn(kp.smoothed_mean.shape, generator=generator, device=x.device)
        return elbo_terms(
            log_px,
            log_qa,
            a,
            mask,
            kp.smoothed_mean,
            kp.smoothed_cov,
            kp.A,
            kp.C,
            self.Q,
            self.R,
            self.mu0,
            self.Sigma0,
            noise,
            kp.offsets,
            scale,
        )

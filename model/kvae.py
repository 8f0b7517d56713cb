"""The Kalman Variational Auto-Encoder (Fraccaro et al., NIPS 2017).

The module owns the parameters and wires the parts together: the VAE codes each
frame as a_t, the dynamics network mixes K linear regimes into A_t, B_t, C_t,
and `model.lgssm` filters and smooths exactly on the codes. The dynamics network
is interleaved with the filter: when frame t-1 is missing it is fed the
prediction C_{t-1} mu_{t-1|t-2}, which lets the model switch regime in a gap.
"""

from __future__ import annotations

import contextlib
import math
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from model import lgssm
from model.config import KVAEConfig
from model.networks import AlphaNetwork, Decoder, Encoder, initialise_as_original
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


def _blend(m: Tensor, observed: Tensor, predicted: Tensor) -> Tensor:
    """m * observed + (1 - m) * predicted, for a batch where only some sequences observe."""
    return m * observed + (1 - m) * predicted


def _draw(sample, shape, generator, device, share: tuple[int, int] | None) -> Tensor:
    """sample(shape), or the rows `share` names of the whole shared batch's draw."""
    if share is None:
        return sample(shape, generator=generator, device=device)
    first, total = share
    whole = sample((total, *shape[1:]), generator=generator, device=device)
    return whole[first : first + shape[0]]


INFERENCE_CHUNK = 128
"""Frames per encoder or decoder call without gradients. A whole data set's frames in one
call make activations of tens of MB that no cache holds: on these CPUs 2000 frames took
186 ms to encode in one call and 33 ms in calls of 128 (the decoder 551 and 345 ms), with
the same numbers (each frame is computed alone either way). With gradients (training)
the batch stays whole: autograd keeps the activations anyway."""


def _frame_chunks(frames: Tensor) -> tuple[Tensor, ...]:
    """`frames` (N, ...) in pieces of INFERENCE_CHUNK when no gradient is recorded."""
    if torch.is_grad_enabled() or len(frames) <= INFERENCE_CHUNK:
        return (frames,)
    return frames.split(INFERENCE_CHUNK)


class KVAE(nn.Module):
    """Parameters and computations of the KVAE; no I/O, no training loop."""

    def __init__(self, config: KVAEConfig | None = None):
        super().__init__()
        self.config = config = config or KVAEConfig()
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)
        self.alpha_net = AlphaNetwork(config)
        if config.init == "xavier":
            for part in (self.encoder, self.decoder, self.alpha_net):
                initialise_as_original(part)
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
        # bfloat16 autocast for the encoder and decoder alone (set by the Trainer's
        # --precision bf16); their outputs return to float32, where the filter runs.
        self.vae_precision: torch.dtype | None = None

    # Parameter groups, for the training schedule (section 7).
    def payload(self) -> tuple[str, bytes]:
        """(config JSON, safetensors bytes of the weights): the model as it travels to
        another process, without pickle (`from_payload` rebuilds it)."""
        from safetensors.torch import save

        tensors = {k: v.detach().to("cpu").contiguous() for k, v in self.state_dict().items()}
        return self.config.to_json(), save(tensors)

    @classmethod
    def from_payload(cls, config_json: str, weights: bytes) -> KVAE:
        """The model `payload()` describes, in eval mode."""
        from safetensors.torch import load

        model = cls(KVAEConfig.from_json(config_json))
        model.load_state_dict(load(weights))
        return model.eval()

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
        with self._vae_autocast():
            parts = [self.encoder(f) for f in _frame_chunks(x.flatten(0, 1))]
        mean, var = (torch.cat(p) if len(p) > 1 else p[0] for p in zip(*parts, strict=True))
        return mean.float().view(batch, steps, -1), var.float().view(batch, steps, -1)

    def decode_logits(self, a: Tensor) -> Tensor:
        """a (B, T, da) -> Bernoulli logits or Gaussian means (B, T, H, W)."""
        batch, steps = a.shape[:2]
        with self._vae_autocast():
            parts = [self.decoder(codes) for codes in _frame_chunks(a.flatten(0, 1))]
        out = torch.cat(parts) if len(parts) > 1 else parts[0]
        return out.float().view(batch, steps, *out.shape[-2:])

    def _vae_autocast(self) -> contextlib.AbstractContextManager:
        if self.vae_precision is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.vae_precision)

    def frames_from_logits(self, out: Tensor) -> Tensor:
        return torch.sigmoid(out) if self.config.output == "bernoulli" else out.clamp(0, 1)

    def decode(self, a: Tensor) -> Tensor:
        """Expected frames (B, T, H, W) in [0, 1] for codes a (B, T, da)."""
        return self.frames_from_logits(self.decode_logits(a))

    def frame_log_likelihood(self, out: Tensor, x: Tensor) -> Tensor:
        """log p(x_t | a_t) per frame (B, T) from decoder output `out`.

        With ll_clip = eps the Bernoulli probabilities are clipped to [eps, 1 - eps] as in
        the original; clipping the logits at logit(1 - eps) is the same clip (sigmoid is
        monotone), with the same zero gradient outside it, and stays stable in float32.
        """
        if self.config.output == "bernoulli":
            eps = self.config.ll_clip
            if eps > 0:
                bound = math.log((1 - eps) / eps)
                out = out.clamp(-bound, bound)
            ll = -F.binary_cross_entropy_with_logits(out, x, reduction="none")
        else:
            var = self.config.noise_pixel_var
            ll = -0.5 * ((x - out).square() / var + math.log(2 * math.pi * var))
        return ll.flatten(2).sum(-1)

    # Dynamics.
    def mix_weights(self) -> Tensor:
        """The K regimes' A, B, C flattened side by side, (K, dz*dz + dz*du + da*dz)."""
        return torch.cat([self.A.flatten(1), self.B.flatten(1), self.C.flatten(1)], 1)

    def mix(self, alpha: Tensor, weights: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
        """A, B, C as alpha-weighted sums of the K regimes, for alpha of shape (..., K).

        One matrix product for all three; `weights` is `mix_weights()`, if already at hand.
        """
        flat = alpha @ (self.mix_weights() if weights is None else weights)
        return self._split_mix(flat)

    def _split_mix(self, flat: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        cfg = self.config
        dz, du, da = cfg.dim_z, cfg.dim_u, cfg.dim_a
        lead = flat.shape[:-1]
        A, B, C = flat.split([dz * dz, dz * du, da * dz], -1)
        return A.view(*lead, dz, dz), B.view(*lead, dz, du), C.view(*lead, da, dz)

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
        prefix: lgssm.FilteredPosterior | None = None,
    ) -> KalmanPass:
        """Filter and smooth codes a (B, T, da) under mask (B, T), 1 = observed.

        R_steps (B, T, da, da) replaces R per step (partly occluded frames carry
        their own uncertainty); alpha_inputs (B, T, da) replaces the codes fed to
        the dynamics network at observed steps. prefix: the filtered posterior of the
        first steps from an earlier pass with the same inputs there (codes, mask, R,
        network inputs), which the filter then skips; a hint, used when every step
        is observed (with a gap the network is stepped inside the filter).
        """
        mask = mask.to(a.dtype)
        R = self.R if R_steps is None else R_steps
        fed = a if alpha_inputs is None else alpha_inputs
        batch, steps = a.shape[:2]
        every, some = lgssm.step_flags(mask)
        # The dynamics network's inputs are known up to the first step that some
        # sequence misses: alpha_0 .. alpha_known-1 come from one call over them.
        known = next((t for t, e in enumerate(every) if not e), steps - 1) + 1
        inputs = torch.cat([self.a0.expand(batch, 1, -1), fed[:, : known - 1]], 1)
        weights = self.mix_weights()
        if known == steps:
            alpha, u = self.alpha_net.sequence(inputs)
            A, B, C = self._split_mix(alpha @ weights)
            offsets = self._offsets(B, u)
            ssm = lgssm.StateSpace(A, C, self.Q, R, self.mu0, self.Sigma0, offsets)
            filtered = lgssm.kalman_filter(a, mask, ssm, prefix)
        else:
            alpha, A, C, offsets, filtered = self._interleaved_filter(
                a, mask, R, fed, inputs, weights, every, some
            )
        mean, cov = lgssm.rts_smooth(filtered, A)
        return KalmanPass(alpha, A, C, offsets, filtered, mean, cov)

    def _interleaved_filter(self, a, mask, R, fed, inputs, weights, every, some):
        """The filter with the dynamics network stepped inside it, from the first gap on.

        When frame t is missing, the network's next input is C_t mu_{t|t-1} (section 3).
        """
        batch, steps = a.shape[:2]
        known = inputs.shape[1]
        alpha_k, u_k, state = self.alpha_net.run(inputs)
        alphas = list(alpha_k.unbind(1))
        us = None if u_k is None else list(u_k.unbind(1))
        flats = list((alpha_k @ weights).unbind(1))
        gates = mask[:, :, None, None].unbind(1)
        a_cols = a.unsqueeze(-1).unbind(1)
        feds = fed.unbind(1)
        Rs = R.unbind(1) if R.dim() == 4 else [R] * steps
        eye = lgssm.eye_like(self.Sigma0)
        col = self.mu0.expand(batch, -1).unsqueeze(-1)
        cov = self.Sigma0.expand(batch, -1, -1)
        pm, pc, fm, fc, offs = [], [], [], [], []
        inp = fed[:, 0]  # set at step known - 1, before it is first read
        for t in range(steps):
            if t >= known:  # alpha_t needs the filter's output at t - 1
                alpha_t, u_t, state = self.alpha_net.step(inp, state)
                alphas.append(alpha_t)
                flats.append(alpha_t @ weights)
                if us is not None:
                    us.append(u_t)
            A_t, B_t, C_t = self._split_mix(flats[t])
            offset = None if us is None else (B_t @ us[t].unsqueeze(-1))
            offs.append(offset)
            if t > 0:
                col, cov = lgssm.predict_column(col, cov, A_t, self.Q, offset)
            pm.append(col)
            pc.append(cov)
            if t + 1 >= known and t + 1 < steps:
                if every[t]:
                    inp = feds[t]
                else:
                    prediction = (C_t @ col).squeeze(-1)
                    inp = (
                        prediction if not some[t] else _blend(mask[:, t, None], feds[t], prediction)
                    )
            if some[t]:
                gate = None if every[t] else gates[t]
                col, cov = lgssm.update_column(col, cov, a_cols[t], C_t, Rs[t], eye, gate)
            fm.append(col)
            fc.append(cov)
        A, _, C = self._split_mix(torch.stack(flats, 1))
        offsets = None if us is None else torch.stack(offs, 1).squeeze(-1)
        filtered = lgssm.stack_posterior(pm, pc, fm, fc)
        return torch.stack(alphas, 1), A, C, offsets, filtered

    # Objective.
    def elbo(
        self,
        x: Tensor,
        mask: Tensor | None = None,
        scale_reconstruction: float | None = None,
        generator: torch.Generator | None = None,
        share: tuple[int, int] | None = None,
    ) -> ELBOTerms:
        """One-sample ELBO of a batch of sequences x (B, T, H, W).

        share = (first row, global batch size) when x is one process's rows of a batch
        shared by several (model.distributed): the random numbers are drawn for the whole
        batch and x's rows taken, so a sequence gets the same noise whatever the number
        of processes, and the generator advances alike on all of them.
        """
        cfg = self.config
        x = self.prepare_frames(x)
        batch, steps = x.shape[:2]
        if mask is None:
            mask = torch.ones(batch, steps, device=x.device)
        mask = mask.to(x.device, x.dtype)
        scale = cfg.scale_reconstruction if scale_reconstruction is None else scale_reconstruction
        a_mean, a_var = self.encode(x)
        if cfg.use_vae:
            eps = _draw(torch.randn, a_mean.shape, generator, x.device, share)
            a = a_mean + a_var.sqrt() * eps
            log_qa = -0.5 * (eps.square() + torch.log(2 * math.pi * a_var)).sum(-1)
        else:
            a = a_mean
            log_qa = torch.zeros(batch, steps, device=x.device)
        kp = self.kalman_pass(a, mask)
        # sample_z, the original's option: decode the smoothed codes C_t mu_{t|T}.
        decoded = (kp.C @ kp.smoothed_mean.unsqueeze(-1)).squeeze(-1) if cfg.sample_z else a
        log_px = self.frame_log_likelihood(self.decode_logits(decoded), x)
        if self.training and cfg.ll_keep_prob < 1.0:
            keep = _draw(torch.rand, log_px.shape, generator, x.device, share)
            log_px = log_px * (keep < cfg.ll_keep_prob) / cfg.ll_keep_prob
        noise = _draw(torch.randn, kp.smoothed_mean.shape, generator, x.device, share)
        ssm = lgssm.StateSpace(kp.A, kp.C, self.Q, self.R, self.mu0, self.Sigma0, kp.offsets)
        return elbo_terms(
            log_px, log_qa, a, mask, kp.smoothed_mean, kp.smoothed_cov, ssm, noise, scale
        )

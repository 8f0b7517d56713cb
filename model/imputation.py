"""Imputation and generation with a trained KVAE (kvae-model.md, section 8).

`impute` answers "what happened where I could not see?" for any mask of frames
or pixels; `generate` answers "what happens next?" from the first frames. Both
run without gradients and return plain tensors a viewer can draw.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, fields

import torch
from torch import Tensor

from model import lgssm
from model.kvae import KVAE, KalmanPass
from model.occlusion import NEWTON_STEPS, Decoded, laplace_estimates


@dataclass(frozen=True)
class Imputation:
    """Per-frame results, batch first: (B, T, ...)."""

    frame_mask: Tensor  # (B, T) 1 = frame used (fully or partly visible)
    a_encoded: Tensor  # (B, T, da): encoder means, what each frame alone says
    a_used: Tensor  # (B, T, da): codes the filter saw (Laplace estimates on occluded frames)
    z_filtered_mean: Tensor
    z_filtered_cov: Tensor
    z_smoothed_mean: Tensor
    z_smoothed_cov: Tensor
    a_filtered_mean: Tensor
    a_filtered_cov: Tensor  # C Sigma_{t|t} C^T + R
    a_smoothed_mean: Tensor
    a_smoothed_cov: Tensor  # C Sigma_{t|T} C^T + R
    alpha: Tensor  # (B, T, K)
    x_filtered: Tensor  # (B, T, H, W) in [0, 1]
    x_smoothed: Tensor
    x_composite: Tensor  # smoothed frame where hidden, the observed pixels elsewhere

    @property
    def kalman(self) -> KalmanPass | None:
        """The Kalman pass that made these results (its filtered posterior and A_t, C_t:
        what joint posterior samples need, model.dynamics.posterior_samples), or None.

        An attribute beside the fields, not one of them: code that compares or copies the
        fields' tensors one by one stays as it was (`dataclasses.replace` drops it)."""
        return self.__dict__.get("_kalman")


@dataclass(frozen=True)
class Generation:
    """A roll-out: codes, states, regime weights and frames, (B, T, ...)."""

    a: Tensor
    z: Tensor
    alpha: Tensor
    x: Tensor


def _inference(fn):
    """Run fn under torch.inference_mode (cheaper per operation than no_grad), then hand
    back ordinary tensors: inference tensors would refuse later in-place edits and
    autograd, which a caller of these functions may fairly expect to work."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with torch.inference_mode():
            result = fn(*args, **kwargs)
        out = type(result)(**{f.name: getattr(result, f.name).clone() for f in fields(result)})
        kalman = result.__dict__.get("_kalman")
        if kalman is not None:
            object.__setattr__(out, "_kalman", _cloned(kalman))
        return out

    return wrapper


def _cloned(value):
    """A tensor cloned, tuples of them (a KalmanPass) cloned item by item, None as is."""
    if isinstance(value, Tensor):
        return value.clone()
    if isinstance(value, tuple):
        return type(value)(*(_cloned(v) for v in value))
    return value


class ImputeMemo:
    """What `impute` and `generate` can reuse when one sequence is looked at again and
    again under small mask edits, as in an interactive editor: the encoder's codes of the
    frames, the prior pass over the frames seen whole (which a stroke on an already
    painted frame leaves as it was), and the last few deterministic roll-outs (which
    depend only on the first n_init frames, so an edit after them leaves them as they
    were), and each painted frame's Laplace estimate, where the next stroke on that frame
    starts its Newton steps (strokes are small changes: one or two steps instead of a
    search of the decoder's table). Results are the same with or without a memo, but for
    painted frames, which agree within the solver's tolerance (tests/model/
    test_laplace_solver.py). A memo serves one model at a time and forgets everything
    when it sees another. `hits` counts reuses by kind."""

    ROLLOUTS = 4  # roll-outs kept: strokes often alternate between a few values of n_init

    def __init__(self) -> None:
        self._model: KVAE | None = None
        self._codes: tuple[bytes, Tensor] | None = None
        self._prior: tuple[bytes, KalmanPass] | None = None
        self._rollouts: list[tuple[bytes, Generation]] = []
        self._answers: dict[tuple[int, int], Decoded] = {}  # (sequence, frame) -> at a*
        self.hits = {"codes": 0, "prior": 0, "rollout": 0, "laplace": 0}

    def codes(self, model: KVAE, frames: Tensor) -> tuple[bytes, Tensor]:
        self._forget_other(model)
        key = _digest(frames)
        if self._codes is not None and self._codes[0] == key:
            self.hits["codes"] += 1
            return self._codes
        self._codes = (key, model.encode(frames)[0])
        self._prior, self._answers = None, {}
        return self._codes

    def prior(self, model: KVAE, codes_key: bytes, a: Tensor, mask: Tensor) -> KalmanPass:
        key = codes_key + _digest(mask)
        if self._prior is not None and self._prior[0] == key:
            self.hits["prior"] += 1
            return self._prior[1]
        self._prior = (key, model.kalman_pass(a, mask))
        return self._prior[1]

    def has_answers(self) -> bool:
        return bool(self._answers)

    def laplace_starts(self, where: tuple[Tensor, Tensor]) -> Decoded:
        """Last answers for the painted frames at `where` (batch and time indices), with
        the decoder there; NaN codes where a frame has none. Valid for the frames of the
        last `codes` call, and only when `has_answers`."""
        keys = list(zip(*(i.tolist() for i in where), strict=True))
        n = len(keys)
        like = next(iter(self._answers.values()))
        codes = like.codes.new_full((n, *like.codes.shape), torch.nan)
        out = like.out.new_zeros((n, *like.out.shape))
        jac = like.jac.new_zeros((n, *like.jac.shape))
        for row, key in enumerate(keys):
            if key in self._answers:
                known = self._answers[key]
                codes[row], out[row], jac[row] = known.codes, known.out, known.jac
                self.hits["laplace"] += 1
        return Decoded(codes, out, jac)

    def remember_answers(self, where: tuple[Tensor, Tensor], answers: Decoded) -> None:
        keys = zip(*(i.tolist() for i in where), strict=True)
        self._answers = {
            key: Decoded(answers.codes[row], answers.out[row], answers.jac[row])
            for row, key in enumerate(keys)
        }

    def rollout(self, model: KVAE, frames: Tensor, steps: int, make) -> Generation:
        """The roll-out of `steps` from `frames` (the first n_init), made by `make()`."""
        self._forget_other(model)
        key = _digest(frames) + repr(steps).encode()
        for i, (k, gen) in enumerate(self._rollouts):
            if k == key:
                self._rollouts.append(self._rollouts.pop(i))
                self.hits["rollout"] += 1
                return gen
        gen = make()
        self._rollouts = [*self._rollouts, (key, gen)][-self.ROLLOUTS :]
        return gen

    def _forget_other(self, model: KVAE) -> None:
        if model is not self._model:
            self._model, self._codes, self._prior, self._rollouts = model, None, None, []
            self._answers = {}


def _digest(t: Tensor) -> bytes:
    data = t.detach().contiguous().cpu().numpy()
    return repr((data.shape, str(data.dtype))).encode() + hashlib.sha1(data.tobytes()).digest()


@_inference
def impute(
    model: KVAE,
    x: Tensor,
    mask: Tensor | None = None,
    pixel_mask: Tensor | None = None,
    newton_steps: int = NEWTON_STEPS,
    memo: ImputeMemo | None = None,
    codes: Tensor | None = None,
    decode_only: Tensor | None = None,
) -> Imputation:
    """Filter, smooth and decode x (B, T, H, W) with some of it hidden.

    mask (B, T): 1 = frame observed. pixel_mask (B, T, H, W): 1 = pixel visible.
    A frame with every pixel hidden is a missing frame; an untouched frame is an
    observed one; a partly hidden frame becomes a Laplace pseudo-observation of
    a_t from its visible pixels and the prior the other frames give
    (model.occlusion), which the filter uses with that frame's own covariance.
    memo: reuse what an earlier call on the same frames computed (see ImputeMemo).
    codes (B, T, da): the codes to filter instead of the encoder's means, e.g. samples
    of q(a|x), which is how the original code scores (model.evaluation, paper protocol).
    decode_only (B, T) bool: the frames whose x_filtered and x_smoothed are wanted; the
    others are left 0. Scores read the hidden frames alone, and decoding is nearly all
    of their time.
    """
    frames = model.prepare_frames(x)
    batch, steps = frames.shape[:2]
    device = frames.device
    mask = torch.ones(batch, steps, device=device) if mask is None else mask.to(device).float()
    visible = None
    partial = torch.zeros(batch, steps, dtype=torch.bool, device=device)
    if pixel_mask is not None:
        visible = pixel_mask.to(device).float() * mask[:, :, None, None]
        seen = visible.flatten(2).sum(-1)
        total = visible[0, 0].numel()
        mask = (seen > 0).float()
        partial = (seen > 0) & (seen < total)

    if codes is not None:
        a_encoded, memo = codes.to(device, frames.dtype), None
    elif memo is None:
        a_encoded, _ = model.encode(frames)
    else:
        codes_key, a_encoded = memo.codes(model, frames)
    a_used = a_encoded
    R_steps = None
    if bool(partial.any()):
        # Prior for each partly hidden frame from all the other frames.
        prior_mask = mask * (~partial).float()
        if memo is None:
            prior_pass = model.kalman_pass(a_encoded, prior_mask)
        else:
            prior_pass = memo.prior(model, codes_key, a_encoded, prior_mask)
        prior_mean, prior_cov = lgssm.observation_marginals(
            prior_pass.smoothed_mean, prior_pass.smoothed_cov, prior_pass.C, model.R
        )
        idx = partial.nonzero(as_tuple=True)

        # The second starting point is the encoder's code of what is visible: the
        # hidden pixels must not leak into the estimate through it.
        def visible_codes() -> Tensor:
            return model.encoder(frames[idx] * visible[idx])[0]

        warm = None if memo is None or not memo.has_answers() else memo.laplace_starts(idx)
        found = laplace_estimates(
            model,
            frames[idx],
            visible[idx],
            prior_mean[idx],
            prior_cov[idx],
            visible_codes,
            newton_steps,
            warm=warm,
        )
        if memo is not None:
            memo.remember_answers(idx, found.decoded)
        a_star, pseudo, pseudo_cov = found.a_star, found.pseudo, found.pseudo_cov
        a_obs = a_encoded.clone()
        a_obs[idx] = pseudo
        a_fed = a_encoded.clone()
        a_fed[idx] = a_star
        R_steps = model.R.expand(batch, steps, -1, -1).clone()
        R_steps[idx] = pseudo_cov
        a_used = a_fed
        # before the first painted frame both passes saw the same: filter only the rest
        first = int(partial.any(0).nonzero()[0])
        prefix = lgssm.FilteredPosterior(*(p[:, :first] for p in prior_pass.filtered))
        kp = model.kalman_pass(a_obs, mask, R_steps=R_steps, alpha_inputs=a_fed, prefix=prefix)
    else:
        kp = model.kalman_pass(a_encoded, mask)

    filtered = kp.filtered
    af_mean, af_cov = lgssm.observation_marginals(
        filtered.filtered_mean, filtered.filtered_cov, kp.C, model.R
    )
    as_mean, as_cov = lgssm.observation_marginals(kp.smoothed_mean, kp.smoothed_cov, kp.C, model.R)
    if decode_only is not None:
        decode_only = torch.cat([decode_only, decode_only], 0)
    decoded = _decode(model, torch.cat([af_mean, as_mean], 0), decode_only)
    x_filtered, x_smoothed = decoded.split(batch, 0)
    shown = mask[:, :, None, None] if visible is None else visible
    x_composite = shown * frames + (1 - shown) * x_smoothed
    result = Imputation(
        frame_mask=mask,
        a_encoded=a_encoded,
        a_used=a_used,
        z_filtered_mean=filtered.filtered_mean,
        z_filtered_cov=filtered.filtered_cov,
        z_smoothed_mean=kp.smoothed_mean,
        z_smoothed_cov=kp.smoothed_cov,
        a_filtered_mean=af_mean,
        a_filtered_cov=af_cov,
        a_smoothed_mean=as_mean,
        a_smoothed_cov=as_cov,
        alpha=kp.alpha,
        x_filtered=x_filtered,
        x_smoothed=x_smoothed,
        x_composite=x_composite,
    )
    object.__setattr__(result, "_kalman", kp)  # (frozen) the `kalman` property's pass
    return result


@_inference
def generate(
    model: KVAE,
    x: Tensor,
    n_init: int,
    steps: int | None = None,
    stochastic: bool = False,
    generator: torch.Generator | None = None,
    memo: ImputeMemo | None = None,
    codes: Tensor | None = None,
    decode_only: Tensor | None = None,
) -> Generation:
    """Roll the dynamics forward from the smoothed state of the first n_init frames.

    Frames before n_init are the smoothed reconstruction of what was seen; after
    it, z_t = A_t z_{t-1} (+ eps) and a_t = C_t z_t (+ delta), each generated a_t
    fed back to the dynamics network. steps defaults to the length of x.
    memo: reuse a deterministic roll-out made before from the same frames (ImputeMemo).
    codes (B, >= n_init, da): codes of the first frames instead of the encoder's means.
    decode_only (B, steps) bool: the frames of x wanted (as in `impute`); without a memo,
    the others are left 0.
    """
    frames = model.prepare_frames(x[:, :n_init])
    steps = x.shape[1] if steps is None else steps
    if not 1 <= n_init <= steps:
        raise ValueError(f"n_init must lie in 1..{steps}, got {n_init}")
    if codes is not None:
        codes = codes[:, :n_init]
    elif memo is not None and not stochastic:
        return memo.rollout(model, frames, steps, lambda: _roll_out(model, frames, steps))
    return _roll_out(model, frames, steps, stochastic, generator, codes, decode_only)


def _roll_out(
    model: KVAE,
    frames: Tensor,
    steps: int,
    stochastic: bool = False,
    generator: torch.Generator | None = None,
    codes: Tensor | None = None,
    decode_only: Tensor | None = None,
) -> Generation:
    batch, n_init = frames.shape[:2]
    a_seen = model.encode(frames)[0] if codes is None else codes.to(frames.device, frames.dtype)
    kp = model.kalman_pass(a_seen, torch.ones(batch, n_init, device=frames.device))
    z_seen = kp.smoothed_mean
    a_out, _ = lgssm.observation_marginals(z_seen, kp.smoothed_cov, kp.C, model.R)
    zs, as_, alphas = list(z_seen.unbind(1)), list(a_out.unbind(1)), list(kp.alpha.unbind(1))

    # Run the seen codes through the dynamics network to get its state.
    inputs = torch.cat([model.a0.expand(batch, 1, -1), a_seen[:, : n_init - 1]], 1)
    _, _, state = model.alpha_net.run(inputs)
    weights = model.mix_weights()

    z = z_seen[:, -1]
    if stochastic:
        chol = torch.linalg.cholesky(kp.smoothed_cov[:, -1])
        z = z + (chol @ _noise(z.shape, generator, z.device).unsqueeze(-1)).squeeze(-1)
    chol_q = torch.linalg.cholesky(model.Q)
    chol_r = torch.linalg.cholesky(model.R)
    a_prev = a_seen[:, -1]
    for _ in range(n_init, steps):
        alpha_t, u_t, state = model.alpha_net.step(a_prev, state)
        A_t, B_t, C_t = model.mix(alpha_t, weights)
        z = (A_t @ z.unsqueeze(-1)).squeeze(-1)
        if u_t is not None:
            z = z + (B_t @ u_t.unsqueeze(-1)).squeeze(-1)
        if stochastic:
            z = z + _noise(z.shape, generator, z.device) @ chol_q.T
        a_t = (C_t @ z.unsqueeze(-1)).squeeze(-1)
        if stochastic:
            a_t = a_t + _noise(a_t.shape, generator, z.device) @ chol_r.T
        zs.append(z)
        as_.append(a_t)
        alphas.append(alpha_t)
        a_prev = a_t
    a_all = torch.stack(as_, 1)
    x_all = _decode(model, a_all, decode_only)
    return Generation(a_all, torch.stack(zs, 1), torch.stack(alphas, 1), x_all)


def _decode(model: KVAE, a: Tensor, where: Tensor | None) -> Tensor:
    """model.decode of the codes a (B, T, da); with `where` (B, T) bool, of those frames
    alone, the others 0 (each frame is decoded on its own, so the decoded ones are the
    same either way)."""
    if where is None:
        return model.decode(a)
    size = model.config.frame_size
    out = a.new_zeros(*a.shape[:2], size, size)
    where = where.to(a.device, torch.bool)
    if bool(where.any()):
        out[where] = model.decode(a[where].unsqueeze(0))[0]
    return out


def _noise(shape, generator, device) -> Tensor:
    return torch.randn(shape, generator=generator, device=device)

"""Independent float64 numpy references for the model tests, written from kvae-model.md.

Nothing here calls model.lgssm or model.objective: the dynamics network is a
hand-rolled LSTM over the module's weights, the filter is the textbook one with
explicit loops, and smoothing is done by brute force on the joint Gaussian.
`lively` makes the model under test, its weights stirred far from their start values.
(The module is named so as not to clash with other test folders on sys.path.)
"""

from __future__ import annotations

import numpy as np
import torch

from model.config import KVAEConfig
from model.kvae import KVAE


def np64(t) -> np.ndarray:
    return t.detach().cpu().double().numpy()


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


class NumpyDynamics:
    """The KVAE's alpha LSTM, its mix of regimes and its matrices, in float64 numpy."""

    def __init__(self, model):
        cfg = model.config
        assert cfg.alpha_rnn and not cfg.learn_u, "the reference covers the default network"
        lstm = model.alpha_net.lstm
        self.W_ih, self.W_hh = np64(lstm.weight_ih_l0), np64(lstm.weight_hh_l0)
        self.b = np64(lstm.bias_ih_l0) + np64(lstm.bias_hh_l0)
        self.W_out, self.b_out = (
            np64(model.alpha_net.alpha_head.weight),
            np64(model.alpha_net.alpha_head.bias),
        )
        self.A, self.C = np64(model.A), np64(model.C)
        self.a0 = np64(model.a0)
        self.Q, self.R = np64(model.Q), np64(model.R)
        self.mu0, self.Sigma0 = np64(model.mu0), np64(model.Sigma0)
        self.units = cfg.alpha_units

    def start(self):
        n = self.units
        return np.zeros(n), np.zeros(n)

    def step(self, inp: np.ndarray, state):
        """PyTorch's gate order: input, forget, cell, output."""
        h, c = state
        n = self.units
        gates = self.W_ih @ inp + self.W_hh @ h + self.b
        i, f = _sigmoid(gates[:n]), _sigmoid(gates[n : 2 * n])
        g, o = np.tanh(gates[2 * n : 3 * n]), _sigmoid(gates[3 * n :])
        c = f * c + i * g
        h = o * np.tanh(c)
        alpha = _softmax(self.W_out @ h + self.b_out)
        return alpha, (h, c)

    def mix(self, alpha: np.ndarray):
        return np.einsum("k,kij->ij", alpha, self.A), np.einsum("k,kij->ij", alpha, self.C)


def filter_with_feed(dyn: NumpyDynamics, a: np.ndarray, mask: np.ndarray):
    """Section 5 for one sequence, literally: the dynamics network is fed a_{t-1}, or
    C_{t-1} mu_{t-1|t-2} when frame t-1 is missing. Returns alpha (T, K), A (T, dz, dz),
    C (T, da, dz) and the predicted and filtered means and covariances."""
    steps = len(a)
    state = dyn.start()
    alpha, state = dyn.step(dyn.a0, state)
    mean, cov = dyn.mu0.copy(), dyn.Sigma0.copy()
    out = {k: [] for k in ("alpha", "A", "C", "pm", "pc", "fm", "fc")}
    for t in range(steps):
        A_t, C_t = dyn.mix(alpha)
        if t > 0:
            mean = A_t @ mean
            cov = A_t @ cov @ A_t.T + dyn.Q
        out["pm"].append(mean)
        out["pc"].append(cov)
        prediction = C_t @ mean
        if mask[t]:
            S = C_t @ cov @ C_t.T + dyn.R
            gain = cov @ C_t.T @ np.linalg.inv(S)
            mean = mean + gain @ (a[t] - prediction)
            cov = cov - gain @ S @ gain.T
        out["fm"].append(mean)
        out["fc"].append(cov)
        for key, value in (("alpha", alpha), ("A", A_t), ("C", C_t)):
            out[key].append(value)
        fed = a[t] if mask[t] else prediction
        alpha, state = dyn.step(fed, state)
    return {k: np.array(v) for k, v in out.items()}


def joint_posterior(A, C, Q, R, mu0, Sigma0, a, mask, offsets=None, upto=None):
    """Marginals of p(z_1..z_n | observed a_t, t <= upto) by brute force on the joint Gaussian.

    A (T, dz, dz) with A[t] mapping z_{t-1} to z_t; C (T, da, dz); R (da, da) or (T, da, da);
    offsets (T, dz) or None. n = upto + 1 states are kept (all if upto is None): the
    information form is assembled block by block and inverted as one matrix.
    """
    steps, dz = len(a), A.shape[-1]
    n = steps if upto is None else upto + 1
    J = np.zeros((n * dz, n * dz))
    h = np.zeros(n * dz)
    blk = lambda t: slice(t * dz, (t + 1) * dz)  # noqa: E731
    P0 = np.linalg.inv(Sigma0)
    J[blk(0), blk(0)] += P0
    h[blk(0)] += P0 @ mu0
    Qi = np.linalg.inv(Q)
    for t in range(1, n):
        At = A[t]
        b = np.zeros(dz) if offsets is None else offsets[t]
        J[blk(t - 1), blk(t - 1)] += At.T @ Qi @ At
        J[blk(t - 1), blk(t)] -= At.T @ Qi
        J[blk(t), blk(t - 1)] -= Qi @ At
        J[blk(t), blk(t)] += Qi
        h[blk(t - 1)] -= At.T @ Qi @ b
        h[blk(t)] += Qi @ b
    for t in range(min(n, steps)):
        if mask[t] and (upto is None or t <= upto):
            Rt = R[t] if R.ndim == 3 else R
            Ri = np.linalg.inv(Rt)
            J[blk(t), blk(t)] += C[t].T @ Ri @ C[t]
            h[blk(t)] += C[t].T @ Ri @ a[t]
    cov = np.linalg.inv(J)
    mean = cov @ h
    means = np.stack([mean[blk(t)] for t in range(n)])
    covs = np.stack([cov[blk(t), blk(t)] for t in range(n)])
    return means, covs


def mvn_logpdf(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> float:
    from scipy.stats import multivariate_normal

    return float(multivariate_normal(mean=mean, cov=cov).logpdf(x))


# ----------------------------------------------------------------------------- data
def box_sequences(
    n: int,
    steps: int = 20,
    size: int = 32,
    seed: int = 0,
    radius: float = 3.0,
    speed: tuple[float, float] = (10.0, 15.0),
    dt: float = 0.2,
):
    """A ball bouncing elastically in a square box (walls inset 2 px), as in the paper's
    box scene but drawn with numpy: images (n, T, size, size) in {0, 1} and the centres
    (n, T, 2) as (x, y) in pixels, x along the columns."""
    rng = np.random.default_rng(seed)
    lo, hi = 2.0 + radius, size - 2.0 - radius
    pos = np.clip(size / 2 + 10.0 * size / 32 * rng.standard_normal((n, 2)), lo, hi)
    angle = rng.uniform(0, 2 * np.pi, n)
    vel = rng.uniform(*speed, n)[:, None] * np.stack([np.cos(angle), np.sin(angle)], 1)
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    images = np.zeros((n, steps, size, size), np.float32)
    centres = np.zeros((n, steps, 2), np.float32)
    for t in range(steps):
        centres[:, t] = pos
        d2 = (xx[None] - pos[:, 0, None, None]) ** 2 + (yy[None] - pos[:, 1, None, None]) ** 2
        images[:, t] = d2 <= radius**2
        pos = pos + dt * vel
        for axis in range(2):
            below, above = pos[:, axis] < lo, pos[:, axis] > hi
            pos[below, axis] = 2 * lo - pos[below, axis]
            pos[above, axis] = 2 * hi - pos[above, axis]
            vel[below | above, axis] *= -1
    return images, centres


# A scaled-down box scene: 16 x 16 frames, 10 steps, a ball of radius 2.5 px moving about
# a pixel a frame. At this size a KVAE learns where the ball is in a few seconds on one
# core (32 x 32 frames need minutes before the decoder draws the ball at all).
SIZE, STEPS = 16, 10
TRAIN_CONFIG = KVAEConfig(
    frame_size=SIZE,
    filters=(16, 16),
    batch_size=16,
    num_epochs=6,
    kf_update_steps=2,
    init_lr=0.01,
    t_init_mask=3,
    t_steps_mask=5,
)


def box_data(n: int, seed: int):
    """The small box scene: images (n, 10, 16, 16) in [0, 1] and ball centres (n, 10, 2).

    Made by the studio's own simulator (kvae_studio.sim, the paper's box scene scaled to
    16 px, ball radius 5 reference units = 2.5 px); by the numpy generator above where
    the simulator cannot be imported (pymunk missing).
    """
    try:
        from kvae_studio.sim.scenes import scene_params
        from kvae_studio.sim.simulate import simulate
    except ImportError:
        return box_sequences(n, STEPS, SIZE, seed=seed, radius=2.5, speed=(5.0, 7.5))
    images, state = simulate(scene_params("box", size=SIZE, ball_radius=5.0), n, STEPS, seed=seed)
    return images, state[..., :2]


def lively(config: KVAEConfig, seed: int = 0, stir_b: bool = False) -> KVAE:
    """A KVAE whose dynamics network and regimes are far from their start values, so that
    alpha varies along a sequence and every A^(k), C^(k) matters (and B too, if `stir_b`).
    In training mode, as KVAE() starts."""
    torch.manual_seed(seed)
    model = KVAE(config)
    with torch.no_grad():
        for p in model.alpha_net.parameters():
            p.normal_(0, 0.8)
        model.A.add_(0.2 * torch.randn_like(model.A))
        model.C.normal_(0, 1.0)
        if stir_b:
            model.B.normal_(0, 0.5)
        model.a0.normal_(0, 1.0)
    return model


def poison(trainer, bad_calls) -> None:
    """Make trainer.model.elbo return a NaN loss on the given (0-based) calls."""
    from model.objective import ELBOTerms

    real, calls = trainer.model.elbo, [0]

    def elbo(*args, **kwargs):
        terms = real(*args, **kwargs)
        calls[0] += 1
        if calls[0] - 1 in bad_calls:
            return ELBOTerms(*terms[:-1], terms.elbo * float("nan"))
        return terms

    trainer.model.elbo = elbo

"""What a KVAE has learned of the dynamics, over many sequences: the computations behind
the studio's Dynamics view and `kvae-studio inspect` (the original release's
`img_alpha_nn`, `plot_alpha_grid`, `plot_kalman_transfers`, its `generate`, and joint
posterior samples it did not have).

Pure functions on a `model.kvae.KVAE`, torch tensors in and out, no I/O. They run without
gradients (torch.inference_mode) and hand back ordinary tensors, as `model.imputation`
does, so a caller may edit them in place. Nothing here knows the studio.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from model import lgssm, metrics
from model.checkpoint import finite_frames
from model.imputation import generate, impute
from model.kvae import KVAE


def _plain(value):
    """Ordinary tensors from inference tensors (inside tuples too), None left as it is."""
    if isinstance(value, Tensor):
        return value.clone()
    if isinstance(value, tuple):
        items = [_plain(v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _inference(fn):
    """Run fn under torch.inference_mode (no autograd bookkeeping: cheaper per operation
    than no_grad) and return ordinary tensors, which later in-place edits and autograd
    accept, unlike inference tensors."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with torch.inference_mode():
            result = fn(*args, **kwargs)
        return _plain(result)

    return wrapper


def _on_model(model: KVAE, t) -> Tensor:
    return torch.as_tensor(t).to(model.device, torch.float32)


# Regime weights.


@_inference
def regime_weights(model: KVAE, codes: Tensor) -> Tensor:
    """alpha (B, T, K) for codes (B, T, da) with every frame seen.

    The same weights as `model.kalman_pass(codes, ones).alpha`: when no frame is missing
    the network's inputs a_0, a_1, ..., a_{T-1} are all known in advance (it is fed the
    codes, never the filter's predictions), so it runs as one `sequence` call and the
    filter, which the weights do not depend on, is not run at all: on many sequences this
    is a fraction of the cost of a Kalman pass.
    """
    codes = _on_model(model, codes)
    inputs = torch.cat([model.a0.expand(codes.shape[0], 1, -1), codes[:, :-1]], 1)
    alpha, _ = model.alpha_net.sequence(inputs)
    return alpha


def grid_points(model: KVAE, xs: Tensor, ys: Tensor) -> Tensor:
    """The codes (ny * nx, da) of the grid, row by row: point i * nx + j is (xs[j], ys[i])
    in the code's dimensions 0 and 1, its other dimensions 0 (the picture is a slice of
    a-space through the origin when dim_a > 2). With dim_a = 1 the ys are ignored: the
    map is the same on every row."""
    xs, ys = _on_model(model, xs), _on_model(model, ys)
    da = model.config.dim_a
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    points = xs.new_zeros(gx.numel(), da)
    points[:, 0] = gx.reshape(-1)
    if da > 1:
        points[:, 1] = gy.reshape(-1)
    return points


@_inference
def alpha_grid(model: KVAE, xs: Tensor, ys: Tensor, history: Tensor | None = None) -> Tensor:
    """alpha (K, ny, nx): the dynamics network's weights with the grid point (xs[j], ys[i])
    as its newest input (`grid_points`: the code's dims 0 and 1, the others 0).

    history (h, da): the inputs the network consumed before the grid point, oldest first
    (`history_at` builds them for a step of a sequence). The network's state after them
    is computed once and copied to every grid point, and each point is one more `step`:
    for the LSTM the state is (h, c); for an MLP with fifo_size > 1 the FIFO of the last
    inputs. None or empty: no earlier input, the grid point is the network's first input
    (for the LSTM a zero state; an MLP's FIFO holds the point alone, as `sequence` pads).
    For an MLP with fifo_size 1 the history does not matter: the map is the network on the
    grid, the original's `img_alpha_nn`.
    """
    net = model.alpha_net
    points = grid_points(model, xs, ys)
    n = points.shape[0]
    ny, nx = int(torch.as_tensor(ys).numel()), int(torch.as_tensor(xs).numel())
    if history is None or len(history) == 0:
        state = net.initial_state(points)
    else:
        _, _, state = net.run(_on_model(model, history)[None])
        if isinstance(state, tuple):  # the LSTM's (h, c), batch 1
            state = tuple(s.expand(n, -1).contiguous() for s in state)
        else:  # an MLP's FIFO (1, fifo, da)
            state = state.expand(n, -1, -1)
    alpha, _, _ = net.step(points, state)
    return alpha.T.reshape(-1, ny, nx)


def history_at(model: KVAE, codes: Tensor, step: int) -> Tensor:
    """The `alpha_grid` history for the weights of frame `step` = s of one sequence.

    codes (T, da). alpha for frame s is computed from the inputs a_0, code_0, ...,
    code_{s-1}; the grid point replaces the last of them, code_{s-1}, so the history is
    a_0 and the codes of frames 0 .. s-2: (s, da). For s = 0 the point stands in for a_0
    itself and the history is empty. 0 <= s <= T (s = T: the weights for the frame after
    the sequence). (`AlphaMap.step` names the frame whose code the point replaces: s - 1.)
    """
    codes = _on_model(model, codes)
    if not 0 <= step <= codes.shape[0]:
        raise ValueError(f"step must lie in 0..{codes.shape[0]}, got {step}")
    with torch.inference_mode():
        history = torch.cat([model.a0.detach()[None], codes[: max(step - 1, 0)]], 0)[:step]
    return history.clone()


# The regimes' flow in a-space.


@_inference
def regime_flow(
    model: KVAE, z: Tensor, positions: Tensor, edges_x: Tensor, edges_y: Tensor
) -> tuple[Tensor, Tensor]:
    """Each regime's mean one-step displacement in a-space, per cell of a grid.

    z (M, dz): states (e.g. smoothed ones); positions (M, da): the codes where they sit,
    binned by their dims 0 and 1 into the cells [edges_x[j], edges_x[j+1]) x [edges_y[i],
    edges_y[i+1]) (the last edge of each axis inclusive, as numpy.histogram2d; codes
    outside are left out; with dim_a = 1 every state is in row 0). Regime k alone would
    move the code C_k z to C_k A_k z; the displacement C_k (A_k - I) z shows where it
    pushes the object from there, which is how the regimes divide the work (free flight,
    a bounce at each wall). The control term B_k u is left out (u is zero unless learn_u).

    Returns flow (K, ny, nx, da), the mean displacement per cell (NaN where no state
    falls), and counts (ny, nx), the states per cell.
    """
    z = _on_model(model, z)
    positions = _on_model(model, positions)
    ex, ey = _on_model(model, edges_x), _on_model(model, edges_y)
    nx, ny = ex.numel() - 1, ey.numel() - 1
    eye = torch.eye(model.config.dim_z, device=z.device)
    moves = model.C @ (model.A - eye)  # (K, da, dz)
    disp = torch.einsum("kaz,mz->kma", moves, z)  # (K, M, da)
    ix = _cell(positions[:, 0], ex)
    iy = _cell(positions[:, 1], ey) if positions.shape[1] > 1 else torch.zeros_like(ix)
    inside = (ix >= 0) & (iy >= 0)
    cell = (iy * nx + ix)[inside]
    counts = torch.bincount(cell, minlength=ny * nx).to(z.dtype)
    sums = disp.new_zeros(disp.shape[0], ny * nx, disp.shape[2])
    sums.index_add_(1, cell, disp[:, inside])
    flow = sums / counts[None, :, None]  # 0 / 0 = NaN where empty
    return flow.view(-1, ny, nx, disp.shape[2]), counts.view(ny, nx)


def _cell(values: Tensor, edges: Tensor) -> Tensor:
    """Index of the cell of each value, -1 outside [edges[0], edges[-1]]."""
    index = torch.searchsorted(edges.contiguous(), values.contiguous(), right=True) - 1
    index = torch.where(values == edges[-1], edges.numel() - 2, index)
    outside = (values < edges[0]) | (values > edges[-1]) | values.isnan()
    return torch.where(outside, -1, index)


# Joint posterior samples.


def _cholesky(m: Tensor) -> Tensor:
    """A square root L (L L^T = m) of each symmetric positive semi-definite matrix of m.

    Cholesky of the symmetrised matrix; a matrix that float32 rounding left slightly
    indefinite gets a jitter on its diagonal, growing from machine precision (times its
    mean diagonal) until Cholesky succeeds; should even that fail, a square root from the
    eigendecomposition with the negative eigenvalues set to 0.
    """
    m = lgssm.symmetrise(m)
    L, info = torch.linalg.cholesky_ex(m)
    if not bool((info > 0).any()):
        return L
    eye = torch.eye(m.shape[-1], dtype=m.dtype, device=m.device)
    scale = m.diagonal(dim1=-2, dim2=-1).abs().mean(-1).clamp_min(torch.finfo(m.dtype).tiny)
    eps = torch.finfo(m.dtype).eps
    for power in range(0, 10, 2):
        bad = info > 0
        jitter = (eps * 10.0**power * scale)[..., None, None] * eye
        L_try, info_try = torch.linalg.cholesky_ex(m + jitter)
        L = torch.where(bad[..., None, None], L_try, L)
        info = torch.where(bad, info_try, info)
        if not bool((info > 0).any()):
            return L
    w, V = torch.linalg.eigh(m)
    root = V * w.clamp_min(0).sqrt()[..., None, :]
    return torch.where((info > 0)[..., None, None], root, L)


@_inference
def ffbs(
    filtered: lgssm.FilteredPosterior,
    A: Tensor,
    samples: int,
    generator: torch.Generator | None = None,
    offsets: Tensor | None = None,
    Q: Tensor | None = None,
) -> Tensor:
    """Joint samples (S, B, T, dz) of z_{1:T} from p(z_{1:T} | a_{1:T}): forward
    filtering, backward sampling.

    The smoother's marginals p(z_t | a) say how uncertain each state is, but independent
    draws from them (what the ELBO uses) make jagged trajectories: consecutive states are
    strongly correlated under the posterior. FFBS draws whole trajectories: z_T from the
    last filtered marginal N(m_{T|T}, P_{T|T}), then backwards
        z_t | z_{t+1} ~ N(m_{t|t} + J_t (z_{t+1} - m_{t+1|t}),  P_{t|t} - J_t P_{t+1|t} J_t^T),
        J_t = P_{t|t} A_{t+1}^T P_{t+1|t}^{-1},
    where m_{t+1|t} = A_{t+1} m_{t|t} + b_{t+1} already holds any control offset b.

    filtered: the forward pass (B, T, ...); A (B, T, dz, dz), A[:, t] mapping z_{t-1} to
    z_t (A[:, 0] unused). offsets (B, T, dz) and Q (dz, dz): when Q is given the one-step
    predictions are recomputed as A m_{t|t} + b and A P_{t|t} A^T + Q instead of taken from
    `filtered` (the same numbers for a pass of `model.lgssm`). Solves, never inverses;
    covariances symmetrised, square roots by `_cholesky`. In the inputs' dtype.
    """
    pm, pc, fm, fc = filtered
    batch, steps, dz = fm.shape
    if Q is not None and steps > 1:
        A_next = A[:, 1:]
        pc = torch.cat([pc[:, :1], lgssm.symmetrise(A_next @ fc[:, :-1] @ A_next.mT) + Q], 1)
        pred = (A_next @ fm[:, :-1, :, None]).squeeze(-1)
        if offsets is not None:
            pred = pred + offsets[:, 1:]
        pm = torch.cat([pm[:, :1], pred], 1)
    noise = torch.randn(
        (steps, samples, batch, dz), generator=generator, dtype=fm.dtype, device=fm.device
    )
    root_last = _cholesky(fc[:, -1])  # (B, dz, dz)
    z = fm[:, -1] + (root_last @ noise[-1][..., None]).squeeze(-1)  # (S, B, dz)
    out = [z]
    if steps > 1:
        # G_t = J_t^T = P_{t+1|t}^{-1} A_{t+1} P_{t|t}, for every t in one batched solve
        AP = A[:, 1:] @ fc[:, :-1]
        G = torch.linalg.solve(pc[:, 1:], AP)
        J = G.mT
        # P_{t|t} - J P_{t+1|t} J^T = P_{t|t} - (A P_{t|t})^T G
        roots = _cholesky(fc[:, :-1] - AP.mT @ G)  # (B, T-1, dz, dz)
        for t in range(steps - 2, -1, -1):
            mean = fm[:, t] + (J[:, t] @ (z - pm[:, t + 1])[..., None]).squeeze(-1)
            z = mean + (roots[:, t] @ noise[t][..., None]).squeeze(-1)
            out.append(z)
        out.reverse()
    return torch.stack(out, 2)


class PosteriorDraws(NamedTuple):
    """Joint posterior samples of one sequence and what they look like (tensors)."""

    z: Tensor  # (S, T, dz)
    smoothed_mean: Tensor  # (T, dz)
    smoothed_cov: Tensor  # (T, dz, dz)
    object_probability: Tensor  # (T, H, W): share of samples whose decoded pixel > 0.5
    frames: Tensor  # (few, T, H, W): the first few samples decoded


@_inference
def posterior_samples(
    model: KVAE,
    x: Tensor,
    frame_mask: Tensor | None = None,
    pixel_mask: Tensor | None = None,
    samples: int = 64,
    generator: torch.Generator | None = None,
    few: int = 8,
) -> PosteriorDraws:
    """Samples of what might have happened in one sequence x (1, T, H, W) under a mask.

    frame_mask (1, T) or (T,), 1 = frame seen; pixel_mask (1, T, H, W), 1 = pixel seen:
    `model.imputation.impute` treats them as everywhere in the studio (partly painted
    frames become Laplace pseudo-observations). Its Kalman pass is then sampled jointly
    (`ffbs`), each sampled state decoded through a_t = C_t z_t (the mean emission, no
    delta noise: the decoder shows where each trajectory puts the object). Where the
    samples agree the object probability is 0 or 1; where they spread it is a faint
    cloud, which is what the smoothed mean's single frame cannot show.
    """
    mask = None if frame_mask is None else _on_model(model, frame_mask).reshape(1, -1)
    pixels = None if pixel_mask is None else _on_model(model, pixel_mask)
    if pixels is not None and pixels.dim() == 3:
        pixels = pixels[None]
    imp = impute(model, x, mask, pixels)
    kp = imp.kalman
    z = ffbs(kp.filtered, kp.A, samples, generator)[:, 0]  # (S, T, dz)
    a = (kp.C[0] @ z[..., None]).squeeze(-1)  # (S, T, da)
    decoded = model.decode(a)
    return PosteriorDraws(
        z=z,
        smoothed_mean=kp.smoothed_mean[0],
        smoothed_cov=kp.smoothed_cov[0],
        object_probability=(decoded > 0.5).float().mean(0),
        frames=decoded[:few],
    )


# Errors over time and free roll-outs.


def _truth(model: KVAE, images: np.ndarray) -> np.ndarray:
    return images > 0 if model.config.output == "bernoulli" else images


def rollout_start(mask: np.ndarray, t_init: int) -> int:
    """Frames a roll-out starts from under mask (N, T): the first t_init (the paper's
    and `model.evaluation`'s choice), fewer if some sequence hides one of them (a roll-out
    must not see a hidden frame), but at least 1."""
    seen = np.asarray(mask) != 0
    leading = seen.shape[1] if seen.all() else int(np.argmin(seen, axis=1)[~seen.all(1)].min())
    return max(1, min(t_init, seen.shape[1], leading))


def error_over_time(
    model: KVAE, images: np.ndarray, mask: np.ndarray, batch_size: int = 100
) -> dict[str, np.ndarray]:
    """Hamming distance per sequence and step: how the error grows inside a gap.

    images (N, T, H, W); mask (T,) or (N, T), 1 = observed. For each hidden frame, the
    fraction of pixels where the binarised truth and the binarised frame differ
    (`model.metrics.hamming` on that one frame), for the roll-out from the first frames
    ("generated", `rollout_start`), the filter and the smoother; NaN at observed steps.
    Averaged over the hidden frames these give `model.metrics.hamming`, i.e. the figures
    of `model.evaluation` (studio protocol: the encoder's means, whole batches).
    Returns {"generated", "filtered", "smoothed": (N, T), "baseline": (N,) the per
    sequence `model.metrics.baseline_hamming`}, float64.
    """
    n, steps = images.shape[:2]
    mask = np.broadcast_to(np.asarray(mask, dtype=np.float32), (n, steps))
    n_init = rollout_start(mask, model.config.t_init_mask)
    truth = metrics.binarise(_truth(model, images))
    out = {k: np.full((n, steps), np.nan) for k in ("generated", "filtered", "smoothed")}
    for first in range(0, n, batch_size):
        sl = slice(first, min(n, first + batch_size))
        x = torch.as_tensor(images[sl], device=model.device)
        m = torch.as_tensor(mask[sl].copy(), device=model.device)
        hidden = mask[sl] == 0
        decoded = torch.as_tensor(hidden, device=model.device)  # the only frames scored
        imp = impute(model, x, m, decode_only=decoded)
        made = {"filtered": imp.x_filtered, "smoothed": imp.x_smoothed}
        made["generated"] = generate(model, x, n_init, decode_only=decoded).x
        for kind, frames in made.items():
            frames = finite_frames(frames.cpu().numpy())  # NaN would read as dark pixels
            wrong = (metrics.binarise(frames) != truth[sl]).mean(axis=(2, 3))
            out[kind][sl] = np.where(hidden, wrong, np.nan)
    t = _truth(model, images)
    out["baseline"] = np.array([metrics.baseline_hamming(t[i : i + 1]) for i in range(n)])
    return out


class Rollouts(NamedTuple):
    """Deterministic and stochastic roll-outs of the same sequences (tensors)."""

    mean_codes: Tensor  # (n, steps, da)
    mean_frames: Tensor  # (n, steps, H, W)
    sampled_codes: Tensor
    sampled_frames: Tensor


def imagination(model: KVAE, images: np.ndarray, n_init: int, steps: int, seed: int) -> Rollouts:
    """What the model imagines after seeing the first n_init frames of each sequence
    (n, >= n_init, H, W): the noise-free roll-out of `steps` frames (`generate`), and one
    with the model's transition and emission noise (a torch.Generator seeded with `seed`,
    so the same seed gives the same picture). Frames before n_init are the smoothed
    reconstruction of what was seen."""
    x = torch.as_tensor(images, device=model.device)
    mean = generate(model, x, n_init, steps=steps)
    gen = torch.Generator(device=model.device).manual_seed(seed)
    sampled = generate(model, x, n_init, steps=steps, stochastic=True, generator=gen)
    return Rollouts(mean.a, mean.x, sampled.a, sampled.x)

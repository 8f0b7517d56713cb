"""What the Dynamics tab and `kvae-studio inspect` show of a model's learned dynamics
across a data set: the types, torch-free, so that the window can hold them.

The original release drew these over many sequences (`kvae/utils/plotting.py`:
`plot_alpha_grid`, `plot_ball_trajectories`, `plot_trajectory_uncertainty`,
`plot_kalman_transfers`; `KalmanVariationalAutoencoder.img_alpha_nn`, `generate`). The
computations run in a model process (`services.dynamics_run`); each result is a frozen
dataclass of numpy arrays that travels back over a pipe.

Shapes: N sequences, T steps, K regimes, dim_a = da, dim_z = dz, frames H x W.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kvae_studio.services.model_ref import ModelRef

IMAGINATION_SEQUENCES = 16  # the original's plots show 16 sequences
IMAGINATION_STEPS = 80  # the original's n_steps_gen
POSTERIOR_SAMPLES = 64  # S, the Explore samples view's default
REGIME_CHUNK = 100  # sequences per streamed piece of the regime map


@dataclass(frozen=True)
class Source:
    """What the tab looks at: a model (by reference, no weights travel) and the first
    `sequences` sequences of a data set file (all of them when None)."""

    model: ModelRef
    data_path: str
    sequences: int | None = None


@dataclass(frozen=True)
class SourceSummary:
    """What the tab needs to lay itself out before the first result."""

    sequences: int
    steps: int
    regimes: int
    recurrent: bool  # the alpha map has a state (LSTM, or an MLP over several codes)
    frame_size: int


@dataclass(frozen=True)
class RegimeChunk:
    """Codes and regime weights of sequences first .. first + n - 1 of the data set.

    codes (n, T, da): the encoder's means; alpha (n, T, K): the dynamics network's
    weights given those codes with every frame seen (as the model's own filter has them).
    """

    first: int
    total: int  # sequences in the whole data set being streamed
    codes: np.ndarray
    alpha: np.ndarray


@dataclass(frozen=True)
class RegimeMatrices:
    """The K regimes: A (K, dz, dz), C (K, da, dz), their eigenvalues (K, dz) complex."""

    A: np.ndarray
    C: np.ndarray
    eigenvalues: np.ndarray


@dataclass(frozen=True)
class AlphaMap:
    """alpha_k over a grid of a-space, one map per regime: alpha (K, ny, nx) at the grid
    points xs (nx,) x ys (ny,), the code's first and second dimensions.

    For an MLP network (alpha_rnn = False) the map is the network on the grid (the
    original's `img_alpha_nn`); for the LSTM, the network's state is the one it has
    reached in `sequence` after the codes before `step`, and the grid point stands in
    for the code at `step` (None for the MLP: no state).
    """

    xs: np.ndarray
    ys: np.ndarray
    alpha: np.ndarray
    sequence: int | None = None
    step: int | None = None


@dataclass(frozen=True)
class RegimeFlow:
    """The mean one-step displacement each regime induces in a-space, on a grid of cells.

    For each smoothed state z_t of the data set, regime k moves its code from C_k z_t to
    C_k A_k z_t; flow (K, ny, nx, da) is the mean of those displacements over the states
    whose code falls in each cell (NaN where none does), counts (ny, nx) how many did.
    xs (nx,), ys (ny,): the cells' centres.
    """

    xs: np.ndarray
    ys: np.ndarray
    flow: np.ndarray
    counts: np.ndarray


@dataclass(frozen=True)
class Imagination:
    """Free-running generations from the first `n_init` frames of some sequences.

    mean_codes (n, steps, da) and mean_frames (n, steps, H, W): the deterministic
    roll-outs (noise-free); sampled_codes and sampled_frames: one roll-out with the
    model's noise per sequence, the same shapes. truth_codes (n, T, da): the encoder's
    codes of the real sequence, for comparison where it overlaps.
    """

    sequences: np.ndarray  # (n,) indices into the data set
    n_init: int
    mean_codes: np.ndarray
    mean_frames: np.ndarray
    sampled_codes: np.ndarray
    sampled_frames: np.ndarray
    truth_codes: np.ndarray


ERROR_KINDS = ("generated", "filtered", "smoothed", "baseline")


@dataclass(frozen=True)
class ErrorOverTime:
    """Hamming distance per time step over the data set under one mask.

    mask: "planning" or "random"; value: hidden steps or drop probability. For each kind
    of `ERROR_KINDS`, median, lower_quartile and upper_quartile (T,) across sequences,
    NaN at steps that no sequence has hidden (the baseline, a per-sequence figure, is
    the same at every step).
    """

    mask: str
    value: float
    steps: np.ndarray  # (T,) 0-based
    median: dict[str, np.ndarray]
    lower_quartile: dict[str, np.ndarray]
    upper_quartile: dict[str, np.ndarray]


@dataclass(frozen=True)
class PosteriorSamples:
    """Joint samples of z_{1:T} from the smoothing posterior (forward filtering,
    backward sampling) for one sequence and mask, decoded.

    z (S, T, dz); smoothed_mean (T, dz) and smoothed_cov (T, dz, dz), the smoother's
    marginals they are drawn from; object_probability (T, H, W): the fraction of samples
    whose decoded frame shows the object at each pixel; frames (few, T, H, W): a few of
    the decoded samples.
    """

    z: np.ndarray
    smoothed_mean: np.ndarray
    smoothed_cov: np.ndarray
    object_probability: np.ndarray
    frames: np.ndarray

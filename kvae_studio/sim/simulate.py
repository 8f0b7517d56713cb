"""Make data sets: launch states from a seed, physics in batches, frames drawn in chunks.

The physics runs `BATCH` sequences at a time; their frames are drawn and handed over in
chunks of whole sequences that fit `FRAME_BUDGET`, so that a data set of large frames is
made in bounded memory (256 sequences of 20 frames of 1024 x 1024 would be 21 GB at once).
`memory_needed` counts what making a data set holds, for a check before any work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from kvae_studio.sim.render import render_frames
from kvae_studio.sim.scenes import PongParams, SceneParams, scene_params

Progress = Callable[[int, int], "bool | None"]
"""``progress(done, total)``: called after each chunk of sequences, and once at the start.

Return False (or raise any exception) to stop: ``simulate`` then raises
``SimulationCancelled`` (or lets your exception through). Returning None or True goes on.
"""

BATCH = 256
"""Sequences simulated together in one pymunk space."""

FRAME_BUDGET = 128 * 2**20
"""Bytes of frames drawn at once (float32): a batch's frames come in chunks of as many whole
sequences as fit, one sequence when a single one is larger."""

LAUNCH_BYTES = 1024
"""Bytes per sequence of the launch draws, generously: the uniforms, normals, positions
and velocities (float64), and the projection into the start region (per corner)."""


class SimulationCancelled(Exception):
    """The progress callback asked the simulation to stop."""


@dataclass(frozen=True)
class Trajectories:
    """The motion of a data set, in pixels of the output frame.

    ``state`` (N, T, 4) float32 holds x (column), y (row), vx, vy of the ball at each frame;
    ``paddles`` (N, T, 2) float32 the centre rows of pong's left and right paddles, else None.
    """

    state: np.ndarray
    paddles: np.ndarray | None


def launch_states(params: SceneParams, sequences: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Start positions and velocities (N, 2) each, in reference units.

    Positions are ``start + start_spread * N(0, 1)`` per axis, projected into the scene's
    start region (the original clipped them to the box's interior); speeds and angles are
    uniform in their ranges. Four uniform numbers are drawn per sequence, in order, so the
    launch of sequence i does not depend on how many sequences are made.
    """
    u = np.random.default_rng(seed).random((sequences, 4))
    radius = np.sqrt(-2.0 * np.log1p(-u[:, 0]))  # Box-Muller: two normals from two uniforms
    phase = 2.0 * np.pi * u[:, 1]
    normal = np.stack([radius * np.cos(phase), radius * np.sin(phase)], axis=1)
    start = np.array([params.start_x, params.start_y]) + params.start_spread * normal
    start = project_into_polygon(start, params.start_region())
    angle = np.deg2rad(params.angle_min + (params.angle_max - params.angle_min) * u[:, 2])
    speed = params.speed_min + (params.speed_max - params.speed_min) * u[:, 3]
    velocity = speed[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return start, velocity


def chunk_sequences(params: SceneParams, steps: int) -> int:
    """How many sequences' frames are drawn at once (`FRAME_BUDGET`)."""
    per_sequence = steps * params.size * params.size * 4
    return max(1, min(BATCH, FRAME_BUDGET // per_sequence))


def memory_needed(params: SceneParams, sequences: int, steps: int) -> int:
    """Bytes that `iter_batches` holds at its peak while making `sequences` sequences: the
    launch draws of every sequence, one batch's motion (float64, and the float32 state it
    yields), and one chunk of frames. What the caller keeps (the whole data set's state,
    copies of the frames) is its own to add."""
    batch = min(BATCH, sequences)
    motion = batch * steps * (4 * 8 + 2 * 8 + 4 * 4 + 2 * 4)  # ball, paddles, as float32
    chunk = min(chunk_sequences(params, steps), sequences)
    frames = chunk * steps * params.size * params.size * 4
    return sequences * LAUNCH_BYTES + motion + frames


@dataclass(frozen=True)
class Batch:
    """Consecutive sequences ``start .. start + len(state)`` of a data set being made.

    ``images`` (B, T, H, W) and ``state`` (B, T, 4) are float32 in the format of ``simulate``;
    ``paddles`` (B, T, 2) holds pong's paddle centre rows in pixels (else None).
    """

    start: int
    images: np.ndarray
    state: np.ndarray
    paddles: np.ndarray | None


def iter_batches(
    scene: str | SceneParams,
    sequences: int,
    steps: int = 20,
    seed: int = 0,
    progress: Progress | None = None,
    *,
    render: bool = True,
    out: np.ndarray | None = None,
    legacy: bool = False,
    marker: bool = False,
) -> Iterator[Batch]:
    """Make a data set chunk by chunk, for streaming to disk: the physics of ``BATCH``
    sequences at a time, their frames drawn ``chunk_sequences`` sequences at a time.

    The frames of a chunk are drawn into a buffer that the next chunk reuses: copy what you
    keep, or pass ``out`` (N, T, H, W) float32 to have every chunk drawn into its own slice
    of it. With ``render=False`` only the motion is computed and ``images`` is empty
    (B, T, 0, 0). The concatenated batches equal ``simulate``'s result. ``legacy=True``
    steps the physics as the public release did (see ``BatchPhysics``); ``marker=True``
    draws its rotation marker on the ball (see ``render``). Neither changes the motion
    of the other: the same seed gives the same ``state`` with or without the marker.
    """
    from kvae_studio.sim.physics import BatchPhysics  # pymunk only when simulating

    params = scene_params(scene)
    if sequences < 1 or steps < 1:
        raise ValueError(f"need at least one sequence and one step, got {sequences} x {steps}")
    start, velocity = launch_states(params, sequences, seed)
    capacity = min(BATCH, sequences)
    physics = BatchPhysics(params, capacity, legacy=legacy)
    n = params.size if render else 0
    if out is not None and out.shape != (sequences, steps, n, n):
        raise ValueError(f"out has shape {out.shape}, expected {(sequences, steps, n, n)}")
    rows = min(chunk_sequences(params, steps), capacity) if render else capacity
    buffer = np.empty((rows, steps, n, n), dtype=np.float32) if out is None else None
    _report(progress, 0, sequences)
    for lo in range(0, sequences, BATCH):
        hi = min(lo + BATCH, sequences)
        motion = physics.run(start[lo:hi], velocity[lo:hi], steps)
        k = params.scale
        state = (motion.ball * k).astype(np.float32)
        paddles = None if motion.paddles is None else (motion.paddles * k).astype(np.float32)
        del motion
        for a in range(lo, hi, rows):
            b = min(a + rows, hi)
            part = slice(a - lo, b - lo)
            chunk_paddles = None if paddles is None else paddles[part]
            frames = buffer[: b - a] if out is None else out[a:b]
            if render:
                render_frames(params, state[part], chunk_paddles, out=frames, marker=marker)
            yield Batch(start=a, images=frames, state=state[part], paddles=chunk_paddles)
            _report(progress, b, sequences)


def simulate(
    scene: str | SceneParams,
    sequences: int,
    steps: int = 20,
    seed: int = 0,
    progress: Progress | None = None,
    legacy: bool = False,
    marker: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Simulate and draw a data set: ``(images, state)``.

    ``images`` is (N, T, H, W) float32 in [0, 1], ``state`` (N, T, 4) float32 with x, y, vx,
    vy in pixels (x = column, y = row; None for scenes without a single ball, of which there
    are none yet). Same scene, parameters and seed give the same arrays, bit for bit.
    ``legacy=True``: the public release's physics (one step per frame, walls of zero width);
    ``marker=True``: its rotation marker drawn on the ball.
    """
    params = scene_params(scene)
    n = params.size
    images = np.empty((sequences, steps, n, n), dtype=np.float32)
    state = np.empty((sequences, steps, 4), dtype=np.float32)
    batches = iter_batches(
        params, sequences, steps, seed, progress, out=images, legacy=legacy, marker=marker
    )
    for batch in batches:
        state[batch.start : batch.start + len(batch.state)] = batch.state
    return images, state


def simulate_trajectories(
    scene: str | SceneParams,
    sequences: int,
    steps: int = 20,
    seed: int = 0,
    progress: Progress | None = None,
) -> Trajectories:
    """The motion of the sequences ``simulate`` would draw, without drawing them."""
    params = scene_params(scene)
    state = np.empty((sequences, steps, 4), dtype=np.float32)
    pong = isinstance(params, PongParams)
    paddles = np.empty((sequences, steps, 2), dtype=np.float32) if pong else None
    for batch in iter_batches(params, sequences, steps, seed, progress, render=False):
        stop = batch.start + len(batch.state)
        state[batch.start : stop] = batch.state
        if paddles is not None:
            paddles[batch.start : stop] = batch.paddles
    return Trajectories(state=state, paddles=paddles)


def project_into_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """The nearest point of a convex polygon (V, 2) to each of ``points`` (N, 2)."""
    points = np.asarray(points, dtype=np.float64)
    a = polygon
    b = np.roll(polygon, -1, axis=0)
    ab = b - a  # (V, 2)
    area2 = np.sum(a[:, 0] * b[:, 1] - b[:, 0] * a[:, 1])
    rel = points[:, None, :] - a[None]  # (N, V, 2)
    cross = ab[None, :, 0] * rel[..., 1] - ab[None, :, 1] * rel[..., 0]
    inside = (np.sign(area2) * cross >= 0).all(axis=1)
    t = np.clip((rel * ab[None]).sum(-1) / (ab * ab).sum(-1)[None], 0.0, 1.0)
    nearest = a[None] + t[..., None] * ab[None]  # (N, V, 2) nearest point on each edge
    dist = ((points[:, None, :] - nearest) ** 2).sum(-1)
    best = nearest[np.arange(len(points)), dist.argmin(axis=1)]
    return np.where(inside[:, None], points, best)


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None and progress(done, total) is False:
        raise SimulationCancelled(f"cancelled after {done} of {total} sequences")

"""Physics of a batch of sequences with pymunk, one ball per sequence.

All the sequences of a batch share one pymunk space: each sequence gets its own copy of the
walls, stacked far apart along y so that no two sequences ever meet, and one ``space.step``
advances them all. That keeps the per-step Python overhead independent of the batch size.

Everything here is in reference units (the 32-pixel frame); see ``scenes``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pymunk

from kvae_studio.sim.scenes import REFERENCE_SIZE, WALL_HALF_WIDTH, PongParams, SceneParams

_TILE = 8.0 * REFERENCE_SIZE
"""Vertical distance between two sequences' copies of the scene.

Copies are stacked along y because pong's floor and roof run far out sideways; eight frames
apart, no ball ever comes near another copy's walls.
"""


@dataclass(frozen=True)
class Motion:
    """What the physics produced for a batch, in reference units.

    ``ball`` (N, T, 4) holds x, y, vx, vy at each frame time; ``paddles`` (N, T, 2) the centre
    rows of the left and right paddles (pong only, else None).
    """

    ball: np.ndarray
    paddles: np.ndarray | None


class BatchPhysics:
    """A pymunk space holding ``capacity`` copies of a scene's walls, reused batch after batch.

    ``run`` launches one ball per copy, steps them all together and removes them again.

    ``legacy=True`` reproduces the public release's generator, to make data like the
    paper's files: one pymunk step of ``dt`` per frame and walls of zero width, so that the
    ball overlaps a wall at most bounces (and, fast enough, crosses it). Not for new data.
    """

    def __init__(self, params: SceneParams, capacity: int, legacy: bool = False):
        if legacy and isinstance(params, PongParams):
            raise ValueError("legacy physics is for the scenes with fixed walls, not pong")
        self.params = params
        self.capacity = capacity
        self.legacy = legacy
        space = pymunk.Space()
        space.gravity = params.gravity
        # Two walls hit at once (a polygon's corner) need a converged solver to keep the
        # speed: pymunk's default 10 iterations lose up to 2% there, 60 lose < 1e-6. It costs
        # nothing measurable, since contacts are rare.
        space.iterations = 60
        radius = params.collision_radius(WALL_HALF_WIDTH)
        segments = params.wall_segments()
        if legacy:
            # The public release: zero-width walls on the drawn wall pixels' top-left
            # corner lines (pymunk's coordinates there were pygame's pixel corners).
            radius, segments = 0.0, segments - 0.5
        walls = []
        for j in range(capacity):
            for a, b in segments + np.array([0.0, j * _TILE]):
                wall = pymunk.Segment(space.static_body, tuple(a), tuple(b), radius)
                wall.elasticity = params.wall_elasticity
                walls.append(wall)
        space.add(*walls)
        self.paddles = _Paddles(params, space, capacity) if isinstance(params, PongParams) else None
        # Uniform small objects: a spatial hash beats pymunk's default tree here; cells of
        # two ball diameters measured fastest (2x to 4x faster than cells of one radius).
        space.use_spatial_hash(6.0 * params.ball_radius, max(1000, 10 * len(walls)))
        self.space = space

    def run(self, positions: np.ndarray, velocities: np.ndarray, steps: int) -> Motion:
        """Simulate ``len(positions)`` (at most ``capacity``) sequences of ``steps`` frames.

        Frame 0 is the launch state itself; each later frame is ``dt`` further on, reached in
        ``physics_substeps()`` steps so that the ball never goes through a wall.
        """
        p = self.params
        n = len(positions)
        if n > self.capacity:
            raise ValueError(f"batch of {n} exceeds capacity {self.capacity}")
        substeps = 1 if self.legacy else p.physics_substeps()
        h = p.dt / substeps
        # pymunk moves a body with the velocity of the previous step, then adds gravity: its
        # stored velocity runs half a step of gravity ahead of the true one. Launching with
        # that half kick makes free flight exact (leapfrog); it is taken off when reading.
        # (The legacy generator launched without it.)
        kick = np.zeros(2) if self.legacy else np.array(p.gravity) * (h / 2.0)
        balls = []
        shapes = []
        for j in range(n):
            body = pymunk.Body(1.0, math.inf)  # infinite moment: the ball never spins
            body.position = (float(positions[j, 0]), float(positions[j, 1]) + j * _TILE)
            body.velocity = (float(velocities[j, 0] + kick[0]), float(velocities[j, 1] + kick[1]))
            circle = pymunk.Circle(body, p.ball_radius)
            circle.elasticity = p.ball_elasticity
            balls.append(body)
            shapes += [body, circle]
        self.space.add(*shapes)
        if self.paddles:
            self.paddles.reset()

        ball = np.empty((n, steps, 4))
        paddle_rows = np.empty((n, steps, 2)) if self.paddles else None
        tile = np.arange(n) * _TILE
        try:
            for t in range(steps):
                ball[:, t] = [(*b.position, *b.velocity) for b in balls]
                ball[:, t, 1] -= tile
                ball[:, t, 2:] -= kick
                if self.paddles:
                    paddle_rows[:, t] = self.paddles.follow(ball[:, t, 1])[:n]
                for _ in range(substeps):
                    self.space.step(h)
        finally:
            self.space.remove(*shapes)
        return Motion(ball=ball, paddles=paddle_rows)


class _Paddles:
    """Pong's paddles: kinematic boxes that move towards the ball's row once per frame.

    As in the original, a paddle moves by ``paddle_speed`` when the ball is more than half
    that away from its centre. Unlike the original, which teleported the paddle, it glides
    there during the frame, so the ball meets a moving wall rather than one appearing on it.
    """

    def __init__(self, params: PongParams, space: pymunk.Space, capacity: int):
        self.params = params
        self.capacity = capacity
        self.lo, self.hi = params.paddle_centre_limits()
        self.start = params.paddle_start()
        size = (params.paddle_width, params.paddle_length)  # the drawn rectangle
        rounding = params.collision_radius(0.0)  # its corners rounded by the drawing margin
        self.bodies = []
        for _ in range(capacity):
            for _x in params.paddle_x():
                body = pymunk.Body(body_type=pymunk.Body.KINEMATIC)
                box = pymunk.Poly.create_box(body, size, radius=rounding)
                box.elasticity = params.wall_elasticity
                space.add(body, box)
                self.bodies.append(body)
        self.reset()

    def reset(self) -> None:
        """Every paddle back to the middle, at rest."""
        self.centre = np.full((self.capacity, 2), self.start)
        self.velocity = np.zeros(2 * self.capacity)
        rows = (self.centre + np.arange(self.capacity)[:, None] * _TILE).ravel()
        xs = self.params.paddle_x() * self.capacity
        for body, x, y in zip(self.bodies, xs, rows, strict=True):
            body.position = (x, float(y))
            body.velocity = (0.0, 0.0)

    def follow(self, ball_y: np.ndarray) -> np.ndarray:
        """Set this frame's paddle motion; returns the centres (capacity, 2) at its start.

        ``ball_y`` holds the ball rows of the first ``len(ball_y)`` tiles; idle tiles stay.
        pymunk moves a kinematic body by its velocity, so only changed velocities are set.
        """
        p = self.params
        now = self.centre
        diff = np.zeros_like(now)
        diff[: len(ball_y)] = ball_y[:, None] - now[: len(ball_y)]
        step = np.where(diff > p.paddle_speed / 2, p.paddle_speed, 0.0)
        step = np.where(diff < -p.paddle_speed / 2, -p.paddle_speed, step)
        self.centre = np.clip(now + step, self.lo, self.hi)
        velocity = ((self.centre - now) / p.dt).ravel()
        for i in np.flatnonzero(velocity != self.velocity):
            self.bodies[i].velocity = (0.0, float(velocity[i]))
        self.velocity = velocity
        return now

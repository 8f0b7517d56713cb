"""The four scenes of the KVAE paper (design doc, section 9): parameters and wall geometry.

Units and axes, shared by every scene and by the ``state`` the simulator returns:

- Parameters are in the units of the paper's 32 x 32 frame. ``size`` only changes the
  resolution: at ``size=64`` every length and speed is drawn twice as large, so a 64-pixel
  sequence is a sharper picture of the same motion.
- Positions are continuous image coordinates: ``x`` is the column, ``y`` the row, row 0 at the
  top, and pixel ``(row, col)`` covers ``[col, col + 1) x [row, row + 1)``. Plotting ``state``
  over the frame with that convention lines up.
- Walls are given as the pixel indices they are drawn on, like the original generator:
  box walls on rows and columns ``inset`` and ``32 - inset``; polygon vertex ``(3, 1)`` is the
  pixel at column 3, row 1. A wall is a line one pixel thick through those pixel centres.

Gravity keeps the original's direction: its ``(0, -5)`` pulls towards row 0, the top of the
picture, because the original drew pymunk's y axis downwards. Use ``gravity_y=5`` for a ball
that falls down the screen.

This module is pure numpy; the physics (pymunk) and the rasteriser live beside it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

REFERENCE_SIZE = 32
"""The frame size, in pixels, that every length parameter is measured against."""

WALL_HALF_WIDTH = 0.5
"""Walls are drawn one pixel thick (at 32 px): pixels within half a pixel of the wall line."""

FOOTPRINT_RATIO = math.sqrt(25.0 / math.pi) / 3.0
"""Lit footprint radius of the drawn ball over its physical radius.

The original draws a radius-3 ball as a pygame circle (24 pixels) plus a one-pixel rotation
marker: 25 lit pixels per frame after binarisation. A disc of radius 3 * FOOTPRINT_RATIO has
that area, so our binarised frames light as many pixels as the paper's.
"""

MAX_TRAVEL = 0.1
"""Largest move of the ball in one physics substep, as a fraction of its radius.

A contact is found only once the ball overlaps a wall, so the overlap can reach one substep's
travel; walls are thickened by that much so that the drawn ball never covers a wall pixel.
"""


MAX_SUBSTEPS = 1000
"""Refuse parameters that would need more physics steps per frame than this."""
MAX_SIZE = 1024
"""Largest frame: the KVAE's own limit (model.config.FIELD_RANGES), and 4 MB per frame."""


def _param(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


Point = tuple[float, float]


@dataclass(frozen=True)
class SceneParams:
    """Parameters every scene shares; the defaults are the paper's box scene."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""

    size: int = _param(32, "frame width and height in pixels; the scene scales with it")
    dt: float = _param(0.2, "time between two frames")
    substeps: int = _param(10, "least number of physics steps per frame (more when fast)")
    ball_radius: float = _param(3.0, "radius of the ball")
    speed_min: float = _param(10.0, "lowest launch speed, per unit time")
    speed_max: float = _param(15.0, "highest launch speed")
    angle_min: float = _param(0.0, "launch angle range start, degrees (0 = right, 90 = down)")
    angle_max: float = _param(360.0, "launch angle range end, degrees")
    start_x: float = _param(16.0, "mean start column of the ball's centre")
    start_y: float = _param(16.0, "mean start row of the ball's centre")
    start_spread: float = _param(10.0, "standard deviation of the start position, per axis")
    gravity_x: float = _param(0.0, "gravity along x (columns)")
    gravity_y: float = _param(0.0, "gravity along y (rows); negative pulls towards row 0")
    ball_elasticity: float = _param(1.0, "elasticity of the ball (1 = no energy lost)")
    wall_elasticity: float = _param(1.0, "elasticity of walls and paddles; multiplies the ball's")

    def __post_init__(self) -> None:
        finite = [v for v in dataclasses.astuple(self) if isinstance(v, float)]
        _check(all(math.isfinite(v) for v in finite), "parameters must be finite numbers")
        _check(
            8 <= self.size <= MAX_SIZE, f"size must be in [8, {MAX_SIZE}] pixels, got {self.size}"
        )
        _check(self.dt > 0, f"dt must be positive, got {self.dt}")
        _check(self.substeps >= 1, f"substeps must be at least 1, got {self.substeps}")
        _check(self.ball_radius > 0, f"ball_radius must be positive, got {self.ball_radius}")
        _check(
            0 <= self.speed_min <= self.speed_max,
            f"need 0 <= speed_min <= speed_max, got {self.speed_min} and {self.speed_max}",
        )
        _check(self.angle_min <= self.angle_max, "angle_min must not exceed angle_max")
        _check(self.start_spread >= 0, f"start_spread must be >= 0, got {self.start_spread}")
        for name in ("ball_elasticity", "wall_elasticity"):
            value = getattr(self, name)
            _check(0 <= value <= 1, f"{name} must be in [0, 1], got {value}")
        substeps = self.physics_substeps()
        _check(
            substeps <= MAX_SUBSTEPS,
            f"too fast for the walls: {substeps} physics steps per frame would be needed "
            f"(at most {MAX_SUBSTEPS}); lower speed_max, gravity or dt",
        )
        # Fails here, with a clear message, when the ball cannot fit between the walls.
        self.start_region()

    # -- geometry, all in reference units and continuous image coordinates ------------------

    @property
    def scale(self) -> float:
        """Pixels per reference unit."""
        return self.size / REFERENCE_SIZE

    @property
    def gravity(self) -> Point:
        return (self.gravity_x, self.gravity_y)

    def wall_segments(self) -> np.ndarray:
        """Centre lines of the static walls, shape (S, 2, 2): S segments of two (x, y) points."""
        raise NotImplementedError

    def drawn_wall_segments(self) -> np.ndarray:
        """The part of each wall that is drawn (pong's floor and roof extend off-screen)."""
        return self.wall_segments()

    def max_speed(self) -> float:
        """An upper bound on the ball's speed: launch speed plus a fall across the frame."""
        g = math.hypot(*self.gravity)
        return math.sqrt(self.speed_max**2 + 2.0 * g * REFERENCE_SIZE)

    def max_relative_speed(self) -> float:
        """Largest speed of the ball relative to anything it can hit."""
        return self.max_speed()

    def physics_substeps(self) -> int:
        """Substeps per frame: at least ``substeps``, more when the ball is fast."""
        travel = self.max_relative_speed() * self.dt
        return max(self.substeps, math.ceil(travel / (MAX_TRAVEL * self.ball_radius)))

    def footprint_radius(self) -> float:
        """Radius of the ball's lit pixels (pixel centres closer than this are drawn)."""
        return FOOTPRINT_RATIO * self.ball_radius

    def collision_radius(self, half_width: float) -> float:
        """Physical radius of a wall drawn ``half_width`` either side of its line.

        Large enough that the ball's lit pixels, even overlapping the wall by one substep of
        travel, stay off the wall's pixels.
        """
        travel = self.max_relative_speed() * self.dt / self.physics_substeps()
        margin = half_width + self.footprint_radius() - self.ball_radius + travel
        return max(0.0, margin + self.snap_margin())

    def snap_margin(self) -> float:
        """Clearance for the drawn disc's centre, snapped to the nearest pixel corner.

        Walls along the pixel grid need none (their lines lie between pixel centres, as the
        disc's outline does); a slanted wall needs up to half a pixel's diagonal. Fixed in
        reference units from 32 px up, so larger frames keep the same physics.
        """
        return 0.0

    def start_region(self) -> np.ndarray:
        """Convex polygon (V, 2) that the ball's start centre is projected into.

        The ball starts at least one unit clear of every wall, as in the original generator,
        which clipped the start position to the box's interior less the radius and one pixel.
        """
        raise NotImplementedError

    def _start_margin(self, half_width: float = WALL_HALF_WIDTH) -> float:
        """Distance from a wall's line to the nearest start centre."""
        return self.ball_radius + self.collision_radius(half_width) + 1.0


@dataclass(frozen=True)
class BoxParams(SceneParams):
    """A ball bouncing in a square box (paper: 'box')."""

    name: ClassVar[str] = "box"
    title: ClassVar[str] = "Box"

    inset: float = _param(2.0, "the walls are drawn on rows and columns INSET and 32 - INSET")

    def _corners(self) -> np.ndarray:
        lo = self.inset + 0.5
        hi = REFERENCE_SIZE - self.inset + 0.5
        return np.array([(lo, lo), (hi, lo), (hi, hi), (lo, hi)])

    def wall_segments(self) -> np.ndarray:
        return _closed_polyline(self._corners())

    def start_region(self) -> np.ndarray:
        return _inset_polygon(self._corners(), self._start_margin(), self)


@dataclass(frozen=True)
class BoxGravityParams(BoxParams):
    """The box with gravity (paper: 'box with gravity')."""

    name: ClassVar[str] = "box_gravity"
    title: ClassVar[str] = "Box with gravity"

    speed_min: float = 5.0
    speed_max: float = 10.0
    start_spread: float = 8.0
    gravity_y: float = -5.0


_HEXAGON: tuple[Point, ...] = ((3, 1), (1, 15), (8, 30), (25, 30), (30, 8), (15, 1))


@dataclass(frozen=True)
class PolygonParams(SceneParams):
    """A ball bouncing in an irregular hexagon (paper: 'polygon')."""

    name: ClassVar[str] = "polygon"
    title: ClassVar[str] = "Polygon"

    start_spread: float = 2.5
    walls: tuple[Point, ...] = _param(
        _HEXAGON, "the wall's corner pixels 'COL,ROW COL,ROW ...', a convex polygon"
    )

    def __post_init__(self) -> None:
        points = np.asarray(self.walls, dtype=float)
        _check(
            points.ndim == 2 and points.shape[1] == 2 and len(points) >= 3,
            "walls must be at least three (column, row) points",
        )
        _check(bool(np.isfinite(points).all()), "walls must be finite numbers")
        _check(_is_convex(points), "walls must form a convex polygon")
        super().__post_init__()

    def _corners(self) -> np.ndarray:
        return np.asarray(self.walls, dtype=float) + 0.5

    def snap_margin(self) -> float:
        return math.sqrt(0.5) / min(self.scale, 1.0)

    def wall_segments(self) -> np.ndarray:
        return _closed_polyline(self._corners())

    def start_region(self) -> np.ndarray:
        return _inset_polygon(self._corners(), self._start_margin(), self)


@dataclass(frozen=True)
class PongParams(SceneParams):
    """Pong: a floor, a roof and two paddles that follow the ball (paper: 'pong').

    There are no side walls: a ball the paddles miss leaves the picture, as in the original.
    """

    name: ClassVar[str] = "pong"
    title: ClassVar[str] = "Pong"

    speed_min: float = 10.0
    speed_max: float = 10.0
    start_spread: float = 3.0
    ball_elasticity: float = 0.9
    wall_elasticity: float = 0.99
    floor_row: float = _param(1.0, "row of the floor line (at the top of the picture)")
    roof_row: float = _param(
        32.0,
        "row of the roof line; 32 (just below a 32-row picture, so unseen) as in the "
        "original, whose roof at y = 32 lies outside its frames",
    )
    paddle_length: float = _param(7.0, "paddle length (the original's paddles are 7 rows tall)")
    paddle_width: float = _param(
        2.0, "paddle thickness; the paddles sit at the frame's left and right edges"
    )
    paddle_speed: float = _param(2.0, "how far a paddle moves towards the ball per frame")

    def __post_init__(self) -> None:
        _check(self.paddle_length > 0, "paddle_length must be positive")
        _check(self.paddle_width > 0, "paddle_width must be positive")
        _check(self.paddle_speed >= 0, "paddle_speed must be >= 0")
        _check(self.floor_row < self.roof_row, "floor_row must be above (less than) roof_row")
        lo, hi = self.paddle_centre_limits()
        _check(lo <= hi, "the paddles do not fit between floor and roof")
        super().__post_init__()

    def _lines_y(self) -> tuple[float, float]:
        return self.floor_row + 0.5, self.roof_row + 0.5

    def wall_segments(self) -> np.ndarray:
        floor, roof = self._lines_y()
        far = 3.0 * REFERENCE_SIZE  # the ball may leave the frame sideways: keep it bounded
        return np.array([[(-far, floor), (far, floor)], [(-far, roof), (far, roof)]])

    def drawn_wall_segments(self) -> np.ndarray:
        floor, roof = self._lines_y()
        a, b = 0.5, REFERENCE_SIZE - 0.5
        return np.array([[(a, floor), (b, floor)], [(a, roof), (b, roof)]])

    def paddle_x(self) -> tuple[float, float]:
        """Centre lines of the left and right paddles."""
        half = self.paddle_width / 2.0
        return half, REFERENCE_SIZE - half

    def paddle_centre_limits(self) -> tuple[float, float]:
        """Range of a paddle's centre row that keeps it between floor and roof."""
        floor, roof = self._lines_y()
        reach = WALL_HALF_WIDTH + self.paddle_length / 2.0
        return floor + reach, roof - reach

    def paddle_start(self) -> float:
        """Centre row where the paddles start: the middle of row 16, as in the original."""
        lo, hi = self.paddle_centre_limits()
        return float(np.clip(REFERENCE_SIZE / 2.0 + 0.5, lo, hi))

    def max_relative_speed(self) -> float:
        return self.max_speed() + self.paddle_speed / self.dt

    def start_region(self) -> np.ndarray:
        floor, roof = self._lines_y()
        left, right = self.paddle_x()
        margins = (self._start_margin(self.paddle_width / 2.0), self._start_margin())
        corners = np.array([(left, floor), (right, floor), (right, roof), (left, roof)])
        return _inset_polygon(corners, margins, self)


SCENES: dict[str, type[SceneParams]] = {
    cls.name: cls for cls in (BoxParams, BoxGravityParams, PolygonParams, PongParams)
}
"""Every scene by its command-line name."""


def scene_params(scene: str | SceneParams, **overrides: Any) -> SceneParams:
    """The parameters of a scene given by name (or as parameters), with some fields replaced.

    Raises ValueError for an unknown scene, an unknown field or an invalid value.
    """
    if isinstance(scene, SceneParams):
        return dataclasses.replace(scene, **overrides) if overrides else scene
    try:
        cls = SCENES[scene]
    except KeyError:
        raise ValueError(f"unknown scene {scene!r}; choose from {', '.join(SCENES)}") from None
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"scene {scene!r} has no parameter {', '.join(unknown)}")
    return cls(**overrides)


def param_help(cls: type[SceneParams], name: str) -> str:
    """The help text of a parameter (subclasses that change a default keep the base's help)."""
    for klass in cls.__mro__:
        found = getattr(klass, "__dataclass_fields__", {}).get(name)
        if found is not None and "help" in found.metadata:
            return found.metadata["help"]
    return ""


# -- helpers --------------------------------------------------------------------------------


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _closed_polyline(corners: np.ndarray) -> np.ndarray:
    return np.stack([corners, np.roll(corners, -1, axis=0)], axis=1)


def _is_convex(points: np.ndarray) -> bool:
    edges = np.roll(points, -1, axis=0) - points
    following = np.roll(edges, -1, axis=0)
    cross = edges[:, 0] * following[:, 1] - edges[:, 1] * following[:, 0]
    return bool((cross > 1e-9).all() or (cross < -1e-9).all())


def _inset_polygon(
    corners: np.ndarray, margin: float | tuple[float, float], params: SceneParams
) -> np.ndarray:
    """The convex polygon ``corners`` shrunk by ``margin`` (or (x, y) margins for a rectangle)."""
    points = np.asarray(corners, dtype=float)
    if not isinstance(margin, tuple):
        margin = (margin, margin)
    area2 = _signed_area2(points)
    edges = np.roll(points, -1, axis=0) - points
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    # Inward normal of each edge: rotate the edge by +-90 degrees depending on orientation.
    sign = 1.0 if area2 > 0 else -1.0
    normals = sign * np.stack([-edges[:, 1], edges[:, 0]], axis=1) / lengths[:, None]
    # A margin per axis (used by pong's rectangle); for general polygons mx == my.
    offsets = np.abs(normals[:, 0]) * margin[0] + np.abs(normals[:, 1]) * margin[1]
    shifted = points + normals * offsets[:, None]
    out = []
    for i in range(len(points)):
        j = (i - 1) % len(points)  # the previous edge meets edge i at corner i
        out.append(_intersect(shifted[j], edges[j], shifted[i], edges[i]))
    region = np.array(out)
    inside = all(((region - shifted[i]) @ normals[i] >= -1e-9).all() for i in range(len(points)))
    if not inside or _signed_area2(region) * area2 <= 0:
        raise ValueError(
            f"the ball (radius {params.ball_radius}) does not fit inside the walls of "
            f"{params.name or 'this scene'}"
        )
    return region


def _signed_area2(points: np.ndarray) -> float:
    """Twice the signed area of a polygon (positive when its corners run clockwise on screen)."""
    nxt = np.roll(points, -1, axis=0)
    return float(np.sum(points[:, 0] * nxt[:, 1] - nxt[:, 0] * points[:, 1]))


def _intersect(p: np.ndarray, d: np.ndarray, q: np.ndarray, e: np.ndarray) -> np.ndarray:
    denom = d[0] * e[1] - d[1] * e[0]
    t = ((q[0] - p[0]) * e[1] - (q[1] - p[1]) * e[0]) / denom
    return p + t * d

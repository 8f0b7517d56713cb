"""What every scene shares: its parameters' units, the base class and their checks.

Why a module of its own: the units, the speed and substep limits and the wall margins are
one piece of reasoning used by every scene; the four scenes (`kvae_studio.sim.scenes`) only
add their walls and defaults on top.

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
import numbers
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from model.config import Range

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

PARAM_RANGES: dict[str, Range] = {
    "size": Range(8, MAX_SIZE),
    "dt": Range(0, 10, open_low=True),
    "substeps": Range(1, MAX_SUBSTEPS),
    "ball_radius": Range(0.1, REFERENCE_SIZE / 2),
    "speed_min": Range(0, 1000),
    "speed_max": Range(0, 1000),
    "angle_min": Range(-360, 360),
    "angle_max": Range(-360, 360),
    "start_x": Range(0, REFERENCE_SIZE),
    "start_y": Range(0, REFERENCE_SIZE),
    "start_spread": Range(0, REFERENCE_SIZE),
    "gravity_x": Range(-1000, 1000),
    "gravity_y": Range(-1000, 1000),
    "ball_elasticity": Range(0, 1),
    "wall_elasticity": Range(0, 1),
    "inset": Range(1, REFERENCE_SIZE / 2 - 1),
    "walls": Range(0, REFERENCE_SIZE - 1),
    "floor_row": Range(0, REFERENCE_SIZE),
    "roof_row": Range(0, REFERENCE_SIZE),
    "paddle_length": Range(0, REFERENCE_SIZE, open_low=True),
    "paddle_width": Range(0, REFERENCE_SIZE / 4, open_low=True),
    "paddle_speed": Range(0, REFERENCE_SIZE),
}
"""The values each scene parameter may take (reference units), every one finite and far
from where the physics overflows or divides by zero: lengths within the 32-unit frame
(box walls on rows 1 to 31, so that both are drawn; each polygon corner a pixel of it;
pong's roof may sit just below it, as the original's does), speeds and gravity up to
1000 units per time (the substep limit refuses the fastest of those in small scenes)."""


PARAM_LABELS: dict[str, str] = {
    "size": "frame size (px)",
    "dt": "time per frame",
    "substeps": "physics steps per frame",
    "ball_radius": "ball radius (px)",
    "ball_elasticity": "ball elasticity (0–1)",
    "speed_min": "lowest speed (px per time)",
    "speed_max": "highest speed (px per time)",
    "angle_min": "lowest angle (°)",
    "angle_max": "highest angle (°)",
    "start_x": "start column (px)",
    "start_y": "start row (px)",
    "start_spread": "start spread (px)",
    "gravity_x": "gravity along x (px per time²)",
    "gravity_y": "gravity along y (px per time²)",
    "wall_elasticity": "wall elasticity (0–1)",
    "inset": "wall inset (px)",
    "walls": "wall corners (x, y in px)",
    "floor_row": "floor row (px)",
    "roof_row": "roof row (px)",
    "paddle_length": "paddle length (px)",
    "paddle_width": "paddle width (px)",
    "paddle_speed": "paddle speed (px per frame)",
}
"""Each parameter's name as the Scene tab shows it, with its unit (px: of a 32-pixel
frame); the command line names them by their flags."""


class ParamError(ValueError):
    """Parameters a scene refuses; `fields` names the parameters to change (the Scene tab
    outlines them), the message says why in the command line's terms and `words` in the
    Scene tab's (its labels and units, `PARAM_LABELS`)."""

    def __init__(self, message: str, fields: tuple[str, ...] = (), words: str | None = None):
        super().__init__(message)
        self.fields = tuple(fields)
        self.words = words if words is not None else in_words(message)


def label_of(name: str, units: bool = True) -> str:
    """The Scene tab's label of a parameter ("ball radius (px)"; without its unit,
    "ball radius")."""
    label = PARAM_LABELS.get(name, name.replace("_", " "))
    return label if units else label.split(" (")[0]


def in_words(message: str) -> str:
    """`message` with every parameter name in it replaced by its label without the unit:
    "walls must form a convex polygon" -> "wall corners must form a convex polygon"."""
    names = "|".join(sorted(map(re.escape, PARAM_LABELS), key=len, reverse=True))
    pattern = rf"(?<![A-Za-z0-9_])({names})(?![A-Za-z0-9_])"
    return re.sub(pattern, lambda m: label_of(m.group(1), units=False), message)


def param_problem(name: str, value: Any, words: bool = False) -> str | None:
    """Why `value` cannot be scene parameter `name` on its own (a number outside its
    range, NaN, infinity), or None; for `walls`, each coordinate of each corner. In the
    command line's terms, or with `words` in the Scene tab's ("ball radius (px) must be
    from 0.1 to 16, got 50")."""
    span = PARAM_RANGES.get(name)
    if span is None:
        return None
    values = [v for point in value for v in point] if name == "walls" else [value]
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            if words:
                return f"{label_of(name)} must be numbers, got {value!r}"
            return f"{name} must be numbers, got {value!r}"
        if not (math.isfinite(v) and v in span):
            whole = isinstance(v, numbers.Integral)
            if words:
                walls = name == "walls"
                kind = "a whole number " if whole and not walls else ""
                each = " each" if walls else ""
                return f"{label_of(name)} must{each} be {kind}{_span_words(span)}, got {v:g}"
            kind = "a whole number" if whole else "a finite number"
            what = "finite coordinates" if name == "walls" else kind
            return f"{name} must be {what} in {span}, got {v:g}"
    return None


def _span_words(span: Range) -> str:
    low, high = f"{span.low:g}", f"{span.high:g}"
    return f"above {low} and at most {high}" if span.open_low else f"from {low} to {high}"


def param(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


Point = tuple[float, float]


@dataclass(frozen=True)
class SceneParams:
    """Parameters every scene shares; the defaults are the paper's box scene."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    wall_fields: ClassVar[tuple[str, ...]] = ()  # where the walls are: what confines the ball

    size: int = param(32, "frame width and height in pixels; the scene scales with it")
    dt: float = param(0.2, "time between two frames")
    substeps: int = param(10, "least number of physics steps per frame (more when fast)")
    ball_radius: float = param(3.0, "radius of the ball")
    speed_min: float = param(10.0, "lowest launch speed, per unit time")
    speed_max: float = param(15.0, "highest launch speed")
    angle_min: float = param(0.0, "launch angle range start, degrees (0 = right, 90 = down)")
    angle_max: float = param(360.0, "launch angle range end, degrees")
    start_x: float = param(16.0, "mean start column of the ball's centre")
    start_y: float = param(16.0, "mean start row of the ball's centre")
    start_spread: float = param(10.0, "standard deviation of the start position, per axis")
    gravity_x: float = param(0.0, "gravity along x (columns)")
    gravity_y: float = param(0.0, "gravity along y (rows); negative pulls towards row 0")
    ball_elasticity: float = param(1.0, "elasticity of the ball (1 = no energy lost)")
    wall_elasticity: float = param(1.0, "elasticity of walls and paddles; multiplies the ball's")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # each one's range (PARAM_RANGES) first
            problem = param_problem(f.name, value := getattr(self, f.name))
            if problem is not None:
                words = param_problem(f.name, value, words=True)
                raise ParamError(problem, (f.name,), words)
        infinite = [
            f.name
            for f in dataclasses.fields(self)
            if isinstance(v := getattr(self, f.name), float) and not math.isfinite(v)
        ]
        check(not infinite, "parameters must be finite numbers", *infinite)
        low, high = self.speed_min, self.speed_max
        check(
            low <= high,
            f"need speed_min <= speed_max, got {low:g} and {high:g}",
            "speed_min",
            "speed_max",
            words=f"the lowest speed ({low:g}) must not exceed the highest speed ({high:g})",
        )
        low, high = self.angle_min, self.angle_max
        check(
            low <= high,
            "angle_min must not exceed angle_max",
            "angle_min",
            "angle_max",
            words=f"the lowest angle ({low:g}°) must not exceed the highest angle ({high:g}°)",
        )
        substeps = self.physics_substeps()
        too_fast = (
            f"too fast for the walls: {substeps} physics steps per frame would be needed "
            f"(at most {MAX_SUBSTEPS}); lower "
        )
        check(
            substeps <= MAX_SUBSTEPS,
            too_fast + "speed_max, gravity or dt",
            "speed_max",
            "gravity_x",
            "gravity_y",
            "dt",
            words=too_fast + "the highest speed, the gravity or the time per frame",
        )
        # Fails here, with a clear message, when the ball cannot fit between the walls.
        try:
            self.start_region()
        except ParamError:
            raise
        except ValueError as err:
            walls = " or ".join(label_of(name, units=False) for name in self.wall_fields)
            words = (
                f"the ball (radius {self.ball_radius:g} px) does not fit inside the walls: "
                f"make the ball radius smaller or change the {walls}"
            )
            raise ParamError(str(err), ("ball_radius", *self.wall_fields), words) from None

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


def check(condition: bool, message: str, *fields: str, words: str | None = None) -> None:
    """Refuse the parameters with `message` unless `condition`; `fields` are to blame,
    `words` says it in the Scene tab's terms (by default `message`, its names as labels)."""
    if not condition:
        raise ParamError(message, fields, words)

"""The four scenes of the KVAE paper (design doc, section 9): their walls and defaults.

Units and axes are those of `kvae_studio.sim.scene_base`, where the parameters every scene
shares and their checks live; this module adds each scene's walls, the registry by
command-line name, and the lookups the command line and the Scene panel use.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from kvae_studio.sim.scene_base import (
    PARAM_LABELS,
    REFERENCE_SIZE,
    WALL_HALF_WIDTH,
    ParamError,
    Point,
    SceneParams,
    check,
    param,
)
from kvae_studio.sim.wall_geometry import closed_polyline, inset_polygon, is_convex

__all__ = [
    "PARAM_LABELS",
    "REFERENCE_SIZE",
    "SCENES",
    "WALL_HALF_WIDTH",
    "BoxGravityParams",
    "BoxParams",
    "ParamError",
    "PolygonParams",
    "PongParams",
    "SceneParams",
    "param_help",
    "scene_params",
]


@dataclass(frozen=True)
class WalledParams(SceneParams):
    """A scene enclosed by one closed convex polygon of walls (the box and the polygon)."""

    def _corners(self) -> np.ndarray:
        """The wall polygon's corners, in continuous image coordinates."""
        raise NotImplementedError

    def wall_segments(self) -> np.ndarray:
        return closed_polyline(self._corners())

    def start_region(self) -> np.ndarray:
        return inset_polygon(self._corners(), self._start_margin(), self)


@dataclass(frozen=True)
class BoxParams(WalledParams):
    """A ball bouncing in a square box (paper: 'box')."""

    name: ClassVar[str] = "box"
    title: ClassVar[str] = "Box"
    wall_fields: ClassVar[tuple[str, ...]] = ("inset",)

    inset: float = param(2.0, "the walls are drawn on rows and columns INSET and 32 - INSET")

    def _corners(self) -> np.ndarray:
        lo = self.inset + 0.5
        hi = REFERENCE_SIZE - self.inset + 0.5
        return np.array([(lo, lo), (hi, lo), (hi, hi), (lo, hi)])


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
class PolygonParams(WalledParams):
    """A ball bouncing in an irregular hexagon (paper: 'polygon')."""

    name: ClassVar[str] = "polygon"
    title: ClassVar[str] = "Polygon"
    wall_fields: ClassVar[tuple[str, ...]] = ("walls",)

    start_spread: float = 2.5
    walls: tuple[Point, ...] = param(
        _HEXAGON, "the wall's corner pixels 'COL,ROW COL,ROW ...', a convex polygon"
    )

    def __post_init__(self) -> None:
        points = np.asarray(self.walls, dtype=float)
        check(
            points.ndim == 2 and points.shape[1] == 2 and len(points) >= 3,
            "walls must be at least three (column, row) points",
            "walls",
        )
        check(bool(np.isfinite(points).all()), "walls must be finite numbers", "walls")
        check(is_convex(points), "walls must form a convex polygon", "walls")
        super().__post_init__()

    def _corners(self) -> np.ndarray:
        return np.asarray(self.walls, dtype=float) + 0.5

    def snap_margin(self) -> float:
        return math.sqrt(0.5) / min(self.scale, 1.0)


@dataclass(frozen=True)
class PongParams(SceneParams):
    """Pong: a floor, a roof and two paddles that follow the ball (paper: 'pong').

    There are no side walls: a ball the paddles miss leaves the picture, as in the original.
    """

    name: ClassVar[str] = "pong"
    title: ClassVar[str] = "Pong"
    wall_fields: ClassVar[tuple[str, ...]] = ("floor_row", "roof_row", "paddle_width")

    speed_min: float = 10.0
    speed_max: float = 10.0
    start_spread: float = 3.0
    ball_elasticity: float = 0.9
    wall_elasticity: float = 0.99
    floor_row: float = param(1.0, "row of the floor line (at the top of the picture)")
    roof_row: float = param(
        32.0,
        "row of the roof line; 32 (just below a 32-row picture, so unseen) as in the "
        "original, whose roof at y = 32 lies outside its frames",
    )
    paddle_length: float = param(7.0, "paddle length (the original's paddles are 7 rows tall)")
    paddle_width: float = param(
        2.0, "paddle thickness; the paddles sit at the frame's left and right edges"
    )
    paddle_speed: float = param(2.0, "how far a paddle moves towards the ball per frame")

    def __post_init__(self) -> None:
        check(self.paddle_length > 0, "paddle_length must be positive", "paddle_length")
        check(self.paddle_width > 0, "paddle_width must be positive", "paddle_width")
        check(self.paddle_speed >= 0, "paddle_speed must be >= 0", "paddle_speed")
        check(
            self.floor_row < self.roof_row,
            "floor_row must be above (less than) roof_row",
            "floor_row",
            "roof_row",
        )
        lo, hi = self.paddle_centre_limits()
        check(
            lo <= hi,
            "the paddles do not fit between floor and roof",
            "paddle_length",
            "floor_row",
            "roof_row",
        )
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
        return inset_polygon(corners, margins, self)


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

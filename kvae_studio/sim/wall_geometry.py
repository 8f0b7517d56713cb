"""Plane geometry of convex wall polygons: their segments, convexity, and the region inset
from them where the ball may start.

Why a module of its own: this is plain polygon maths (normals, offsets, line intersections),
tested through the scenes but independent of what a scene is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from kvae_studio.sim.scene_base import SceneParams


def closed_polyline(corners: np.ndarray) -> np.ndarray:
    return np.stack([corners, np.roll(corners, -1, axis=0)], axis=1)


def is_convex(points: np.ndarray) -> bool:
    edges = np.roll(points, -1, axis=0) - points
    following = np.roll(edges, -1, axis=0)
    cross = edges[:, 0] * following[:, 1] - edges[:, 1] * following[:, 0]
    return bool((cross > 1e-9).all() or (cross < -1e-9).all())


def inset_polygon(
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

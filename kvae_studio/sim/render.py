"""Offscreen rasteriser: white walls, paddles and ball on black, in numpy.

No window and no pygame: the static walls are drawn once per scene, the ball is drawn into
a small patch around its centre for every frame at once. Inputs are in pixel coordinates of
the output frame (the ``state`` convention: pixel (row, col) covers [col, col+1) x [row, row+1)).

The ball is drawn as the original generator's pygame circle is: its centre snapped to the
nearest pixel corner, then every pixel whose centre lies within ``params.footprint_radius()``
of it is white. At 32 px that is always the same 24-pixel disc, 6 pixels across. An
anti-aliased ball at the exact sub-pixel position would carry more information, but, once
binarised as the model reads frames, its outline changes from frame to frame (over a hundred
shapes where the original has one), and a model trained on it reconstructs the original
files three times worse.

``marker=True`` also draws what the release drew and the studio leaves out by default: the
rotation marker of pymunk's debug drawing, a dark grey line from the drawn centre to one
pixel past the rim, pointing right (no torque ever turns the ball). Binarised, it adds one
pixel to the disc; a model meant to match the paper's figures on the paper's files sees it
in every frame of those files.

Walls are drawn as pygame's one-pixel lines (Bresenham's rule) and everything in pymunk's
drawing order, so that at 32 px the frames equal the release's pixel for pixel, grey levels
included (tests/test_render_pygame_oracle.py renders the same states with pygame). Not
drawn: the red collision points pymunk's debug drawing adds where the ball touched a wall at
the last step (in about one frame in seven of the release's files, 0.8 pixels on average).
"""

from __future__ import annotations

import functools

import numpy as np

from kvae_studio.sim.scenes import WALL_HALF_WIDTH, PongParams, SceneParams

# Grey level of the release's rotation marker: pymunk's default outline colour (44, 62, 80)
# as a 24-bit pixel over 2**24 - 1, as the original generator reads its surface.
MARKER_VALUE = np.float32(0x2C3E50 / (2**24 - 1))


@functools.lru_cache(maxsize=32)
def _walls(params: SceneParams) -> np.ndarray:
    k = params.scale
    n = params.size
    centres = (np.arange(n) + 0.5) / k  # pixel centres in reference units
    px, py = np.meshgrid(centres, centres)  # (H, W): x = column, y = row
    lit = np.zeros((n, n), dtype=bool)
    for a, b in params.drawn_wall_segments():
        lit |= _on_line(px, py, a, b, WALL_HALF_WIDTH)
    image = lit.astype(np.float32)
    image.flags.writeable = False
    return image


def wall_image(params: SceneParams) -> np.ndarray:
    """The static walls of a scene, (H, W) float32 with 1 on wall pixels, 0 elsewhere."""
    return _walls(params).copy()


def render_ball(params: SceneParams, xy: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Draw one ball per frame at ``xy`` (..., 2) pixels; returns (..., H, W) float32.

    With ``out`` the ball is drawn over its contents (pixel-wise maximum) instead of black.
    Balls partly or wholly outside the frame are clipped.
    """
    xy = np.asarray(xy, dtype=np.float64)
    lead = xy.shape[:-1]
    n = params.size
    if out is None:
        out = np.zeros((*lead, n, n), dtype=np.float32)
    flat = out.reshape(-1, n * n)
    centres = xy.reshape(-1, 2)

    rho = params.footprint_radius() * params.scale
    corners = np.rint(centres)  # the drawn centre: the nearest pixel corner
    patch = 2 * int(np.ceil(rho)) + 2
    offsets = np.arange(patch)
    # First pixel index of each frame's patch: it covers the disc, whatever rho is.
    base = corners.astype(np.int64) - (patch // 2)
    cols = base[:, 0, None] + offsets  # (F, P)
    rows = base[:, 1, None] + offsets
    dx = cols + 0.5 - corners[:, 0, None]
    dy = rows + 0.5 - corners[:, 1, None]
    value = (dx[:, None, :] ** 2 + dy[:, :, None] ** 2 < rho * rho).astype(np.float32)
    inside = (
        (value > 0)
        & (rows[:, :, None] >= 0)
        & (rows[:, :, None] < n)
        & (cols[:, None, :] >= 0)
        & (cols[:, None, :] < n)
    )
    frame, r, c = np.nonzero(inside)
    index = rows[frame, r] * n + cols[frame, c]
    v = value[frame, r, c].astype(np.float32)
    # Each (frame, pixel) appears once, so a plain fancy assignment is exact.
    flat[frame, index] = np.maximum(flat[frame, index], v)
    return out


def render_marker(params: SceneParams, xy: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Draw the release's rotation marker of the balls at ``xy`` (..., 2) over ``out``.

    The line covers the row of the drawn centre, from the centre's column to the column of
    the rim point (4 pixels at 32 px, 3 or 5 for some half-integer centres); it replaces
    the ball's white, as pygame's line did. Wall pixels keep their white: pymunk draws the
    static walls after the ball.
    """
    n = params.size
    centres = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    corners = np.rint(centres).astype(np.int64)
    radius = params.ball_radius * params.scale
    # pygame's line runs between the rounded centre and the rounded rim point: its length
    # is not always the rounded radius (half-integer centres round to even).
    ends = np.rint(centres[:, 0] + radius).astype(np.int64)
    cols = corners[:, 0, None] + np.arange(int(np.ceil(radius)) + 2)  # (F, L)
    rows = np.broadcast_to(corners[:, 1, None], cols.shape)
    frame = np.broadcast_to(np.arange(len(corners))[:, None], cols.shape)
    keep = (cols <= ends[:, None]) & (rows >= 0) & (rows < n) & (cols >= 0) & (cols < n)
    frame, rows, cols = frame[keep], rows[keep], cols[keep]
    frames = out.reshape(-1, n, n)
    over_wall = _walls(params)[rows, cols] > 0
    frames[frame, rows, cols] = np.where(over_wall, np.float32(1.0), MARKER_VALUE)
    return out


def render_paddles(
    params: PongParams, rows: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """Draw pong's two paddles with centre rows ``rows`` (..., 2) pixels; (..., H, W) float32.

    A paddle lights the pixels whose centre lies inside its ``paddle_width`` x
    ``paddle_length`` rectangle.
    """
    rows = np.asarray(rows, dtype=np.float64)
    lead = rows.shape[:-1]
    n = params.size
    if out is None:
        out = np.zeros((*lead, n, n), dtype=np.float32)
    frames = out.reshape(-1, n, n)
    centre_rows = rows.reshape(-1, 2) / params.scale  # reference units
    pixel = (np.arange(n) + 0.5) / params.scale
    half_length = params.paddle_length / 2.0
    for side, x in enumerate(params.paddle_x()):
        near = np.flatnonzero(np.abs(pixel - x) < params.paddle_width / 2.0)
        along = np.abs(pixel[None, :] - centre_rows[:, side, None]) < half_length  # (F, H)
        lit = along.astype(np.float32)[:, :, None]
        frames[:, :, near] = np.maximum(frames[:, :, near], lit)
    return out


def render_frames(
    params: SceneParams,
    state: np.ndarray,
    paddles: np.ndarray | None = None,
    out: np.ndarray | None = None,
    marker: bool = False,
) -> np.ndarray:
    """Frames (N, T, H, W) float32 from the ball's ``state`` (N, T, >=2) in pixels.

    ``paddles`` (N, T, 2) are pong's paddle centre rows in pixels. ``out``, if given, is
    filled in place and returned. ``marker``: also draw the release's rotation marker.
    """
    state = np.asarray(state)
    n = params.size
    if out is None:
        out = np.empty((*state.shape[:-1], n, n), dtype=np.float32)
    if paddles is not None and not isinstance(params, PongParams):
        raise ValueError(f"scene {params.name!r} has no paddles")
    # pymunk's debug drawing order: the ball (and its marker) first, then the static
    # shapes (walls, pong's paddles) over it.
    out[...] = 0.0
    render_ball(params, state[..., :2], out=out)
    if marker:
        render_marker(params, state[..., :2], out)
    np.maximum(out, _walls(params), out=out)
    if paddles is not None:
        render_paddles(params, paddles, out=out)
    return out


def _on_line(
    px: np.ndarray, py: np.ndarray, a: np.ndarray, b: np.ndarray, half: float
) -> np.ndarray:
    """Points (px, py) that a line drawn from a to b covers, as pygame's one-pixel line
    (Bresenham's) does at 32 px, ``half`` either side of it.

    Along the segment's major axis every point between the ends; across it, the points
    closer than ``half`` to the line measured along the minor axis (not perpendicular to
    the line: that would light a second pixel in some columns of a slanted wall). A point
    exactly ``half`` away counts on the side of a, as pygame breaks ties: stepping from a,
    its error term moves to the next row or column only past the midpoint.
    """
    ab = np.asarray(b, dtype=np.float64) - np.asarray(a, dtype=np.float64)
    points = (px, py)
    major = 0 if abs(ab[0]) >= abs(ab[1]) else 1
    minor = 1 - major
    if ab[major] == 0:  # a single point
        return (np.abs(px - a[0]) <= half) & (np.abs(py - a[1]) <= half)
    eps = 1e-9
    t = (points[major] - a[major]) / ab[major]
    d = points[minor] - (a[minor] + t * ab[minor])
    towards_a = -np.sign(ab[minor])
    tie = (np.abs(np.abs(d) - half) <= eps) & (np.sign(d) == towards_a) & (towards_a != 0)
    return (t >= -eps) & (t <= 1 + eps) & ((np.abs(d) < half - eps) | tie)

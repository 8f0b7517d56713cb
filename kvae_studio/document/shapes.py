"""Which pixels the rectangle, lasso and fill tools cover (the brush's are in brush.py).

Qt-free, like the rest of the mask maths: the canvas forwards the mouse, these say what a
drag or a click covers. Coordinates are brush.py's: x is the column, y the row, pixel
(row, col) covers [col, col + 1) x [row, row + 1), its centre is (col + 0.5, row + 0.5).

- Rectangle: every pixel from the one under the press to the one under the release,
  both included (a click covers the pixel clicked; a box dragged past the frame's edge
  is cut at the edge).
- Lasso: the pixels whose centre lies inside the outline, closed from the last point
  back to the first, by the even-odd rule (a hand-drawn outline that crosses itself
  leaves the part it wraps twice uncovered, as skimage's and matplotlib's polygons do),
  plus the pixels under the outline's points, so a lasso too thin to hold a centre still
  covers what the pointer went over.
- Fill: the 4-connected region of pixels on the same side of mid-grey as the one clicked
  (the frames are binary pictures: the model reads a pixel as on or off), so one click
  covers the ball, a wall, or the background around them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from kvae_studio.document.brush import Point

Footprint = tuple[slice, slice, np.ndarray]
"""(rows, cols, covered): `covered` is a bool array over image[rows, cols]."""

FILL_LEVEL = 0.5


def _pixel(p: Point) -> tuple[int, int]:
    """(row, col) of the pixel under the point (x, y)."""
    return math.floor(p[1]), math.floor(p[0])


def rectangle_footprint(shape: tuple[int, int], start: Point, end: Point) -> Footprint | None:
    """The pixels of the box from the pixel under `start` to the one under `end`, both
    included, cut at the frame's edges; None when the box misses the frame."""
    height, width = shape
    (r0, c0), (r1, c1) = _pixel(start), _pixel(end)
    r_lo, r_hi = max(min(r0, r1), 0), min(max(r0, r1) + 1, height)
    c_lo, c_hi = max(min(c0, c1), 0), min(max(c0, c1) + 1, width)
    if r_lo >= r_hi or c_lo >= c_hi:
        return None
    return slice(r_lo, r_hi), slice(c_lo, c_hi), np.ones((r_hi - r_lo, c_hi - c_lo), bool)


def polygon_footprint(shape: tuple[int, int], points: Sequence[Point]) -> Footprint | None:
    """The pixels a closed lasso through `points` covers (see the module's note); None when
    it covers no pixel of the frame."""
    height, width = shape
    if not points:
        return None
    xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    c_lo = max(math.floor(xy[:, 0].min()), 0)
    c_hi = min(math.floor(xy[:, 0].max()) + 1, width)
    r_lo = max(math.floor(xy[:, 1].min()), 0)
    r_hi = min(math.floor(xy[:, 1].max()) + 1, height)
    if c_lo >= c_hi or r_lo >= r_hi:
        return None
    cx = np.arange(c_lo, c_hi, dtype=np.float64) + 0.5  # (W,)
    cy = np.arange(r_lo, r_hi, dtype=np.float64) + 0.5  # (H,)
    covered = np.zeros((r_hi - r_lo, c_hi - c_lo), bool)
    if len(xy) >= 3:
        x0, y0 = xy[:, 0], xy[:, 1]
        x1, y1 = np.roll(x0, -1), np.roll(y0, -1)  # each edge, the closing one included
        # An edge crosses a row of centres when the row lies between its ends (half-open,
        # so a vertex on the row counts once); where, along the row:
        spans = (y0[None, :] > cy[:, None]) != (y1[None, :] > cy[:, None])  # (H, E)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x0 + (cy[:, None] - y0) * (x1 - x0) / (y1 - y0)  # (H, E)
        at = np.where(spans, at, -np.inf)
        # A centre is inside when an odd number of crossings lie to its right.
        right = (at[:, :, None] > cx[None, None, :]).sum(axis=1)  # (H, W)
        covered = (right % 2) == 1
    for row, col in map(_pixel, xy):
        if r_lo <= row < r_hi and c_lo <= col < c_hi:
            covered[row - r_lo, col - c_lo] = True
    if not covered.any():
        return None
    return slice(r_lo, r_hi), slice(c_lo, c_hi), covered


def fill_region(frame: np.ndarray, at: Point) -> np.ndarray | None:
    """(H, W) bool: the 4-connected pixels of `frame` on the same side of mid-grey as the
    pixel under `at`; None when `at` is outside the frame."""
    height, width = frame.shape
    row, col = _pixel(at)
    if not (0 <= row < height and 0 <= col < width):
        return None
    bright = np.asarray(frame) >= FILL_LEVEL
    same = bright == bright[row, col]
    region = np.zeros_like(same)
    region[row, col] = True
    stack = [(row, col)]
    while stack:  # a scan-line flood: one row's run at a time
        r, c = stack.pop()
        left = c
        while left > 0 and same[r, left - 1] and not region[r, left - 1]:
            left -= 1
        right = c
        while right < width - 1 and same[r, right + 1] and not region[r, right + 1]:
            right += 1
        region[r, left : right + 1] = True
        for nr in (r - 1, r + 1):
            if not 0 <= nr < height:
                continue
            open_ = same[nr, left : right + 1] & ~region[nr, left : right + 1]
            for nc in np.flatnonzero(open_) + left:
                if not region[nr, nc]:
                    region[nr, nc] = True
                    stack.append((nr, int(nc)))
    return region

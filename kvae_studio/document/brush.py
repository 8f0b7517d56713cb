"""Brush footprints: which pixels a round brush covers when dragged from one point to the next.

Mouse events arrive tens of pixels apart on a fast drag; stamping a disc at each event
would leave a dotted line. Painting the whole capsule (every pixel whose centre lies
within the radius of the segment between two events) fills the gap exactly, whatever the
event rate. The footprint is computed only inside the segment's bounding box.

Coordinates are continuous image coordinates: x is the column, y the row, and pixel
(row, col) covers [col, col + 1) x [row, row + 1), so its centre is (col + 0.5, row + 0.5).
"""

from __future__ import annotations

import math

import numpy as np

Point = tuple[float, float]


def segment_footprint(
    shape: tuple[int, int], start: Point, end: Point, size: float
) -> tuple[slice, slice, np.ndarray] | None:
    """Pixels covered by a brush of diameter `size` moved from `start` to `end` (x, y).

    Returns (rows, cols, covered) with `covered` a bool array over image[rows, cols],
    or None when the brush misses the image. The pixels under both end points are
    always covered, so a size-1 brush paints exactly the pixel clicked.
    """
    height, width = shape
    radius = max(float(size), 1.0) / 2.0
    (x0, y0), (x1, y1) = start, end
    c_lo = max(math.floor(min(x0, x1) - radius), 0)
    c_hi = min(math.ceil(max(x0, x1) + radius) + 1, width)
    r_lo = max(math.floor(min(y0, y1) - radius), 0)
    r_hi = min(math.ceil(max(y0, y1) + radius) + 1, height)
    if c_lo >= c_hi or r_lo >= r_hi:
        return None
    cx = np.arange(c_lo, c_hi, dtype=np.float64)[None, :] + 0.5
    cy = np.arange(r_lo, r_hi, dtype=np.float64)[:, None] + 0.5
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    if length2 > 0.0:
        t = np.clip(((cx - x0) * dx + (cy - y0) * dy) / length2, 0.0, 1.0)
    else:
        t = np.zeros((1, 1))
    dist2 = (cx - (x0 + t * dx)) ** 2 + (cy - (y0 + t * dy)) ** 2
    covered = dist2 <= radius * radius
    for px, py in (start, end):
        col, row = math.floor(px) - c_lo, math.floor(py) - r_lo
        if 0 <= row < covered.shape[0] and 0 <= col < covered.shape[1]:
            covered[row, col] = True
    if not covered.any():
        return None
    return slice(r_lo, r_hi), slice(c_lo, c_hi), covered

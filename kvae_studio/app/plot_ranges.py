"""Plot ranges that hold still while the data moves a little.

Refitting a plot to its data on every result moves its axes on every brush stroke:
the user loses the reference they were comparing against, and every axis repaints its
tick labels (about 6 ms each in software rendering). A range is kept while the data
stays inside it and fills enough of it; otherwise it is refitted with some room to grow.
"""

from __future__ import annotations

FILL = 0.3  # refit when the data spans less than this fraction of the range (at 0.5, a frame
# hidden and shown again at the end of a sequence refitted the plots on every other click)
ROOM = 0.08  # fraction of the data span added on each side when refitting


def settled(
    current: tuple[float, float], lo: float, hi: float, fill: float = FILL
) -> tuple[float, float] | None:
    """The range to show data spanning [lo, hi], or None to keep `current`."""
    c0, c1 = current
    span = max(hi - lo, 1e-9)
    inside = c0 <= lo and hi <= c1
    if inside and span >= fill * (c1 - c0):
        return None
    return lo - ROOM * span, hi + ROOM * span


def settled_box(
    current: tuple[tuple[float, float], tuple[float, float]],
    x: tuple[float, float],
    y: tuple[float, float],
    fill: float = FILL,
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Like `settled` for an aspect-locked plot: keep the view while the data's box is
    inside it and fills `fill` of it in at least one direction (the other one is set by
    the aspect ratio), else the data's box with room around it."""
    (cx0, cx1), (cy0, cy1) = current
    inside = cx0 <= x[0] and x[1] <= cx1 and cy0 <= y[0] and y[1] <= cy1
    fills = (x[1] - x[0]) >= fill * (cx1 - cx0) or (y[1] - y[0]) >= fill * (cy1 - cy0)
    if inside and fills:
        return None
    grow_x, grow_y = ROOM * max(x[1] - x[0], 1e-9), ROOM * max(y[1] - y[0], 1e-9)
    return (x[0] - grow_x, x[1] + grow_x), (y[0] - grow_y, y[1] + grow_y)

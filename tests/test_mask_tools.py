"""The rectangle, lasso and fill tools without Qt: what each covers, against references
written another way (matplotlib's polygons, scipy's labelling, plain Python loops), and
how each is one undo step of the mask model."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from kvae_studio.document.masking import MaskModel
from kvae_studio.document.shapes import fill_region, polygon_footprint, rectangle_footprint

SHAPE = (24, 32)


def full(found, shape=SHAPE) -> np.ndarray:
    """A footprint (rows, cols, covered) as an (H, W) bool picture."""
    picture = np.zeros(shape, bool)
    if found is not None:
        rows, cols, covered = found
        picture[rows, cols] = covered
    return picture


# References.
def pnpoly(points, x: float, y: float) -> bool:
    """W. R. Franklin's point-in-polygon test, one point at a time (even-odd)."""
    inside, j = False, len(points) - 1
    for i in range(len(points)):
        (xi, yi), (xj, yj) = points[i], points[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def lasso_reference(points, how: str) -> np.ndarray:
    h, w = SHAPE
    centres = [(c + 0.5, r + 0.5) for r in range(h) for c in range(w)]
    if how == "matplotlib":
        path_module = pytest.importorskip("matplotlib.path")
        inside = path_module.Path(points).contains_points(centres)
    else:
        inside = np.array([pnpoly(points, x, y) for x, y in centres])
    picture = np.asarray(inside, bool).reshape(h, w)
    for x, y in points:  # the pixels under the outline's points
        if 0 <= y < h and 0 <= x < w:
            picture[int(y), int(x)] = True
    return picture


def flood_reference(frame: np.ndarray, row: int, col: int) -> np.ndarray:
    bright = frame >= 0.5
    region = np.zeros_like(bright)
    queue = deque([(row, col)])
    region[row, col] = True
    while queue:
        r, c = queue.popleft()
        for nr, nc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            inside = 0 <= nr < frame.shape[0] and 0 <= nc < frame.shape[1]
            if inside and not region[nr, nc] and bright[nr, nc] == bright[row, col]:
                region[nr, nc] = True
                queue.append((nr, nc))
    return region


# What each tool covers.
def test_a_rectangle_covers_the_pixels_from_the_press_to_the_release_both_included():
    rng = np.random.default_rng(1)
    for _ in range(200):
        (x0, x1), (y0, y1) = rng.uniform(-6, 38, 2), rng.uniform(-6, 30, 2)
        want = np.zeros(SHAPE, bool)
        for r in range(SHAPE[0]):
            for c in range(SHAPE[1]):
                in_rows = min(np.floor(y0), np.floor(y1)) <= r <= max(np.floor(y0), np.floor(y1))
                in_cols = min(np.floor(x0), np.floor(x1)) <= c <= max(np.floor(x0), np.floor(x1))
                want[r, c] = in_rows and in_cols
        found = rectangle_footprint(SHAPE, (x0, y0), (x1, y1))
        assert np.array_equal(full(found), want)
        assert (found is None) == (not want.any())
    click = full(rectangle_footprint(SHAPE, (5.2, 7.9), (5.2, 7.9)))
    assert click.sum() == 1 and click[7, 5], "a click covers the pixel clicked"


@pytest.mark.parametrize("how", ["matplotlib", "pnpoly"])
def test_a_lasso_covers_the_centres_inside_its_outline_even_odd(how):
    rng = np.random.default_rng(2)
    for n in [3, 4, 5, 8, 20, 60] * 6:
        # Random outlines, self-crossing ones included, partly off the frame at times.
        points = [tuple(p) for p in rng.uniform([-4, -4], [36, 28], size=(n, 2))]
        assert np.array_equal(full(polygon_footprint(SHAPE, points)), lasso_reference(points, how))
    star = [(16.1, 2.1), (22.1, 21.9), (6.1, 9.1), (26.1, 9.1), (10.1, 21.9)]
    covered = full(polygon_footprint(SHAPE, star))
    assert covered[5, 16] and not covered[12, 16], "the star's points, not its twice-wrapped core"


def test_a_lasso_too_thin_to_hold_a_centre_covers_the_pixels_it_went_over():
    line = [(3.2, 4.7), (9.7, 4.7)]
    assert full(polygon_footprint(SHAPE, line)).sum() == 2
    assert polygon_footprint(SHAPE, [(-3.0, -2.0), (-1.0, -5.0), (-2.0, -1.0)]) is None


def test_fill_covers_the_connected_region_of_one_brightness():
    rng = np.random.default_rng(3)
    for _ in range(30):
        frame = (rng.random(SHAPE) > rng.uniform(0.3, 0.7)).astype(np.float32)
        frame[rng.random(SHAPE) < 0.1] = 0.3  # a few greys: dark side of mid-grey
        r, c = rng.integers(0, SHAPE[0]), rng.integers(0, SHAPE[1])
        region = fill_region(frame, (c + 0.25, r + 0.75))
        assert np.array_equal(region, flood_reference(frame, r, c))
        ndimage = pytest.importorskip("scipy.ndimage")
        same = (frame >= 0.5) == (frame[r, c] >= 0.5)
        labels, _ = ndimage.label(same)  # 4-connected by default
        assert np.array_equal(region, labels == labels[r, c])
    assert fill_region(np.zeros(SHAPE), (-0.5, 3.0)) is None


# The mask model.
def drag(mask: MaskModel, tool: str, points, frame=0, paint=True) -> bool:
    mask.begin_stroke(frame, paint=paint, tool=tool)
    for x, y in points:
        mask.stroke_to(x, y)
    return mask.end_stroke()


def test_a_rectangle_drag_shows_the_box_under_the_pointer_and_is_one_undo_step():
    mask = MaskModel(4, *SHAPE)
    events = []
    mask.changed.connect(events.append)
    mask.begin_stroke(1, paint=True, tool="rectangle")
    for x, y in [(2.5, 2.5), (20.5, 15.5)]:
        mask.stroke_to(x, y)
    assert mask.occluded[1, 2:16, 2:21].all() and mask.occluded[1].sum() == 14 * 19
    mask.stroke_to(5.5, 4.5)  # back: the larger box is gone, the smaller one stays
    assert mask.occluded[1].sum() == 3 * 4 and not events[-1].committed
    assert mask.end_stroke() and events[-1].committed and events[-1].frames == (1,)
    assert mask.history_length == 1
    assert not np.delete(mask.occluded, 1, axis=0).any()
    mask.undo()
    assert not mask.occluded.any()
    mask.redo()
    assert mask.occluded[1].sum() == 12


def test_rectangle_and_lasso_erase_and_paint_every_frame():
    mask = MaskModel(3, *SHAPE)
    outline = [(2.0, 2.0), (30.0, 2.0), (30.0, 22.0), (2.0, 22.0)]
    assert drag(mask, "lasso", outline, frame=None)
    assert mask.occluded[:, 2:22, 2:30].all()
    assert drag(mask, "rectangle", [(10.5, 10.5), (12.5, 11.5)], frame=2, paint=False)
    assert not mask.occluded[2, 10:12, 10:13].any() and mask.occluded[1, 10:12, 10:13].all()
    assert mask.history_length == 2
    mask.begin_stroke(0, paint=False, tool="lasso")
    mask.stroke_to(1.0, 1.0)
    mask.stroke_to(20.0, 1.0)
    mask.stroke_to(20.0, 20.0)
    mask.abort_stroke()
    assert mask.occluded[0, 2:20, 2:20].all(), "an aborted lasso leaves the mask as it was"
    with pytest.raises(ValueError, match="unknown tool"):
        mask.begin_stroke(0, paint=True, tool="spray")


def test_a_fill_is_one_undo_step_on_one_frame_or_every_frame():
    mask = MaskModel(3, *SHAPE)
    region = np.zeros(SHAPE, bool)
    region[3:9, 4:6] = True
    assert mask.fill(1, True, region)
    assert np.array_equal(mask.occluded[1], region) and mask.history_length == 1
    assert not mask.fill(1, True, region), "nothing new: no undo step"
    assert mask.fill(None, True, region)
    assert mask.occluded[:, 3:9, 4:6].all() and mask.history_length == 2
    assert mask.fill(None, False, region) and not mask.occluded.any()
    mask.undo()
    mask.undo()
    assert np.array_equal(mask.occluded[1], region) and not mask.occluded[0].any()

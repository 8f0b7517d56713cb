"""The mask model without Qt: brush strokes replayed as events, undo atoms, presets."""

from __future__ import annotations

import numpy as np
import pytest

from kvae_studio.document.brush import segment_footprint
from kvae_studio.document.mask_presets import band_occlusion, planning_hidden, random_hidden
from kvae_studio.document.masking import MaskEvent, MaskModel


def replay(mask: MaskModel, frame, points, size=3.0, paint=True) -> bool:
    """Press at the first point, move through the others, release: one drag."""
    mask.begin_stroke(frame, paint=paint, size=size)
    for x, y in points:
        mask.stroke_to(x, y)
    return mask.end_stroke()


def test_a_drag_covers_the_whole_way_between_sparse_events():
    mask = MaskModel(5, 32, 32)
    replay(mask, 2, [(2.5, 10.5), (29.5, 10.5)], size=1)  # two events 27 px apart
    row = mask.occluded[2, 10]
    assert row[2:30].all(), "the gap between the two events must be painted"
    assert mask.occluded[2].sum() == 28
    assert not mask.occluded[[0, 1, 3, 4]].any()


def test_brush_size_is_a_diameter_and_a_click_paints_the_pixel_under_it():
    found = segment_footprint((32, 32), (10.9, 5.1), (10.9, 5.1), 1)
    rows, cols, covered = found
    hit = np.zeros((32, 32), bool)
    hit[rows, cols] = covered
    assert hit.sum() == 1 and hit[5, 10]
    rows, cols, covered = segment_footprint((32, 32), (16.0, 16.0), (16.0, 16.0), 6)
    assert covered.sum() == pytest.approx(np.pi * 9, rel=0.25)


def test_a_brush_outside_the_frame_paints_nothing():
    assert segment_footprint((32, 32), (-20, -20), (-10, -15), 4) is None
    mask = MaskModel(2, 32, 32)
    assert replay(mask, 0, [(-20, -20), (-10, -15)]) is False
    assert not mask.can_undo


def test_one_stroke_is_one_undo_step_and_stores_only_its_bounding_box():
    mask = MaskModel(20, 32, 32)
    replay(mask, 3, [(5, 5), (8, 6), (12, 7)], size=2)
    assert mask.history_length == 1
    atom = mask._undo[-1]
    assert atom.occluded.shape[0] == 1  # one frame
    assert atom.occluded.size < 32 * 32 / 4  # far smaller than the frame
    assert atom.hidden is None


def test_undo_restores_exactly_and_redo_reapplies():
    mask = MaskModel(6, 16, 16)
    mask.toggle_hidden(4)
    replay(mask, 1, [(2, 2), (14, 14)], size=3)
    after_stroke = mask.occluded.copy(), mask.hidden.copy()
    replay(mask, 1, [(3, 3), (10, 10)], size=5, paint=False)  # erase part of it
    after_erase = mask.occluded.copy(), mask.hidden.copy()
    assert mask.undo()
    assert np.array_equal(mask.occluded, after_stroke[0])
    assert mask.undo() and mask.undo()
    assert not mask.occluded.any() and not mask.hidden.any()
    assert not mask.undo()
    assert mask.redo() and mask.redo() and mask.redo()
    assert np.array_equal(mask.occluded, after_erase[0])
    assert np.array_equal(mask.hidden, after_erase[1])
    assert not mask.redo()


def test_a_new_edit_clears_redo_and_history_is_capped():
    mask = MaskModel(4, 8, 8, max_history=3)
    for t in range(4):
        mask.toggle_hidden(t)
    assert mask.history_length == 3
    mask.undo()
    assert mask.can_redo
    mask.toggle_hidden(0)
    assert not mask.can_redo
    while mask.undo():
        pass
    assert mask.hidden[0], "the oldest step fell off the capped history"


def test_painting_all_frames_and_abort():
    mask = MaskModel(5, 16, 16)
    replay(mask, None, [(4, 4), (4, 12)], size=2)
    assert all(np.array_equal(mask.occluded[0], mask.occluded[t]) for t in range(5))
    assert mask.occluded[0].any()
    mask.undo()
    assert not mask.occluded.any()
    mask.begin_stroke(2, paint=True, size=4)
    mask.stroke_to(8, 8)
    assert mask.occluded[2].any()
    mask.abort_stroke()
    assert not mask.occluded.any() and not mask.can_undo


def test_events_report_progress_while_stroking_and_one_commit_at_the_end():
    mask = MaskModel(3, 16, 16)
    events: list[MaskEvent] = []
    mask.changed.connect(events.append)
    replay(mask, 1, [(1, 1), (5, 5), (9, 9), (13, 13)], size=2)
    committed = [e for e in events if e.committed]
    assert len(committed) == 1 and committed[0].frames == (1,)
    assert len(events) > 1 and not any(e.committed for e in events[:-1])


def test_clear_frame_and_clear_all_are_single_undo_steps():
    mask = MaskModel(4, 8, 8)
    mask.set_mask(hidden=np.array([0, 1, 1, 0], bool))
    replay(mask, 1, [(2, 2)], size=3)
    mask.clear_frame(1)
    assert not mask.hidden[1] and not mask.occluded[1].any() and mask.hidden[2]
    mask.clear_all()
    assert not mask.hidden.any()
    mask.undo()
    assert mask.hidden[2] and not mask.hidden[1]


def test_visibility_views_follow_the_model_conventions():
    mask = MaskModel(4, 8, 8)
    assert mask.pixel_visible() is None  # nothing painted: the fast frame-mask path
    mask.toggle_hidden(2)
    replay(mask, 0, [(1, 1)], size=1)
    assert mask.frame_visible().tolist() == [1, 1, 0, 1]
    pv = mask.pixel_visible()
    assert pv.dtype == np.float32 and pv[0, 1, 1] == 0 and pv[1].all()
    assert mask.fully_visible().tolist() == [False, True, False, True]
    with pytest.raises(ValueError):
        mask.hidden[0] = True


def test_presets():
    assert planning_hidden(20, 4, 12).tolist() == [False] * 4 + [True] * 12 + [False] * 4
    first = random_hidden(20, 0.5, seed=7, keep_first=4)
    assert not first[:4].any() and first[4:].any()
    assert np.array_equal(first, random_hidden(20, 0.5, seed=7, keep_first=4))
    assert random_hidden(20, 1.0, seed=0, keep_first=3).sum() == 17
    band = band_occlusion(3, 32, 32, "vertical", centre=16, thickness=6)
    assert band[:, :, 13:19].all() and band.sum() == 3 * 32 * 6
    band = band_occlusion(2, 32, 32, "horizontal", centre=0, thickness=4)
    assert band[:, 0:4, :].all() and band.sum() == 2 * 32 * 4
    with pytest.raises(ValueError):
        band_occlusion(1, 8, 8, "diagonal", 4, 2)

"""The Explore view driven by real mouse and key events (QTest), offscreen."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from window_helpers import RESULT_TIMEOUT_MS, drag, hidden_planning, wait_idle


def key(win, k, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(win, k, modifiers)


def test_first_launch_shows_the_planning_mask_and_a_result(window):
    explore = window.explore
    assert explore.images.shape == (20, 32, 32)
    assert np.array_equal(explore.mask.hidden, hidden_planning())
    assert explore.result.metrics.frames == 12
    assert explore.grid.image("smoothed").shape == (32, 32)
    assert explore.metrics.value_text("smoothing") != "–"


def test_a_stroke_paints_where_it_passed_runs_the_model_once_and_undo_redo(qtbot, window):
    explore = window.explore
    explore.timeline.set_frame(2)
    explore.mask_controls.size.setValue(3)
    before_smoothed = explore.grid.image("smoothed").copy()
    before_curve = explore.a_plot.smoothed_line.getData()[1].copy()
    requests = explore.requests
    shown = []
    explore.resultShown.connect(shown.append)

    with qtbot.waitSignal(explore.resultShown, timeout=RESULT_TIMEOUT_MS):
        drag(explore.canvas, [(4.5, 8.5), (12.5, 8.5), (20.5, 8.5), (27.5, 8.5)])
    wait_idle(qtbot, window)

    painted = explore.mask.occluded[2]
    assert painted[8, 4:28].all(), "the whole way between the events is painted"
    assert not painted[:5].any() and not painted[12:].any()
    assert not np.delete(explore.mask.occluded, 2, axis=0).any()
    assert explore.requests == requests + 1, "one stroke, one inference"
    assert len(shown) == 1
    assert not np.array_equal(explore.grid.image("smoothed"), before_smoothed)
    assert not np.array_equal(explore.a_plot.smoothed_line.getData()[1], before_curve)
    assert explore.result.pixel_visible is not None and explore.result.evaluated[2]

    after_stroke = explore.mask.occluded.copy()
    key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not explore.mask.occluded.any(), "undo restores the mask exactly"
    assert np.array_equal(explore.mask.hidden, hidden_planning())
    key(
        window,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert np.array_equal(explore.mask.occluded, after_stroke), "redo re-applies it"
    key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    key(window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(explore.mask.occluded, after_stroke)
    wait_idle(qtbot, window)
    assert explore.result.pixel_visible is not None


def test_a_stroke_shows_while_it_is_drawn_and_asks_the_model_only_at_release(qtbot, window):
    explore = window.explore
    explore.timeline.set_frame(3)
    explore.mask_controls.size.setValue(3)
    canvas, viewport = explore.canvas, explore.canvas.viewport()
    requests = explore.requests
    overlay_before = canvas.overlay.image[..., 3].copy()
    QTest.mousePress(
        viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
        canvas.widget_position(4.5, 20.5).toPoint(),
    )  # fmt: skip
    QTest.mouseMove(viewport, canvas.widget_position(20.5, 20.5).toPoint())
    qtbot.wait(20)  # a turn of the event loop, as between two real mouse moves
    overlay = canvas.overlay.image[..., 3]
    assert (overlay[20, 4:21] > overlay_before[20, 4:21]).all(), "the stroke so far is shown"
    assert explore.filmstrip._partial[3], "and its frame is marked in the strip"
    assert explore.requests == requests, "no inference while the stroke goes on"
    QTest.mouseRelease(
        viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
        canvas.widget_position(20.5, 20.5).toPoint(),
    )  # fmt: skip
    assert explore.requests == requests + 1
    wait_idle(qtbot, window)
    assert explore.result.evaluated[3]


def test_right_drag_erases_and_all_frames_paints_every_frame(qtbot, window):
    explore = window.explore
    explore.mask_controls.all_frames_action.setChecked(True)
    drag(explore.canvas, [(16.5, 2.5), (16.5, 29.5)])
    assert explore.mask.occluded[:, 2:30, 16].all()
    explore.mask_controls.all_frames_action.setChecked(False)
    explore.timeline.set_frame(5)
    drag(explore.canvas, [(16.5, 2.5), (16.5, 29.5)], button=Qt.MouseButton.RightButton)
    assert not explore.mask.occluded[5].any() and explore.mask.occluded[4].any()
    wait_idle(qtbot, window)


def test_clicking_a_thumbnail_hides_the_frame_and_updates_the_metrics(qtbot, window):
    explore = window.explore
    strip = explore.filmstrip
    before = explore.metrics.metrics
    with qtbot.waitSignal(explore.resultShown, timeout=RESULT_TIMEOUT_MS):
        QTest.mouseClick(strip, Qt.MouseButton.LeftButton, pos=strip.thumb_rect(17).center())
    wait_idle(qtbot, window)
    assert explore.mask.hidden[17] and explore.current_frame == 17
    assert explore.metrics.metrics.frames == before.frames + 1
    assert explore.result.evaluated[17]
    QTest.mouseClick(strip, Qt.MouseButton.LeftButton, pos=strip.thumb_rect(17, row=1).center())
    assert not explore.mask.hidden[17]
    wait_idle(qtbot, window)
    assert explore.metrics.metrics.frames == before.frames


def test_the_frame_counts_offered_survive_a_short_sequence(qtbot, window):
    """A fresh window offers the paper's planning mask (4 seen, then 12 hidden); a short
    sequence bounds the counts, and the next longer one gives the chosen ones back."""
    explore = window.explore
    controls = explore.mask_controls
    counts = lambda: (  # noqa: E731
        controls.plan_seen.value(),
        controls.plan_hidden.value(),
        controls.random_keep.value(),
    )
    assert counts() == (4, 12, 4)
    controls.plan_seen.setFocus()
    controls.plan_seen.lineEdit().selectAll()
    QTest.keyClicks(controls.plan_seen, "6")
    QTest.keyClick(controls.plan_seen, Qt.Key.Key_Tab)
    with qtbot.waitSignal(explore.resultShown, timeout=RESULT_TIMEOUT_MS):
        explore.new_sequence("box", 1, steps=3)
    assert counts() == (3, 3, 3)
    with qtbot.waitSignal(explore.resultShown, timeout=RESULT_TIMEOUT_MS):
        explore.new_sequence("box", 2, steps=20)
    assert counts() == (6, 12, 4)


def test_presets_set_the_expected_masks(qtbot, window):
    explore = window.explore
    controls = explore.mask_controls
    controls.plan_seen.setValue(2)
    controls.plan_hidden.setValue(5)
    QTest.mouseClick(controls.plan_button, Qt.MouseButton.LeftButton)
    assert explore.mask.hidden.tolist() == [False] * 2 + [True] * 5 + [False] * 13

    controls.random_p.setValue(1.0)
    controls.random_keep.setValue(3)
    QTest.mouseClick(controls.random_button, Qt.MouseButton.LeftButton)
    assert explore.mask.hidden.tolist() == [False] * 3 + [True] * 17
    wait_idle(qtbot, window)
    assert explore.metrics.metrics.coincide  # nothing is seen after frame 2
    assert explore.metrics.metrics.rollout  # nor after the roll-out's 3 first frames
    assert "All three coincide" in explore.metrics.note.text()

    controls.band_orientation.setCurrentText("horizontal")
    controls.band_centre.setValue(10)
    controls.band_width.setValue(4)
    QTest.mouseClick(controls.band_button, Qt.MouseButton.LeftButton)
    occluded = explore.mask.occluded
    assert occluded[:, 8:12, :].all() and occluded.sum() == 20 * 4 * 32
    wait_idle(qtbot, window)
    assert explore.metrics.metrics.frames == 20  # the band leaves no frame seen whole


def test_rapid_edits_end_on_the_last_edit_with_no_stale_frame(qtbot, window, tmp_path):
    """Edits made while the model's process is busy: only the last is computed and shown."""
    from kvae_studio.services.inference import InferenceRequest
    from kvae_studio.services.inference_run import run_inference

    explore = window.explore
    gate = tmp_path / "open"
    held = explore.runner._bridge.submit("work_targets:wait_for_path", str(gate))  # busy
    computed, shown = [], []
    explore.runner.computed.connect(lambda result: computed.append(result.seq))
    explore.resultShown.connect(shown.append)
    strip = explore.filmstrip
    for t in (16, 17, 18, 19, 17, 2):  # queued behind the held task, each newer than the last
        QTest.mouseClick(strip, Qt.MouseButton.LeftButton, pos=strip.thumb_rect(t).center())
    assert explore.busy and explore.busy_label.isVisibleTo(explore)
    last_seq = explore.runner.latest_seq
    gate.touch()
    qtbot.waitUntil(lambda: held.done, timeout=RESULT_TIMEOUT_MS)
    wait_idle(qtbot, window)
    assert not explore.busy_label.isVisibleTo(explore)
    assert computed == [last_seq], "edits in between were never computed"
    assert [r.seq for r in shown] == [last_seq]
    expected = hidden_planning()
    expected[[16, 18, 19, 2]] = True
    assert np.array_equal(explore.mask.hidden, expected)
    assert np.array_equal(explore.result.frame_visible, (~expected).astype(np.float32))
    direct = run_inference(
        InferenceRequest(0, explore.model, explore.images, (~expected).astype(np.float32), None)
    )
    explore.timeline.set_frame(18)
    assert np.allclose(explore.grid.image("smoothed"), direct.x_smoothed[18], atol=1e-6)


def test_timeline_keys_and_playback(qtbot, window):
    explore = window.explore
    timeline = explore.timeline
    timeline.set_frame(0)
    key(window, Qt.Key.Key_Right)
    key(window, Qt.Key.Key_Right)
    assert timeline.frame == 2
    key(window, Qt.Key.Key_Left)
    assert timeline.frame == 1
    key(window, Qt.Key.Key_End)
    assert timeline.frame == 19
    key(window, Qt.Key.Key_Home)
    assert timeline.frame == 0
    timeline.fps.setValue(30)
    key(window, Qt.Key.Key_Space)
    assert timeline.playing
    qtbot.waitUntil(lambda: timeline.frame >= 3, timeout=5000)
    key(window, Qt.Key.Key_Space)
    assert not timeline.playing
    frame = timeline.frame
    assert explore.canvas.frame.image is not None
    assert np.array_equal(explore.grid.image("truth"), explore.images[frame])
    assert explore.a_plot.marker.getData()[0][0] == explore.result.a_smoothed[frame, 0]


def test_hide_key_and_clear_keys(qtbot, window):
    explore = window.explore
    explore.timeline.set_frame(18)
    key(window, Qt.Key.Key_H)
    assert explore.mask.hidden[18]
    key(window, Qt.Key.Key_Delete)
    assert not explore.mask.hidden[18]
    key(window, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    assert not explore.mask.hidden.any()
    key(window, Qt.Key.Key_BracketRight)
    assert explore.mask_controls.brush_size == 5
    key(window, Qt.Key.Key_E)
    assert explore.mask_controls.erasing
    wait_idle(qtbot, window)
    assert explore.metrics.metrics.frames == 0
    assert "Every frame is seen" in explore.metrics.note.text()


def test_no_point_is_lost_in_a_fast_drag_across_the_canvas(window):
    explore = window.explore
    explore.mask_controls.size.setValue(1)
    explore.timeline.set_frame(1)
    drag(explore.canvas, [(0.5, 0.5), (31.5, 31.5)])
    diagonal = explore.mask.occluded[1][np.arange(32), np.arange(32)]
    assert diagonal.all()
    assert QPoint(0, 0) is not None


def test_painting_two_frames_imputes_both(qtbot, window):
    explore = window.explore
    messages = []
    explore.statusMessage.connect(messages.append)
    for frame in (1, 17):
        explore.timeline.set_frame(frame)
        drag(explore.canvas, [(4.5, 8.5), (20.5, 8.5)])
        wait_idle(qtbot, window)
    assert not messages, messages
    assert explore.result.evaluated[[1, 17]].all()
    assert explore.result.metrics.frames == 14


def test_what_is_painted_after_edits_is_what_a_full_repaint_draws(qtbot, window):
    """The views repaint only what changed (the grid's pictures without their titles, the
    markers as one item): the window's backing store after a click and a stroke must
    equal a fresh rendering of the whole window."""
    explore = window.explore
    explore.timeline.set_frame(2)
    strip = explore.filmstrip
    QTest.mouseClick(strip, Qt.MouseButton.LeftButton, pos=strip.thumb_rect(17).center())
    wait_idle(qtbot, window)
    explore.timeline.set_frame(2)
    drag(explore.canvas, [(3.5, 10.5), (12.5, 12.5), (24.5, 10.5)])
    wait_idle(qtbot, window)
    qtbot.wait(50)  # the pending paints
    on_screen = window.screen().grabWindow(window.winId()).toImage()
    rendered = window.grab().toImage()
    assert on_screen.size() == rendered.size()
    rect = explore.geometry().translated(explore.mapTo(window, QPoint(0, 0)) - explore.pos())
    differ = [
        (x, y)
        for x in range(rect.left(), rect.right(), 2)
        for y in range(rect.top(), rect.bottom(), 2)
        if on_screen.pixel(x, y) != rendered.pixel(x, y)
    ]
    assert not differ, f"{len(differ)} pixels differ, e.g. {differ[:5]}"

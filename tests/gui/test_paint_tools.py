"""Explore's rectangle, lasso and fill tools, driven by real keys and mouse events on the
canvas (QTest), offscreen: each covers what the document layer says, erases with the
right button or the eraser, works on every frame at once, and is one undo step."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QToolButton
from window_helpers import RESULT_TIMEOUT_MS, drag, wait_idle

from kvae_studio.document.shapes import fill_region

NO_MOD = Qt.KeyboardModifier.NoModifier
LEFT, RIGHT = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton


def test_r_then_a_drag_covers_the_box_shows_it_while_dragging_and_is_one_undo_step(qtbot, window):
    explore = window.explore
    canvas, viewport = explore.canvas, explore.canvas.viewport()
    explore.timeline.set_frame(2)
    QTest.keyClick(window, Qt.Key.Key_R)
    assert explore.mask_controls.tool == "rectangle"
    assert not canvas.cursor_ring.isVisible(), "no brush ring over a rectangle"
    requests = explore.requests

    QTest.mousePress(viewport, LEFT, NO_MOD, canvas.widget_position(3.5, 5.5).toPoint())
    QTest.mouseMove(viewport, canvas.widget_position(26.5, 20.5).toPoint())
    qtbot.waitUntil(lambda: canvas.overlay.image[..., 3][5:21, 3:27].min() > 0)
    QTest.mouseMove(viewport, canvas.widget_position(12.5, 10.5).toPoint())
    qtbot.waitUntil(lambda: canvas.overlay.image[..., 3][15, 20] == 0)  # the box shrank
    assert explore.requests == requests, "no inference while the box is dragged"
    with qtbot.waitSignal(explore.resultShown, timeout=RESULT_TIMEOUT_MS):
        QTest.mouseRelease(viewport, LEFT, NO_MOD, canvas.widget_position(12.5, 10.5).toPoint())
    assert explore.requests == requests + 1

    want = np.zeros((32, 32), bool)
    want[5:11, 3:13] = True
    assert np.array_equal(explore.mask.occluded[2], want)
    assert not np.delete(explore.mask.occluded, 2, axis=0).any()
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not explore.mask.occluded.any(), "the whole box was one undo step"
    wait_idle(qtbot, window)


def test_l_then_an_outline_covers_its_inside_on_release_and_the_right_button_erases(qtbot, window):
    explore = window.explore
    explore.timeline.set_frame(3)
    QTest.keyClick(window, Qt.Key.Key_L)
    assert explore.mask_controls.tool == "lasso"
    outline = [(4.0, 4.0), (16.0, 3.0), (28.0, 4.0), (28.0, 28.0), (4.0, 28.0)]
    drag(explore.canvas, outline)  # released away from the start: closed
    occluded = explore.mask.occluded[3]
    assert occluded[5:27, 5:27].all(), "the inside is covered"
    assert not occluded[:2].any() and not occluded[30:].any() and not occluded[:, 30:].any()
    assert explore.mask.history_length == 1

    drag(explore.canvas, [(8.0, 8.0), (20.0, 8.0), (20.0, 20.0)], button=RIGHT)
    occluded = explore.mask.occluded[3]
    assert not occluded[10, 15] and occluded[18, 10], "the right button erased its triangle"
    assert explore.mask.history_length == 2
    wait_idle(qtbot, window)


def test_f_then_a_click_hides_the_connected_region_on_every_frame_and_e_erases(qtbot, window):
    explore = window.explore
    controls = explore.mask_controls
    explore.timeline.set_frame(6)
    frame = explore.images[6]
    rows, cols = np.nonzero(frame >= 0.5)
    ball = (cols[0] + 0.5, rows[0] + 0.5)
    QTest.keyClick(window, Qt.Key.Key_F)
    assert controls.tool == "fill" and not controls.size.isEnabled()
    QTest.keyClick(window, Qt.Key.Key_A)
    assert controls.all_frames

    canvas = explore.canvas
    with qtbot.waitSignal(explore.resultShown, timeout=RESULT_TIMEOUT_MS):
        QTest.mouseClick(canvas.viewport(), LEFT, NO_MOD, canvas.widget_position(*ball).toPoint())
    region = fill_region(frame, ball)
    assert region.sum() > 1 and frame[region].min() >= 0.5, "the ball, not one pixel"
    assert all(np.array_equal(explore.mask.occluded[t], region) for t in range(explore.steps))
    assert explore.mask.history_length == 1

    QTest.keyClick(window, Qt.Key.Key_A)
    QTest.keyClick(window, Qt.Key.Key_E)
    assert controls.erasing
    QTest.mouseClick(canvas.viewport(), LEFT, NO_MOD, canvas.widget_position(*ball).toPoint())
    assert not explore.mask.occluded[6].any() and explore.mask.occluded[5].any()
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(explore.mask.occluded[6], region), "the erasing click: one step"

    QTest.keyClick(window, Qt.Key.Key_B)
    assert controls.tool == "brush" and controls.size.isEnabled()
    wait_idle(qtbot, window)


def test_the_tools_are_buttons_in_the_paint_box_and_f1_lists_their_keys(window):
    from kvae_studio.app.menus import shortcut_table

    controls = window.explore.mask_controls
    shown = [b.text() for b in controls.findChildren(QToolButton) if b.isVisible()]
    for name in ("Brush", "Rectangle", "Lasso", "Fill", "Eraser"):
        assert name in shown
    rows = dict(shortcut_table(window))
    assert (rows["Rectangle"], rows["Lasso"], rows["Fill"]) == ("R", "L", "F")


def test_a_new_sequence_keeps_the_painted_mask_and_its_undo_history(qtbot, window):
    """The masks carry over to a new sequence, so their history does too: Ctrl+Z after
    New sequence takes back the stroke painted on the old one."""
    explore = window.explore
    explore.timeline.set_frame(1)
    drag(explore.canvas, [(6.0, 6.0), (20.0, 6.0)])
    painted = explore.mask.occluded.copy()
    assert painted.any() and explore.mask.history_length == 1
    wait_idle(qtbot, window)

    images = explore.images
    with qtbot.waitSignal(explore.resultShown, timeout=RESULT_TIMEOUT_MS):
        QTest.mouseClick(explore.sequence_controls.new_button, LEFT)
    assert explore.images is not images, "a new sequence is shown"
    assert np.array_equal(explore.mask.occluded, painted), "the masks carried over"
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not explore.mask.occluded.any(), "the stroke is undone on the new sequence"
    QTest.keyClick(
        window,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert np.array_equal(explore.mask.occluded, painted), "and redone"
    wait_idle(qtbot, window)

"""What tripped a new user (issue 13), each driven by real mouse and key events."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from window_helpers import RESULT_TIMEOUT_MS, wait_idle

LEFT = Qt.MouseButton.LeftButton
NO_MOD = Qt.KeyboardModifier.NoModifier


def drag(canvas, points, button=LEFT) -> None:
    viewport = canvas.viewport()
    pos = [canvas.widget_position(x, y).toPoint() for x, y in points]
    QTest.mousePress(viewport, button, NO_MOD, pos[0])
    for p in pos[1:]:
        QTest.mouseMove(viewport, p)
    QTest.mouseRelease(viewport, button, NO_MOD, pos[-1])


def test_a_few_painted_pixels_in_frames_0_to_3_keep_the_generated_view(qtbot, window):
    explore = window.explore
    explore.mask_controls.size.setValue(2)
    for t in range(4):
        explore.timeline.set_frame(t)
        with qtbot.waitSignal(explore.resultShown, timeout=RESULT_TIMEOUT_MS):
            drag(explore.canvas, [(1.5, 1.5), (2.5, 1.5)])  # a few background pixels
        assert explore.mask.occluded[t].sum() < 12
    wait_idle(qtbot, window)
    assert explore.result.n_init == 4
    assert explore.grid.image("generated") is not None, "generation still shown"
    assert "unavailable" not in explore.grid.title("generated")
    assert explore.metrics.value_text("generation") != "–"


def test_generation_says_why_it_is_unavailable(qtbot, window):
    explore = window.explore
    strip = explore.filmstrip
    with qtbot.waitSignal(explore.resultShown, timeout=RESULT_TIMEOUT_MS):
        QTest.mouseClick(strip, LEFT, NO_MOD, strip.thumb_rect(0, 0).center())
    wait_idle(qtbot, window)
    assert explore.mask.hidden[0]
    assert explore.grid.image("generated") is None
    assert "unavailable" in explore.grid.title("generated")
    assert "Frame 0 is hidden" in explore.grid.note("generated")


def test_every_frame_seen_blanks_the_scores_and_its_hint_covers_none(qtbot, window):
    explore = window.explore
    with qtbot.waitSignal(explore.resultShown, timeout=RESULT_TIMEOUT_MS):
        QTest.keyClick(window, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)  # Clear all
    wait_idle(qtbot, window)
    panel = explore.metrics
    assert "Every frame is seen" in panel.note.text()
    assert [panel.value_text(k) for k in ("smoothing", "baseline")] == ["–", "–"]
    window.resize(1024, 700)
    qtbot.wait(50)
    assert not panel.note.geometry().intersects(panel.bars.geometry())
    assert panel.note.height() >= 2 * panel.note.fontMetrics().lineSpacing()

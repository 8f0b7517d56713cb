"""What tripped a new user (issue 13), each driven by real mouse and key events."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtTest import QTest
from window_helpers import RESULT_TIMEOUT_MS, drag, open_checked, wait_idle

LEFT = Qt.MouseButton.LeftButton
NO_MOD = Qt.KeyboardModifier.NoModifier


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
    note = QRect(panel.note.mapTo(panel, QPoint(0, 0)), panel.note.size())  # in the panel
    assert not note.intersects(panel.bars.geometry())
    assert panel.note.height() >= 2 * panel.note.fontMetrics().lineSpacing()


def test_new_sequence_advances_the_seed_enter_applies_a_typed_one_and_dice(qtbot, window):
    explore = window.explore
    controls = explore.sequence_controls
    first = explore.images.copy()
    with qtbot.waitSignal(explore.resultShown, timeout=RESULT_TIMEOUT_MS):
        QTest.mouseClick(controls.new_button, LEFT)
    assert explore.source.seed == 1 and controls.seed.value() == 1
    assert controls.scene.currentText() == "Box", "scenes titled as in the Scene tab"
    assert controls.source_label.text().startswith("Box, seed 1")
    assert not np.array_equal(explore.images, first), "a new sequence, not the same again"
    with qtbot.waitSignal(explore.resultShown, timeout=RESULT_TIMEOUT_MS):
        QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert explore.source.seed == 2 and controls.seed.value() == 2

    line = controls.seed.lineEdit()
    controls.seed.setFocus()
    line.selectAll()
    QTest.keyClicks(line, "42")
    with qtbot.waitSignal(explore.resultShown, timeout=RESULT_TIMEOUT_MS):
        QTest.keyClick(line, Qt.Key.Key_Return)
    assert explore.source.seed == 42, "Enter applies the typed seed"
    with qtbot.waitSignal(explore.resultShown, timeout=RESULT_TIMEOUT_MS):
        QTest.mouseClick(controls.new_button, LEFT)
    assert explore.source.seed == 43

    with qtbot.waitSignal(explore.resultShown, timeout=RESULT_TIMEOUT_MS):
        QTest.mouseClick(controls.dice, LEFT)
    assert explore.source.seed == controls.seed.value() != 43
    wait_idle(qtbot, window)


def test_clicking_a_tile_shows_it_large_and_one_click_returns_to_painting(qtbot, window):
    explore = window.explore
    grid, canvas = explore.grid, explore.canvas
    QTest.mouseClick(grid, LEFT, NO_MOD, grid.frame_rect("smoothed").center())
    assert explore.large_view == "smoothed"
    assert np.array_equal(canvas.frame.image, grid.image("smoothed"))
    assert explore.canvas_title.text().startswith("Smoothed")
    painted = explore.mask.occluded.copy()
    drag(canvas, [(10.5, 10.5), (20.5, 10.5)])
    assert np.array_equal(explore.mask.occluded, painted), "a large view is not painted on"
    QTest.keyClick(window, Qt.Key.Key_Right)  # it follows the timeline
    assert np.array_equal(canvas.frame.image, grid.image("smoothed"))
    QTest.mouseClick(grid, LEFT, NO_MOD, grid.frame_rect("overlay").center())
    assert canvas.frame.image.shape == (32, 32, 3), "the overlay in colour"
    assert explore.paint_button.isVisible()

    QTest.mouseClick(explore.paint_button, LEFT)
    assert explore.large_view == "observed" and canvas.painting
    assert np.array_equal(canvas.frame.image, explore.images[explore.current_frame])
    drag(canvas, [(10.5, 10.5), (20.5, 10.5)])
    assert explore.mask.occluded[explore.current_frame, 10, 10:21].all()
    wait_idle(qtbot, window)


def _wheel(canvas, steps: int, pos) -> None:
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    viewport = canvas.viewport()
    event = QWheelEvent(
        QPointF(pos),
        QPointF(viewport.mapToGlobal(pos)),
        QPoint(),
        QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton,
        NO_MOD,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, event)


def test_the_canvas_zooms_pans_and_resets(qtbot, window):
    explore = window.explore
    canvas = explore.canvas
    assert canvas.zoom == pytest.approx(1.0, rel=0.05)
    corner = canvas.widget_position(8, 8).toPoint()
    _wheel(canvas, 3, corner)
    assert canvas.zoom > 1.8
    assert canvas.image_position(QPointF(corner)).x() == pytest.approx(8, abs=0.5), (
        "zoom keeps the point under the pointer"
    )
    (x0, _), _ = canvas.box.viewRange()
    viewport = canvas.viewport()
    start = viewport.rect().center()
    QTest.mousePress(viewport, Qt.MouseButton.MiddleButton, NO_MOD, start)
    QTest.mouseMove(viewport, start + QPoint(60, 0))
    QTest.mouseRelease(viewport, Qt.MouseButton.MiddleButton, NO_MOD, start + QPoint(60, 0))
    (x1, _), _ = canvas.box.viewRange()
    assert x1 < x0 - 1, "dragging right with the middle button shows what lies left"
    assert not explore.mask.occluded.any(), "panning does not paint"
    # Painting still lands where the pointer is, zoomed in.
    drag(canvas, [(12.5, 12.5), (14.5, 12.5)])
    assert explore.mask.occluded[explore.current_frame, 12, 12:15].all()
    # Space held over the canvas: the left button pans instead of painting or playing.
    painted = explore.mask.occluded.copy()
    QTest.mouseMove(viewport, start)
    canvas.setFocus()
    (x0, _), _ = canvas.box.viewRange()
    QTest.keyPress(canvas, Qt.Key.Key_Space)
    QTest.mousePress(viewport, LEFT, NO_MOD, start)
    QTest.mouseMove(viewport, start + QPoint(-60, 0))
    QTest.mouseRelease(viewport, LEFT, NO_MOD, start + QPoint(-60, 0))
    QTest.keyRelease(canvas, Qt.Key.Key_Space)
    (x1, _), _ = canvas.box.viewRange()
    assert x1 > x0 + 1 and np.array_equal(explore.mask.occluded, painted)
    assert not explore.timeline.playing, "Space over the canvas pans, it does not play"

    QTest.mouseClick(explore.zoom_button, LEFT)
    assert canvas.zoom == pytest.approx(1.0, rel=0.05)
    _wheel(canvas, 2, corner)
    QTest.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert canvas.zoom == pytest.approx(1.0, rel=0.05), "Ctrl+0 resets too"
    assert ("Reset zoom", "Ctrl+0") in window.shortcut_table()
    wait_idle(qtbot, window)


def test_the_frame_counter_stays_put_and_the_end_buttons_jump(qtbot, window):
    timeline = window.explore.timeline
    places = set()
    for _ in range(20):
        QTest.keyClick(window, Qt.Key.Key_Right)
        places.add((timeline.label.x(), timeline.label.width(), timeline.slider.width()))
    assert len(places) == 1, "the counter and the slider do not move during playback"
    timeline.set_frame(7)
    QTest.mouseClick(timeline.last_button, LEFT)
    assert timeline.frame == 19
    QTest.mouseClick(timeline.prev_button, LEFT)
    assert timeline.frame == 18
    QTest.mouseClick(timeline.first_button, LEFT)
    assert timeline.frame == 0
    QTest.mouseClick(timeline.next_button, LEFT)
    assert timeline.frame == 1
    wait_idle(qtbot, window)


def test_quit_asks_to_save_unsaved_mask_edits_with_dont_ask_again(qtbot, window, tmp_path):
    from PySide6.QtWidgets import QMessageBox

    explore = window.explore
    window.settings.set_ask_save_on_quit(True)
    assert not explore.unsaved_edits, "a fresh sequence has nothing to save"
    strip = explore.filmstrip
    QTest.mouseClick(strip, LEFT, NO_MOD, strip.thumb_rect(18).center())
    assert explore.unsaved_edits
    QTest.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    box = window.quit_box
    assert window.isVisible() and box.isVisible()
    QTest.mouseClick(box.button(QMessageBox.StandardButton.Cancel), LEFT)
    assert window.isVisible(), "Cancel keeps the window and the edits"

    assert window.save_session(tmp_path / "kept.session.npz")
    assert not explore.unsaved_edits
    QTest.mouseClick(strip, LEFT, NO_MOD, strip.thumb_rect(17).center())
    wait_idle(qtbot, window)
    window.close()
    box = window.quit_box
    assert box.isVisible()
    QTest.mouseClick(box.checkBox(), LEFT)
    QTest.mouseClick(box.button(QMessageBox.StandardButton.Discard), LEFT)
    qtbot.waitUntil(lambda: not window.isVisible())
    assert not window.settings.ask_save_on_quit(), "don't ask again is remembered"


def test_runs_are_named_by_their_folder_and_the_model_dialog_hides_resume_states(
    qtbot, window, model, tmp_path
):
    from PySide6.QtWidgets import QListView

    from kvae_studio.app.model_dialog import model_file_dialog
    from model.checkpoint import save_model

    run = tmp_path / "runs" / "tiny-box"
    run.mkdir(parents=True)
    save_model(model, run / "model.safetensors", summary={"epoch": 1})
    (run / "resume.safetensors").write_bytes(b"optimiser state")
    open_checked(qtbot, window, run / "model.safetensors", how="open_path")
    wait_idle(qtbot, window)
    assert window.recent_menu.actions()[0].text() == "tiny-box"
    assert window.model_status.text() == "tiny-box"
    assert "<b>tiny-box</b>" in window.explore.sequence_controls.model_label.text()

    dialog = model_file_dialog(window, str(run))
    qtbot.addWidget(dialog)
    dialog.open()
    view = dialog.findChild(QListView, "listView")

    def names() -> list[str]:
        root = view.rootIndex()
        return [view.model().index(r, 0, root).data() for r in range(view.model().rowCount(root))]

    qtbot.waitUntil(lambda: "model.safetensors" in names())
    assert names() == ["model.safetensors"]
    dialog.reject()

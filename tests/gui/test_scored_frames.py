"""What the scores were computed on (issue 27, friction): a frame partly painted over is
scored whole, so the note under the bars counts it apart from the hidden frames rather
than call it one more unseen frame. A real stroke on the canvas."""

from __future__ import annotations

from window_helpers import RESULT_TIMEOUT_MS, drag, wait_idle


def test_a_partly_painted_frame_is_counted_apart_from_the_hidden_ones(qtbot, window):
    explore = window.explore
    note = explore.metrics.note
    assert note.text().startswith("Scored on 12 unseen frames.")  # the planning mask
    assert "Generated = filtered" in note.text()  # the roll-out is the filter's prediction
    assert note.heightForWidth(note.width()) <= note.minimumHeight(), note.width()
    explore.timeline.set_frame(1)
    explore.mask_controls.size.setValue(3)
    with qtbot.waitSignal(explore.resultShown, timeout=RESULT_TIMEOUT_MS):
        drag(explore.canvas, [(4.5, 8.5), (12.5, 8.5)])
    wait_idle(qtbot, window)
    assert explore.mask.occluded[1].any() and not explore.mask.hidden[1]
    assert explore.result.metrics.frames == 13 and explore.result.metrics.partly == 1
    assert note.text() == "Scored on 13 frames: 12 hidden, 1 partly painted (scored whole)."
    # The note fits the two lines kept for it, in the smallest window too.
    assert note.heightForWidth(note.width()) <= note.minimumHeight(), note.width()
    wide = note.width()
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: note.width() < wide)
    assert note.heightForWidth(note.width()) <= note.minimumHeight(), note.width()

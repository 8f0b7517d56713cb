"""The window at 1024x700, the smallest size it is made for: thumbnails legible, no spin
box under a scroll bar, every tab fits."""

from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QAbstractSpinBox, QScrollArea
from window_helpers import RESULT_TIMEOUT_MS, wait_idle

from kvae_studio.app.explore.filmstrip import MIN_THUMB

SIZE = (1024, 700)


def _covered_spin_boxes(tab) -> list[str]:
    """Spin boxes that reach under their scroll area's vertical bar (or past its edge)."""
    covered = []
    for spin in tab.findChildren(QAbstractSpinBox):
        if not spin.isVisibleTo(tab):
            continue
        parent, area = spin.parentWidget(), None
        while parent is not None and parent is not tab:
            if isinstance(parent, QScrollArea):
                area = parent
                break
            parent = parent.parentWidget()
        if area is None:
            continue
        right = spin.mapTo(area.viewport(), QPoint(spin.width(), 0)).x()
        if right > area.viewport().width():
            covered.append(f"{spin.objectName() or type(spin).__name__} at x={right}")
    return covered


def test_the_window_fits_1024x700_with_legible_thumbnails_and_no_covered_spin_box(
    qtbot, model, qsettings, tmp_path, monkeypatch
):
    from kvae_studio.app.main_window import MainWindow

    monkeypatch.setenv("KVAE_STUDIO_HOME", str(tmp_path / "studio"))
    win = MainWindow(model, None, settings=qsettings, restore_layout=False)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.explore.resultShown, timeout=RESULT_TIMEOUT_MS):
        win.explore.new_sequence("box", 0, steps=20)
    win.resize(*SIZE)
    win.show()
    qtbot.waitExposed(win)
    wait_idle(qtbot, win)
    assert (win.width(), win.height()) == SIZE, "no tab may force a larger window"

    strip = win.explore.filmstrip
    assert strip.thumb_rect(0).width() >= MIN_THUMB >= 24
    assert strip.thumb_rect(0, 1).height() >= 24
    # The current frame's thumbnail is scrolled into view.
    win.explore.timeline.set_frame(19)
    qtbot.wait(20)
    visible = strip.visibleRegion().boundingRect()
    assert visible.contains(strip.thumb_rect(19).center())

    for index in range(win.tabs.count()):
        win.tabs.setCurrentIndex(index)
        qtbot.wait(20)
        tab = win.tabs.widget(index)
        assert _covered_spin_boxes(tab) == [], win.tabs.tabText(index)
    win.close()

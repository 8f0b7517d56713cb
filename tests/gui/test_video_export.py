"""Video export from the window: the save dialog's filter decides the format, and the
File menu makes the paper's two videos of the sequence on screen."""

from __future__ import annotations

import cv2
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

DIALOG = "kvae_studio.app.window_commands.QFileDialog.getSaveFileName"


def frame_count(path) -> int:
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


def click_file_menu_entry(qtbot, win, words: str) -> None:
    """Open File with a click on the menu bar, then click the entry holding `words`."""
    bar = win.menuBar()
    file_action = bar.actions()[0]
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.actionGeometry(file_action).center())
    menu = file_action.menu()
    qtbot.waitUntil(menu.isVisible)
    action = next(a for a in menu.actions() if words in a.text().replace("&", ""))
    QTest.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())


def test_animated_gif_chosen_with_a_bare_name_writes_a_gif(qtbot, window, tmp_path, monkeypatch):
    folder = tmp_path / "videos"
    folder.mkdir()
    monkeypatch.setattr(DIALOG, lambda *a, **k: (str(folder / "clip"), "Animated GIF (*.gif)"))
    QTest.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)  # fmt: skip
    assert [p.name for p in folder.iterdir()] == ["clip.gif"], window.errors
    assert (folder / "clip.gif").read_bytes()[:6] == b"GIF89a"


@pytest.mark.parametrize(("kind", "frames"), [("Imputation", 20), ("Generation", 40)])
def test_the_file_menu_exports_the_papers_videos(qtbot, window, tmp_path, monkeypatch, kind,
                                                 frames):  # fmt: skip
    out = tmp_path / f"{kind}.mp4"
    monkeypatch.setattr(DIALOG, lambda *a, **k: (str(out), "MP4 video (*.mp4)"))
    click_file_menu_entry(qtbot, window, f"Paper's {kind} Video")
    qtbot.waitUntil(out.exists)
    assert not window.errors
    assert frame_count(out) == frames  # generation: twice the sequence's 20 frames

"""Video export from the window: its options (which views side by side, frames per second,
scale) in a dialog remembered for the session, the save dialog's filter decides the format,
and the File menu makes the paper's two videos of the sequence on screen."""

from __future__ import annotations

import pytest
from panel_helpers import click, type_into
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from video_readback import decoded, frame_count

DIALOG = "kvae_studio.app.window_commands.QFileDialog.getSaveFileName"


def click_file_menu_entry(qtbot, win, words: str) -> None:
    """Open File with a click on the menu bar, then click the entry holding `words`."""
    bar = win.menuBar()
    file_action = bar.actions()[0]
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.actionGeometry(file_action).center())
    menu = file_action.menu()
    qtbot.waitUntil(menu.isVisible)
    action = next(a for a in menu.actions() if words in a.text().replace("&", ""))
    QTest.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())


def open_video_options(qtbot, win):
    """Ctrl+Shift+E, as a user asks for a video: its options' dialog, once it is shown."""
    QTest.keyClick(win, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)  # fmt: skip
    qtbot.waitUntil(lambda: win.commands.video_dialog is not None)
    dialog = win.commands.video_dialog
    qtbot.waitExposed(dialog)
    return dialog


def test_animated_gif_chosen_with_a_bare_name_writes_a_gif(qtbot, window, tmp_path, monkeypatch):
    folder = tmp_path / "videos"
    folder.mkdir()
    monkeypatch.setattr(DIALOG, lambda *a, **k: (str(folder / "clip"), "Animated GIF (*.gif)"))
    dialog = open_video_options(qtbot, window)
    QTest.keyClick(dialog, Qt.Key.Key_Return)  # the defaults: today's video
    assert [p.name for p in folder.iterdir()] == ["clip.gif"], window.errors
    assert (folder / "clip.gif").read_bytes()[:6] == b"GIF89a"
    # Truth | observed | imputed, 32-pixel frames at scale 6: 3 x 192 + 4 gaps of 6 wide,
    # a 22-pixel caption band and a gap below; one picture per frame.
    count, size, _rate = decoded(folder / "clip.gif")
    assert (count, size) == (20, (22 + 192 + 6, 3 * 192 + 4 * 6))


def test_the_video_shows_the_chosen_views_at_the_chosen_rate_and_scale(
    qtbot, window, tmp_path, monkeypatch
):
    asked = iter([tmp_path / "first.mp4", tmp_path / "second.mp4"])
    monkeypatch.setattr(DIALOG, lambda *a, **k: (str(next(asked)), "MP4 video (*.mp4)"))
    dialog = open_video_options(qtbot, window)
    checks = dialog.view_checks
    assert [n for n, c in checks.items() if c.isChecked()] == ["truth", "observed", "imputed"]
    assert dialog.fps_spin.value() == window.explore.timeline.fps.value()
    assert dialog.scale_spin.value() == 6
    for name in ("observed", "filtered", "smoothed", "generated"):
        click(checks[name])
    type_into(dialog.fps_spin, "12")
    type_into(dialog.scale_spin, "3")
    # Five views of 96 pixels and six 4-pixel gaps; the caption band, the frame, a gap.
    width, height = 5 * 96 + 6 * 4, 22 + 96 + 4
    assert dialog.size_label.text() == f"{width} × {height} pixels, 20 frames"
    click(dialog.ok_button)
    out = tmp_path / "first.mp4"
    qtbot.waitUntil(out.exists)
    assert not window.errors
    count, size, rate = decoded(out)
    assert (count, size) == (20, (height, width))
    assert rate == pytest.approx(12.0)

    # Asked again in the same session: the last choices, not the defaults.
    dialog = open_video_options(qtbot, window)
    chosen = [n for n, c in dialog.view_checks.items() if c.isChecked()]
    assert chosen == ["truth", "filtered", "smoothed", "imputed", "generated"]
    assert (dialog.fps_spin.value(), dialog.scale_spin.value()) == (12.0, 3)
    QTest.keyClick(dialog, Qt.Key.Key_Escape)  # cancelled: nothing asked, nothing written
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert not (tmp_path / "second.mp4").exists()

    # Defaults gives today's video back; no view ticked, no export.
    dialog = open_video_options(qtbot, window)
    click(dialog.findChild(type(dialog.ok_button), "videoDefaults"))
    assert [n for n, c in dialog.view_checks.items() if c.isChecked()] == [
        "truth",
        "observed",
        "imputed",
    ]
    assert dialog.scale_spin.value() == 6
    for name in ("truth", "observed", "imputed"):
        click(dialog.view_checks[name])
    assert not dialog.ok_button.isEnabled()
    QTest.keyClick(dialog, Qt.Key.Key_Escape)


@pytest.mark.parametrize(("kind", "frames"), [("Imputation", 20), ("Generation", 40)])
def test_the_file_menu_exports_the_papers_videos(qtbot, window, tmp_path, monkeypatch, kind,
                                                 frames):  # fmt: skip
    out = tmp_path / f"{kind}.mp4"
    monkeypatch.setattr(DIALOG, lambda *a, **k: (str(out), "MP4 video (*.mp4)"))
    click_file_menu_entry(qtbot, window, f"Paper's {kind} Video")
    qtbot.waitUntil(out.exists)
    assert not window.errors
    assert frame_count(out) == frames  # generation: twice the sequence's 20 frames

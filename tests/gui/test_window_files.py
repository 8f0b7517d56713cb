"""The window's files: models, datasets, sessions, exports, settings, and the screenshot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import hostile_files as hostile
import numpy as np
import pytest
import torch
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from video_readback import frame_count
from window_helpers import RESULT_TIMEOUT_MS, open_checked, refused_after_check, wait_idle

from model.checkpoint import save_model
from model.config import KVAEConfig
from model.kvae import KVAE

REPO = Path(__file__).resolve().parents[2]


def snapshot(window) -> dict:
    ex = window.explore
    return {
        "model": ex.model,
        "path": ex.model_path,
        "images": ex.images.copy(),
        "hidden": ex.mask.hidden.copy(),
        "occluded": ex.mask.occluded.copy(),
        "requests": ex.requests,
        "result": ex.result,
        "source": ex.source,
    }


def assert_unchanged(window, before: dict) -> None:
    ex = window.explore
    assert ex.model is before["model"] and ex.model_path == before["path"]
    assert np.array_equal(ex.images, before["images"])
    assert np.array_equal(ex.mask.hidden, before["hidden"])
    assert np.array_equal(ex.mask.occluded, before["occluded"])
    assert ex.requests == before["requests"] and ex.result is before["result"]
    assert ex.source == before["source"]


def close_error(window) -> str:
    box = window.error_box
    assert box is not None and box.isVisible()
    text = box.text()
    box.close()
    return text


@pytest.mark.parametrize(
    ("name", "content", "opener"),
    [
        *hostile.BROKEN_FILES,
        ("broken.session.npz", b"PK\x03\x04 truncated zip", "open_path"),
        ("notes.txt", b"hello", "open_path"),
    ],
)
def test_a_bad_file_shows_one_line_and_leaves_the_session_as_it_was(
    window, tmp_path, name, content, opener
):
    path = tmp_path / name
    path.write_bytes(content)
    before = snapshot(window)
    assert getattr(window, opener)(str(path)) is False
    text = close_error(window)
    assert name in text and "\n" not in text
    assert_unchanged(window, before)


def test_a_model_whose_weights_are_bad_is_refused_by_the_check_in_a_process(
    qtbot, window, tmp_path
):
    """Its header is fine, so only loading it whole finds the NaN weights: the window has
    a job's process do that (it imports no torch itself) and refuses the file."""
    import torch

    from model.checkpoint import save_model
    from model.config import KVAEConfig
    from model.kvae import KVAE

    path = tmp_path / "nan.safetensors"
    save_model(KVAE(KVAEConfig()), path)
    data = bytearray(path.read_bytes())
    header = int.from_bytes(data[:8], "little")
    nan = torch.tensor([float("nan")] * 64, dtype=torch.float32).numpy().tobytes()
    data[8 + header : 8 + header + len(nan)] = nan  # the first weights become NaN
    path.write_bytes(bytes(data))
    before = snapshot(window)
    refused_after_check(qtbot, window, path)
    text = close_error(window)
    assert "nan.safetensors" in text and "NaN" in text and "\n" not in text
    assert_unchanged(window, before)


def test_a_dataset_of_another_frame_size_is_refused(window, tmp_path):
    path = tmp_path / "big.npz"
    np.savez(path, images=np.zeros((2, 20, 64, 64), np.float32))
    before = snapshot(window)
    assert window.open_dataset(str(path)) is False
    assert "64×64" in close_error(window)
    assert_unchanged(window, before)


def test_open_dataset_pick_a_sequence_and_remember_it(qtbot, window, tmp_path):
    rng = np.random.default_rng(1)
    images = (rng.random((3, 20, 32, 32)) > 0.95).astype(np.float32)
    path = tmp_path / "three.npz"
    np.savez(path, images=images)
    assert window.open_dataset(str(path))
    wait_idle(qtbot, window)
    ex = window.explore
    assert np.array_equal(ex.images, images[0])
    spin = ex.sequence_controls.index
    assert spin.isEnabled() and spin.maximum() == 2
    spin.setValue(2)
    wait_idle(qtbot, window)
    assert np.array_equal(ex.images, images[2]) and ex.source.index == 2
    assert np.array_equal(ex.result.images, images[2])
    assert str(path.resolve()) in window.settings.recent_files()


def test_drop_a_model_file_opens_it_and_settings_remember_it(qtbot, window, tmp_path):
    torch.manual_seed(5)
    other = KVAE(KVAEConfig(K=2))
    path = tmp_path / "two-regimes.safetensors"
    save_model(other, path, {"epoch": 7})
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter = QDragEnterEvent(QPointF(200, 200), *args)  # a drop goes where the drag entered
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(window, QDropEvent(QPointF(200, 200), *args))
    qtbot.waitUntil(lambda: window.current_model_path == str(path.resolve()))
    wait_idle(qtbot, window)
    assert window.explore.model.config.K == 2
    assert window.explore.result.alpha.shape == (20, 2)
    assert len(window.explore.time_plots.alpha_edges) == 2
    assert window.settings.last_model() == str(path.resolve())
    assert window.settings.recent_files()[0] == str(path.resolve())
    assert "two-regimes" in window.windowTitle()


def test_session_saves_and_reopens_as_one_file(qtbot, window, tmp_path):
    ex = window.explore
    window.document.apply_band("vertical", 16, 4)
    ex.timeline.set_frame(9)
    wait_idle(qtbot, window)
    path = tmp_path / "mine.session.npz"
    assert window.save_session(str(path))
    saved = snapshot(window)
    ex.new_sequence("polygon", 3)
    ex.mask.clear_all()
    wait_idle(qtbot, window)
    assert not np.array_equal(ex.images, saved["images"])

    assert window.open_path(str(path))
    wait_idle(qtbot, window)
    assert np.array_equal(ex.images, saved["images"])
    assert np.array_equal(ex.mask.hidden, saved["hidden"])
    assert np.array_equal(ex.mask.occluded, saved["occluded"])
    assert ex.current_frame == 9 and ex.source == saved["source"]
    assert not ex.mask.can_undo


def test_export_video_and_png(qtbot, window, tmp_path):
    mp4 = tmp_path / "sequence.mp4"
    assert window.export_video(str(mp4))
    assert frame_count(mp4) == 20


def test_export_views_leaves_the_controls_out_and_export_window_keeps_everything(
    qtbot, window, tmp_path, monkeypatch
):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    window.show()
    qtbot.waitExposed(window)
    asked = iter([str(tmp_path / "views.png"), str(tmp_path / "window.png")])
    dialog = "kvae_studio.app.window_commands.QFileDialog.getSaveFileName"
    monkeypatch.setattr(dialog, lambda *a, **k: (next(asked), ""))
    ctrl = Qt.KeyboardModifier.ControlModifier
    QTest.keyClick(window, Qt.Key.Key_E, ctrl)
    QTest.keyClick(window, Qt.Key.Key_E, ctrl | Qt.KeyboardModifier.AltModifier)
    views, whole = cv2.imread(str(tmp_path / "views.png")), cv2.imread(str(tmp_path / "window.png"))
    ratio = window.devicePixelRatio()
    splitter, explore = window.explore.splitter, window.explore
    assert views.shape[:2] == (round(splitter.height() * ratio), round(splitter.width() * ratio))
    assert views.shape[1] < explore.width() * ratio, "the controls column is left out"
    assert whole.shape[:2] == (round(window.height() * ratio), round(window.width() * ratio))


def test_panels_are_tabs_and_their_signals_open_files_in_explore(
    qtbot, model, qsettings, tmp_path, monkeypatch
):
    pytest.importorskip("kvae_studio.app.panels")
    from kvae_studio.app.main_window import MainWindow

    monkeypatch.setenv("KVAE_STUDIO_HOME", str(tmp_path / "home"))
    win = MainWindow(model, None, settings=qsettings, panels=True, restore_layout=False)
    qtbot.addWidget(win)
    win.explore.new_sequence("box", 0)
    titles = [win.tabs.tabText(i) for i in range(win.tabs.count())]
    assert titles[:2] == ["Explore", "Dynamics"] and len(titles) == 2 + len(win.panels)
    with_model = [w for _, w in win.panels if hasattr(w, "modelReady")]
    if not with_model:
        pytest.skip("no panel announces models")
    path = tmp_path / "from-panel.safetensors"
    save_model(model, path)
    win.tabs.setCurrentIndex(win.tabs.count() - 1)
    with qtbot.waitSignal(win.modelOpened, timeout=120_000):
        with_model[0].modelReady.emit(str(path))
    assert win.current_model_path == str(path.resolve())
    assert win.tabs.currentWidget() is win.explore
    wait_idle(qtbot, win)
    win.close()


def test_screenshot_from_the_command_line_at_any_size(tmp_path):
    out = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    args = ["--screenshot", str(out), "--seed", "2", "--size", "1024x700"]
    done = subprocess.run(
        [sys.executable, "-m", "kvae_studio", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=RESULT_TIMEOUT_MS / 1000 * 4,
    )
    assert done.returncode == 0, done.stderr
    picture = cv2.imread(str(out))
    assert picture is not None and picture.shape[:2] == (700, 1024)
    assert picture.std() > 10, "a real picture, not a blank window"


def test_a_model_trained_on_the_papers_marker_draws_new_sequences_with_it(qtbot, window, tmp_path):
    from PySide6.QtTest import QTest

    from kvae_studio.sim.render import MARKER_VALUE

    ex = window.explore
    controls = ex.sequence_controls
    assert not controls.marker.isChecked(), "a model that says nothing: no marker"
    assert not np.isclose(ex.images, MARKER_VALUE).any()
    torch.manual_seed(2)
    path = tmp_path / "paperlike.safetensors"
    save_model(KVAE(KVAEConfig()), path, summary={"epoch": 3, "data": {"rotation_marker": True}})
    open_checked(qtbot, window, path, how="open_path")
    assert controls.marker.isChecked()
    QTest.mouseClick(controls.new_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    assert np.isclose(ex.images, MARKER_VALUE).any(axis=(1, 2)).all(), "a marker in every frame"
    assert ex.source.marker is True and "rotation marker" in controls.source_label.text()
    session = tmp_path / "marked.session.npz"
    assert window.save_session(str(session))

    controls.marker.click()  # untick, as a user would: the same motion without the marker
    QTest.mouseClick(controls.new_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    assert not np.isclose(ex.images, MARKER_VALUE).any() and ex.source.marker is False
    assert window.open_path(str(session))
    wait_idle(qtbot, window)
    assert controls.marker.isChecked() and ex.source.marker is True

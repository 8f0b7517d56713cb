"""Issue 12, class 5: a file that cannot be used never leaves the window half-changed.

Every open path validates fully, then swaps in one step; a failure shows one line in a
dialog and leaves the view as it was (the next save still works). A corrupt workspace
catalog or settings file is set aside under a dated name, and the studio starts and says
so once.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from safetensors.torch import save
from test_window_files import assert_unchanged, close_error, snapshot
from window_helpers import wait_idle

from kvae_studio.document.session import FORMAT as SESSION_FORMAT
from kvae_studio.document.session import load_session
from model.model_file import FORMAT as MODEL_FORMAT


def write_session(path, images, frame=0, model_path=None, **extra_arrays) -> None:
    steps = images.shape[0]
    meta = {"format": SESSION_FORMAT, "model_path": model_path, "source": {}, "frame": frame}
    arrays = {
        "images": images,
        "hidden": np.zeros(steps, bool),
        "occluded": np.zeros(images.shape, bool),
        "session": np.array(json.dumps(meta)),
        **extra_arrays,
    }
    np.savez(path, **arrays)


def write_model(path, model, summary: str) -> None:
    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    meta = {"format": MODEL_FORMAT, "config": model.config.to_json(), "summary": summary}
    path.write_bytes(save(tensors, metadata=meta))


SESSIONS = {
    "no frames": dict(images=np.zeros((0, 32, 32), np.float32)),
    "frame outside": dict(images=np.zeros((5, 32, 32), np.float32), frame=9),
    "values above 1": dict(images=np.full((5, 32, 32), 3.0, np.float32)),
    "model path a number": dict(images=np.zeros((5, 32, 32), np.float32), model_path=7),
    "state of another shape": dict(
        images=np.zeros((5, 32, 32), np.float32), state=np.zeros((3, 4), np.float32)
    ),
}


@pytest.mark.parametrize("case", list(SESSIONS))
def test_a_session_that_cannot_be_shown_is_refused_and_the_next_save_works(window, tmp_path, case):
    path = tmp_path / "bad.session.npz"
    write_session(path, **SESSIONS[case])
    kept = path.read_bytes()
    before = snapshot(window)
    assert window.open_path(str(path)) is False
    text = close_error(window)
    assert "bad.session.npz" in text and "\n" not in text
    assert_unchanged(window, before)
    assert path.read_bytes() == kept
    out = tmp_path / "after.session.npz"
    assert window.save_session(str(out))
    assert load_session(out).images.shape == before["images"].shape


@pytest.mark.parametrize("summary", ["[1, 2]", '"epoch"', "7", "{not json"])
def test_a_model_whose_summary_is_not_an_object_is_refused(window, model, tmp_path, summary):
    path = tmp_path / "odd.safetensors"
    write_model(path, model, summary)
    before = snapshot(window)
    assert window.open_model(str(path)) is False
    text = close_error(window)
    assert "odd.safetensors" in text and "summary" in text
    assert_unchanged(window, before)


def test_a_failure_during_the_swap_puts_the_view_back(qtbot, window, tmp_path, monkeypatch):
    """The safety net behind the validation: whatever breaks half-way is undone."""
    data = tmp_path / "other.npz"
    np.savez(data, images=np.ones((3, 20, 32, 32), np.float32) * 0.5)
    before = snapshot(window)
    explore = window.explore
    real = type(explore)._show_sequence
    calls = []

    def breaks_once(self):
        calls.append(1)
        if len(calls) == 1:
            self.timeline.set_steps(2)  # half-redrawn, then fails
            raise RuntimeError("simulated failure inside the view")
        return real(self)

    monkeypatch.setattr(type(explore), "_show_sequence", breaks_once)
    assert window.open_dataset(str(data)) is False
    assert "simulated failure" in close_error(window)
    wait_idle(qtbot, window)
    assert np.array_equal(explore.images, before["images"])
    assert np.array_equal(explore.mask.hidden, before["hidden"])
    assert explore.model is before["model"] and explore.source == before["source"]
    assert explore.dataset is None
    assert window.save_session(str(tmp_path / "still.session.npz"))


def test_a_corrupt_catalog_is_set_aside_and_the_studio_starts_saying_so_once(
    qtbot, model, qsettings, tmp_path, monkeypatch
):
    from kvae_studio.app.main_window import MainWindow

    home = tmp_path / "home"
    home.mkdir()
    (home / "catalog.json").write_text("[1, 2, 3]")  # valid JSON, not an object
    monkeypatch.setenv("KVAE_STUDIO_HOME", str(home))
    win = MainWindow(model, None, settings=qsettings, panels=True, restore_layout=False)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.notice_box is not None and win.notice_box.isVisible())
    assert "catalog.json" in win.notice_box.text()
    win.notice_box.close()
    aside = [p for p in home.iterdir() if p.name.startswith("catalog.json.unreadable-")]
    assert len(aside) == 1 and aside[0].read_text() == "[1, 2, 3]"
    assert not (home / "catalog.json").exists()
    win.close()

    again = MainWindow(model, None, settings=qsettings, panels=True, restore_layout=False)
    qtbot.addWidget(again)
    qtbot.wait(50)
    assert again.notice_box is None  # said once
    again.close()


def test_an_unreadable_settings_file_is_set_aside(qtbot, model, tmp_path):
    from kvae_studio.app.main_window import MainWindow

    ini = tmp_path / "settings.ini"
    ini.write_text("[files\nrecent=1\n")  # an unclosed section: Qt reports a format error
    broken = QSettings(str(ini), QSettings.Format.IniFormat)
    assert broken.status() == QSettings.Status.FormatError
    win = MainWindow(model, None, settings=broken, panels=False, restore_layout=False)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.notice_box is not None and win.notice_box.isVisible())
    assert "settings.ini" in win.notice_box.text()
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("settings.ini.unreadable-")]
    assert len(aside) == 1 and aside[0].read_text() == "[files\nrecent=1\n"
    win.settings.add_recent_file(str(ini))  # the fresh settings work
    assert win.settings.recent_files() == [str(ini.resolve())]
    win.close()


def test_recent_files_of_the_wrong_type_do_not_stop_the_studio(qsettings):
    from kvae_studio.app.settings import AppSettings

    qsettings.setValue("files/recent", 42)
    assert AppSettings(qsettings).recent_files() == []


def test_a_missing_x11_library_is_one_line_not_a_qt_abort(tmp_path):
    """Qt aborts naming xcb-cursor whichever library is missing; the studio checks first."""
    import os
    import subprocess
    import sys

    libs = tmp_path / "lib"
    libs.mkdir()
    (libs / "libxcb-icccm.so.4").write_text("not a library")  # as good as missing
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(LD_LIBRARY_PATH=str(libs), DISPLAY=":99")
    done = subprocess.run(
        [sys.executable, "-m", "kvae_studio"], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "libxcb-icccm.so.4" in lines[0] and "apt install" in lines[0]

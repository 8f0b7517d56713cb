"""Where the file dialogs start (issue 27): on a fresh profile, opening a shipped model must
not send Save Session into the studio's own installed files; it starts in the workspace
(or the home folder), and a folder the user chose is remembered as before."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from window_helpers import RESULT_TIMEOUT_MS, wait_idle

from model.checkpoint import load_model, save_model
from model.config import KVAEConfig
from model.kvae import KVAE


@pytest.fixture
def shipped(tmp_path, monkeypatch, one_torch_thread) -> Path:
    root = tmp_path / "install" / "resources"
    (root / "models").mkdir(parents=True)
    torch.manual_seed(0)
    model = KVAE(KVAEConfig(filters=(4, 4), alpha_units=8, K=2))
    save_model(model, root / "models" / "box.safetensors", {"epoch": 1, "scene": "box"})
    monkeypatch.setattr("kvae_studio.services.resources.resources_dir", lambda: root)
    return root


def test_save_session_starts_in_the_workspace_not_in_the_installed_models(
    qtbot, qsettings, shipped, tmp_path, monkeypatch
):
    from kvae_studio.app.main_window import MainWindow

    workspace = tmp_path / "KVAE Studio"
    workspace.mkdir()
    monkeypatch.setenv("KVAE_STUDIO_HOME", str(workspace))
    model = (shipped / "models" / "box.safetensors").resolve()
    win = MainWindow(load_model(model), None, settings=qsettings, panels=False,
                     restore_layout=False)  # fmt: skip
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.explore.resultShown, timeout=RESULT_TIMEOUT_MS):
        win.explore.new_sequence("box", 0, steps=20)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    assert win.open_model(model)  # as start-up and every scene switch open a shipped model
    wait_idle(qtbot, win)

    asked: list[str] = []

    def dialog(parent, title, folder, filters):
        asked.append(folder)
        return "", ""

    monkeypatch.setattr("kvae_studio.app.window_commands.QFileDialog.getSaveFileName", dialog)
    QTest.keyClick(win, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(asked))
    assert Path(asked[0]) == workspace

    mine = tmp_path / "sessions"
    mine.mkdir()
    win.settings.set_last_dir(str(mine / "a.session.npz"))  # a session saved there
    QTest.keyClick(win, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(asked) == 2)
    assert Path(asked[1]) == mine
    win.close()

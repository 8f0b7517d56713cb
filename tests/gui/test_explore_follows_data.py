"""Explore follows what it is shown (issue 27): a model trained on studio-made data knows
its scene and parameters, new sequences are simulated like that data and a sequence that
differs is flagged; the Sequence box says the scene of the dataset on screen, not of the
last simulated sequence. Driven by clicks and keys; file dialogs answered by a stub.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from panel_helpers import choose
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from window_helpers import RESULT_TIMEOUT_MS, wait_idle

from kvae_studio.sim import scene_params, simulate
from kvae_studio.sim.scene_record import record_of
from model.checkpoint import load_model, save_model
from model.config import KVAEConfig
from model.data import save_sequences
from model.kvae import KVAE
from model.run_folder import MODEL_FILE, STUDIO_FILE

TINY = KVAEConfig(filters=(4, 4), alpha_units=8, K=2, batch_size=4)


def tiny_model(path: Path, summary: dict, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_model(KVAE(TINY), path, summary)
    return path.resolve()


def studio_data(path: Path, scene: str, marker: bool = False, **overrides) -> Path:
    """A data set as the Scene tab writes it (scene and parameters recorded)."""
    params = scene_params(scene, **overrides)
    images, state = simulate(params, 2, 20, 0, marker=marker)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_sequences(path, images, state, scene=record_of(params, marker=marker).to_json())
    return path


@pytest.fixture
def shipped(tmp_path, monkeypatch, one_torch_thread) -> Path:
    root = tmp_path / "resources"
    tiny_model(root / "models" / "box.safetensors", {"epoch": 1, "scene": "box"}, 0)
    tiny_model(root / "models" / "pong.safetensors", {"epoch": 1, "scene": "pong"}, 1)
    images, _ = simulate(scene_params("pong", size=32), 2, 20, seed=0)
    (root / "datasets").mkdir()
    save_sequences(root / "datasets" / "paper-pong-test.npz", images)
    monkeypatch.setattr("kvae_studio.services.resources.resources_dir", lambda: root)
    return root


@pytest.fixture
def win(qtbot, qsettings, shipped):
    from kvae_studio.app.main_window import MainWindow

    path = (shipped / "models" / "box.safetensors").resolve()
    window = MainWindow(load_model(path), str(path), settings=qsettings, panels=False,
                        restore_layout=False)  # fmt: skip
    qtbot.addWidget(window)
    window.resize(1400, 900)
    with qtbot.waitSignal(window.explore.resultShown, timeout=RESULT_TIMEOUT_MS):
        window.explore.new_sequence("box", 42, steps=20, marker=True)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    wait_idle(qtbot, window)
    yield window
    window.close()


def open_dataset_by_keys(qtbot, win, monkeypatch, path: Path) -> None:
    """File > Open Dataset (Ctrl+Shift+O), the dialog answering `path`."""
    monkeypatch.setattr(
        "kvae_studio.app.window_commands.QFileDialog.getOpenFileName",
        lambda *args, **kwargs: (str(path), ""),
    )
    QTest.keyClick(win, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)  # fmt: skip
    qtbot.waitUntil(lambda: Path(getattr(win.explore.source, "path", "")).name == path.name)
    wait_idle(qtbot, win)


def test_a_run_on_studio_data_is_shown_and_fed_sequences_like_its_data(
    qtbot, win, tmp_path, qsettings
):
    """Generate a radius-2, gravity-5 box, train on it, Open in Explore: the model says its
    scene, the default radius-3 sequence is flagged, and new sequences are like the data."""
    data = studio_data(tmp_path / "ws" / "small-train.npz", "box", ball_radius=2.0, gravity_y=5.0)
    run = tiny_model(tmp_path / "ws" / "runs" / "small" / MODEL_FILE, {"epoch": 1, "step": 4})
    (run.parent / STUDIO_FILE).write_text(json.dumps({"train": str(data), "test": None}))
    win.settings.add_recent_file(str(run))  # the Train tab's run, as its list shows it
    explore = win.explore
    choose(explore.sequence_controls.model_chooser, "small")
    qtbot.waitUntil(lambda: explore.model_path == str(run))
    wait_idle(qtbot, win)

    assert "trained on Box" in explore.sequence_controls.model_label.text()
    assert "ball radius 2" in explore.sequence_controls.model_label.text()
    warning = explore.pairing.warning
    assert explore.pairing.isVisible() and "training data" in warning
    assert "ball radius 3" in warning and "2 in training" in warning

    QTest.mouseClick(explore.pairing.button, Qt.MouseButton.LeftButton)  # like its data
    wait_idle(qtbot, win)
    assert dict(explore.source.parameters) == {"ball_radius": 2.0, "gravity_y": 5.0}
    assert explore.pairing.isHidden()
    QTest.mouseClick(explore.sequence_controls.new_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, win)
    assert dict(explore.source.parameters) == {"ball_radius": 2.0, "gravity_y": 5.0}
    assert "ball radius 2" in explore.sequence_controls.source_label.text()
    assert explore.pairing.isHidden()


def test_the_sequence_box_follows_a_dataset_on_screen(qtbot, win, shipped, tmp_path, monkeypatch):
    controls = win.explore.sequence_controls
    assert controls.scene.currentText() == "Box" and controls.marker.isChecked()
    open_dataset_by_keys(qtbot, win, monkeypatch, shipped / "datasets" / "paper-pong-test.npz")
    assert controls.scene.currentText() == "Pong"  # not Box, as the banner would say
    assert "paper-pong-test.npz" in controls.source_label.text()

    mine = studio_data(tmp_path / "plain-polygon.npz", "polygon", marker=False)
    open_dataset_by_keys(qtbot, win, monkeypatch, mine)
    assert controls.scene.currentText() == "Polygon"
    assert not controls.marker.isChecked()  # as the data was drawn
    # New sequence simulates what the box now says: a polygon, without the marker.
    QTest.mouseClick(controls.new_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, win)
    assert win.explore.source.scene == "polygon" and not win.explore.source.marker

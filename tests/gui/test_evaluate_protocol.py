"""The Evaluate panel's choice of scoring protocol, driven by real clicks and keys.

A tiny untrained model (16 px frames) on 40 simulated sequences keeps the paper's
protocol (whole batches of 32) to seconds.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv

import pytest
import torch
from panel_helpers import choose
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from kvae_studio.app.panels.evaluate_panel import EvaluatePanel
from kvae_studio.app.panels.workspace import Workspace
from model.checkpoint import save_model
from model.config import KVAEConfig
from model.kvae import KVAE

TIMEOUT = 120_000


@pytest.fixture
def setup(tmp_path, qapp, one_torch_thread):
    from kvae_studio.sim.scenes import scene_params
    from kvae_studio.sim.simulate import simulate
    from model.data import save_sequences

    workspace = Workspace(tmp_path / "studio")
    workspace.datasets_dir.mkdir(parents=True)
    sizes = (("forty-test.npz", 40), ("few-test.npz", 20))
    for name, n in sizes:
        images, state = simulate(scene_params("box", size=16, ball_radius=5.0), n, 10, seed=2)
        save_sequences(workspace.datasets_dir / name, images, state)
    workspace.notify_datasets()
    torch.manual_seed(0)
    config = KVAEConfig(frame_size=16, filters=(8, 8), alpha_units=8, t_init_mask=3, t_steps_mask=4)
    model = tmp_path / "tiny.safetensors"
    save_model(KVAE(config), model)
    return workspace, model


def run_and_export(qtbot, panel, path, monkeypatch) -> list[dict]:
    QTest.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.job is None, timeout=TIMEOUT)
    dialog = "kvae_studio.app.panels.evaluate_panel.QFileDialog.getSaveFileName"
    monkeypatch.setattr(dialog, lambda *a, **k: (str(path), ""))
    QTest.mouseClick(panel.csv_button, Qt.MouseButton.LeftButton)
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_the_paper_protocol_is_chosen_in_the_panel_and_recorded(
    qtbot, setup, tmp_path, monkeypatch
):
    workspace, model = setup
    panel = EvaluatePanel(workspace, current_model=lambda: model)
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.protocol_combo.currentData() == "studio"  # today's behaviour by default
    panel.test_combo.set_path(workspace.datasets_dir / "forty-test.npz")

    choose(panel.protocol_combo, "Paper protocol (original code)")
    assert panel.protocol_combo.currentData() == "paper"
    rows = run_and_export(qtbot, panel, tmp_path / "paper.csv", monkeypatch)
    assert not panel.message.is_error, panel.message.text()
    assert {r["protocol"] for r in rows} == {"paper"} and len(rows) == 4 + 10
    assert "paper protocol" in panel.plot.key.text()

    # The same sweep by the Qt-free code the command line uses: byte for byte the same CSV.
    from model.checkpoint import load_model
    from model.data import load_sequences
    from model.evaluation import sweep
    from model.sweep_csv import write_sweep_csv

    images = load_sequences(workspace.datasets_dir / "forty-test.npz").images
    direct = sweep(load_model(model, "cpu"), images, protocol="paper")
    write_sweep_csv(tmp_path / "direct.csv", {"tiny.safetensors": direct})
    assert (tmp_path / "paper.csv").read_bytes() == (tmp_path / "direct.csv").read_bytes()

    choose(panel.protocol_combo, "Studio protocol")
    panel.sequences_spin.setFocus()
    panel.sequences_spin.selectAll()
    QTest.keyClicks(panel.sequences_spin, "4")  # the studio's protocol scores any number
    rows = run_and_export(qtbot, panel, tmp_path / "studio.csv", monkeypatch)
    assert {r["protocol"] for r in rows} == {"studio"}


def test_too_few_sequences_for_the_paper_protocol_is_one_clear_message(qtbot, setup):
    workspace, model = setup
    panel = EvaluatePanel(workspace, current_model=lambda: model)
    qtbot.addWidget(panel)
    panel.show()
    panel.test_combo.set_path(workspace.datasets_dir / "few-test.npz")
    choose(panel.protocol_combo, "Paper protocol (original code)")
    QTest.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.job is None, timeout=TIMEOUT)
    assert panel.message.is_error
    assert "batches of 32" in panel.message.text() and "20" in panel.message.text()
    assert panel.run_button.isEnabled() and not panel.plot.results

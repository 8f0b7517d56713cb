"""The Evaluate panel keeps what it swept (issue 27): comparing with a second model sweeps
only the second, a restart shows the sweeps already run, and the shipped models' own
sweeps are on screen at first launch. Driven by real clicks and keys."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
import torch
from panel_helpers import click, type_into

from kvae_studio.app.panels.evaluate_panel import EvaluatePanel
from kvae_studio.app.panels.workspace import Workspace
from kvae_studio.services.resources import shipped_models, shipped_test_set
from kvae_studio.services.sweep_results import read_sweep_rows
from model.checkpoint import save_model
from model.config import KVAEConfig
from model.kvae import KVAE

TIMEOUT = 120_000


def tiny_model(path, seed: int):
    torch.manual_seed(seed)
    config = KVAEConfig(frame_size=16, filters=(8, 8), alpha_units=8, t_init_mask=3, t_steps_mask=4)
    save_model(KVAE(config), path)
    return path


@pytest.fixture
def setup(tmp_path, qapp, one_torch_thread):
    from kvae_studio.sim.scenes import scene_params
    from kvae_studio.sim.simulate import simulate
    from model.data import save_sequences

    workspace = Workspace(tmp_path / "studio")
    workspace.datasets_dir.mkdir(parents=True)
    images, state = simulate(scene_params("box", size=16, ball_radius=5.0), 4, 10, seed=2)
    save_sequences(workspace.datasets_dir / "small-test.npz", images, state)
    workspace.notify_datasets()
    first = tiny_model(tmp_path / "a.safetensors", 0)
    second = tiny_model(tmp_path / "b.safetensors", 1)
    workspace.add_model(second)
    return workspace, first, second


def open_panel(qtbot, workspace, model) -> EvaluatePanel:
    panel = EvaluatePanel(workspace, current_model=lambda: model)
    qtbot.addWidget(panel)
    panel.resize(1200, 700)
    panel.show()
    type_into(panel.sequences_spin, "2")
    return panel


def sweep(qtbot, panel) -> None:
    click(panel.run_button)
    qtbot.waitUntil(lambda: panel.job is None, timeout=TIMEOUT)
    assert not panel.message.is_error, panel.message.text()


def test_comparing_sweeps_only_the_new_model_and_a_restart_shows_both(qtbot, setup):
    workspace, first, second = setup
    panel = open_panel(qtbot, workspace, first)
    sweep(qtbot, panel)
    swept_first = panel.plot.results["a.safetensors"]
    assert panel.compare_combo.set_path(second)
    assert list(panel.plot.results) == ["a.safetensors"], "the first model's sweep stays"
    click(panel.run_button)
    assert "Sweeping b.safetensors on" in panel.message.text(), "only the second is run"
    qtbot.waitUntil(lambda: panel.job is None, timeout=TIMEOUT)
    assert list(panel.plot.results) == ["a.safetensors", "b.safetensors"]
    assert panel.plot.results["a.safetensors"] == swept_first

    again = open_panel(qtbot, workspace, first)  # as after a restart: nothing run yet
    assert again.compare_combo.set_path(second)
    assert again.job is None and list(again.plot.results) == ["a.safetensors", "b.safetensors"]
    assert again.plot.results["a.safetensors"] == swept_first
    assert "Kept from an earlier sweep" in again.message.text()
    assert again.png_button.isEnabled() and again.csv_button.isEnabled()
    click(again.run_button)
    assert again.job is None and "nothing to run" in again.message.text()

    type_into(again.seed_spin, "5")  # other settings: not the same sweep
    assert not again.plot.results


def test_a_model_file_that_changed_is_swept_again(qtbot, setup):
    workspace, first, _ = setup
    panel = open_panel(qtbot, workspace, first)
    sweep(qtbot, panel)
    tiny_model(first, 7)  # retrained in place: another model under the same name
    again = open_panel(qtbot, workspace, first)
    assert not again.plot.results


def test_the_shipped_models_sweeps_are_shown_at_first_launch(qtbot, qapp, tmp_path):
    box = shipped_models()["box"]
    panel = EvaluatePanel(Workspace(tmp_path / "fresh"), current_model=lambda: box)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.test_combo.path() == shipped_test_set("box")
    assert panel.job is None and list(panel.plot.results) == ["Box (shipped)"]
    stored = read_sweep_rows(box.with_name("box-sweep-original.csv"))
    assert panel.plot.results["Box (shipped)"] == stored and len(stored) == 18

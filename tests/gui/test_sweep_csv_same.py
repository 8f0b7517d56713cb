"""The command line and the window write the same sweep CSV, byte for byte (issue 14).

`kvae-studio evaluate --sweep` runs as a user runs it (a subprocess); the Evaluate panel
is driven by clicks and keys, its CSV saved with its Save CSV button. Both go through
kvae_studio.services.evaluation: the same checks, model names, sweeps and writer. A tiny
untrained model (16 px frames) in a run folder, 12 simulated sequences, keep it to seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from panel_helpers import TIMEOUT, choose, click, type_into

from kvae_studio.app.panels.evaluate_panel import EvaluatePanel
from kvae_studio.app.panels.workspace import Workspace
from model.checkpoint import save_model
from model.config import KVAEConfig
from model.kvae import KVAE
from model.run_folder import MODEL_FILE

SEED, SEQUENCES = "3", "10"  # not the defaults (0, all): both front ends must pass them on


@pytest.fixture
def setup(tmp_path, qapp, one_torch_thread):
    from kvae_studio.sim.scenes import scene_params
    from kvae_studio.sim.simulate import simulate
    from model.data import save_sequences

    workspace = Workspace(tmp_path / "studio")
    workspace.datasets_dir.mkdir(parents=True)
    test_set = workspace.datasets_dir / "small-test.npz"
    images, state = simulate(scene_params("box", size=16, ball_radius=5.0), 12, 10, seed=2)
    save_sequences(test_set, images, state)
    workspace.notify_datasets()
    torch.manual_seed(0)
    config = KVAEConfig(frame_size=16, filters=(8, 8), alpha_units=8, t_init_mask=3, t_steps_mask=4)
    model = workspace.runs_dir / "tiny-run" / MODEL_FILE  # named "tiny-run" in the CSV
    model.parent.mkdir(parents=True)
    save_model(KVAE(config), model)
    return workspace, model, test_set


def test_the_command_line_and_the_evaluate_panel_write_the_same_csv(
    qtbot, setup, tmp_path, monkeypatch
):
    workspace, model, test_set = setup
    cli_csv, panel_csv = tmp_path / "cli.csv", tmp_path / "panel.csv"
    result = subprocess.run(
        [sys.executable, "-m", "kvae_studio", "evaluate", str(model), str(test_set),
         "--sweep", str(cli_csv), "--seed", SEED, "--sequences", SEQUENCES,
         "--device", "cpu", "--json"],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr

    panel = EvaluatePanel(workspace, current_model=lambda: model)
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.model_combo.currentText() == "tiny-run"
    panel.test_combo.set_path(test_set)
    type_into(panel.sequences_spin, SEQUENCES)
    type_into(panel.seed_spin, SEED)
    choose(panel.device_combo, "CPU")
    click(panel.run_button)
    qtbot.waitUntil(lambda: panel.job is None, timeout=TIMEOUT)
    assert not panel.message.is_error, panel.message.text()
    dialog = "kvae_studio.app.panels.evaluate_panel.QFileDialog.getSaveFileName"
    monkeypatch.setattr(dialog, lambda *a, **k: (str(panel_csv), ""))
    click(panel.csv_button)

    written = panel_csv.read_bytes()
    assert written == cli_csv.read_bytes()
    lines = written.decode().splitlines()
    assert lines[0] == "model,protocol,kind,x,smoothing,filtering,generation,baseline"
    assert len(lines) == 1 + 4 + 10  # 4 planning points fit 10 steps, 10 drop probabilities
    assert all(line.startswith("tiny-run,studio,") for line in lines[1:])

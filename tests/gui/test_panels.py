"""The Scene, Train and Evaluate panels driven like a user: real clicks and key presses.

Every panel is built standalone on a workspace in tmp_path. Data are simulated small
(16 training, 8 test sequences) and the model config is set through the form, so the
whole file runs in well under a minute on two CPU cores.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from panel_helpers import TIMEOUT, click, type_into

from kvae_studio.app.panels import build_panels
from kvae_studio.app.panels.evaluate_panel import EvaluatePanel
from kvae_studio.app.panels.scene_panel import ScenePanel
from kvae_studio.app.panels.train_panel import TrainPanel
from kvae_studio.app.panels.workspace import Workspace


@pytest.fixture
def workspace(tmp_path, qapp) -> Workspace:
    return Workspace(tmp_path / "studio")


@pytest.fixture
def small_data(workspace) -> tuple[Path, Path]:
    from kvae_studio.sim import simulate
    from model.data import save_sequences

    folder = workspace.datasets_dir
    folder.mkdir(parents=True)
    paths = []
    for name, n, seed in (("tiny-train.npz", 16, 0), ("tiny-test.npz", 8, 1)):
        images, state = simulate("box", n, 20, seed)
        save_sequences(folder / name, images, state)
        paths.append(folder / name)
    workspace.notify_datasets()
    return paths[0], paths[1]


def test_build_panels_gives_three_tabs_with_signals(qtbot, workspace):
    tabs = build_panels(None, workspace)
    assert [name for name, _ in tabs] == ["Scene", "Train", "Evaluate"]
    for _, panel in tabs:
        qtbot.addWidget(panel)
        assert hasattr(panel, "modelReady") and hasattr(panel, "datasetReady")
    tabs[0][1].shutdown()


# -- Scene ------------------------------------------------------------------------------------


def test_scene_preview_plays_and_reacts_to_edits(qtbot, workspace):
    panel = ScenePanel(workspace)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.preview.sequences is not None, timeout=TIMEOUT)
    first = panel.preview.sequences.copy()
    type_into(panel.form.editor("ball_radius"), "2")
    qtbot.waitUntil(
        lambda: (
            panel.preview.sequences is not None
            and not np.array_equal(panel.preview.sequences, first)
        ),
        timeout=TIMEOUT,
    )
    # An impossible value is reported in the form's words and clears the preview
    # (tests/gui/test_scene_validation.py has every kind).
    type_into(panel.form.editor("speed_min"), "99")
    qtbot.waitUntil(lambda: panel.param_message.is_error, timeout=TIMEOUT)
    assert "lowest speed (99)" in panel.param_message.text()
    assert panel.preview.sequences is None
    click(panel.reset_button)
    assert panel.form.build() == panel.form.cls()
    panel.shutdown()


def scene_panel_asking(qtbot, workspace, name: str, train: int, test: int) -> ScenePanel:
    """The Scene tab shown, with a data set's name and sizes typed in."""
    panel = ScenePanel(workspace)
    qtbot.addWidget(panel)
    panel.show()
    type_into(panel.name_edit, name)
    type_into(panel.train_spin, str(train))
    type_into(panel.test_spin, str(test))
    return panel


def test_generate_writes_datasets_that_can_be_opened(qtbot, workspace):
    panel = scene_panel_asking(qtbot, workspace, "small", 20, 10)
    with qtbot.waitSignal(workspace.datasetsChanged, timeout=TIMEOUT):
        click(panel.generate_button)
    qtbot.waitUntil(lambda: panel.generate_button.isEnabled(), timeout=TIMEOUT)

    from model.data import load_sequences

    train = load_sequences(workspace.datasets_dir / "small-train.npz")
    test = load_sequences(workspace.datasets_dir / "small-test.npz")
    assert train.images.shape == (20, 20, 32, 32) and test.images.shape == (10, 20, 32, 32)
    assert train.state is not None
    assert not np.array_equal(train.images[:10], test.images)  # different seeds
    names = [panel.dataset_list.list.item(i).text() for i in range(panel.dataset_list.list.count())]
    assert any("small-train.npz" in n for n in names)
    with qtbot.waitSignal(panel.datasetReady) as opened:
        click(panel.dataset_list.open_button)
    assert opened.args[0].endswith(".npz")
    panel.shutdown()


def test_paper_like_data_from_the_checkboxes(qtbot, workspace):
    """Ticking "legacy physics" and "rotation marker" shows them in the preview and makes
    the data `simulate --legacy-physics --rotation-marker` makes; pong has no legacy."""
    from kvae_studio.sim import simulate
    from kvae_studio.sim.render import MARKER_VALUE
    from model.data import load_sequences

    panel = ScenePanel(workspace)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.preview.sequences is not None, timeout=TIMEOUT)
    assert MARKER_VALUE not in panel.preview.sequences
    click(panel.marker_check)
    qtbot.waitUntil(
        lambda: panel.preview.sequences is not None and MARKER_VALUE in panel.preview.sequences,
        timeout=TIMEOUT,
    )
    click(panel.legacy_check)
    type_into(panel.name_edit, "paper")
    type_into(panel.train_spin, "6")
    type_into(panel.test_spin, "0")
    type_into(panel.seed_spin, "3")
    with qtbot.waitSignal(workspace.datasetsChanged, timeout=TIMEOUT):
        click(panel.generate_button)
    made = load_sequences(workspace.datasets_dir / "paper-train.npz")
    images, state = simulate("box", 6, 20, 3, legacy=True, marker=True)
    assert np.array_equal(made.images, images) and np.array_equal(made.state, state)
    assert not np.array_equal(state, simulate("box", 6, 20, 3)[1])

    panel.scene_combo.setCurrentIndex(panel.scene_combo.findData("pong"))
    assert not panel.legacy_check.isEnabled()
    assert panel.rendering() == {"legacy": False, "marker": True}
    panel.shutdown()


def test_cancelled_generation_leaves_no_file(qtbot, workspace):
    panel = scene_panel_asking(qtbot, workspace, "big", 3000, 1000)
    click(panel.generate_button)
    click(panel.cancel_button)
    qtbot.waitUntil(lambda: panel.generate_button.isEnabled(), timeout=TIMEOUT)
    assert "Cancelled" in panel.message.text()
    leftovers = list(workspace.datasets_dir.glob("*")) if workspace.datasets_dir.exists() else []
    assert leftovers == []
    panel.shutdown()


# -- Train ------------------------------------------------------------------------------------


def _tiny_settings(panel: TrainPanel, epochs: int) -> None:
    form = panel.settings.form
    type_into(form.editor("batch_size"), "4")
    type_into(form.editor("num_epochs"), str(epochs))
    type_into(panel.settings.eval_spin, "4")
    type_into(panel.settings.name_edit, "tiny-run")


def test_training_runs_pauses_stops_and_resumes(qtbot, workspace, small_data):
    from model.checkpoint import load_model
    from model.model_file import read_summary

    panel = TrainPanel(workspace)
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    panel.show()
    assert panel.settings.train_combo.path() == small_data[0]
    assert panel.settings.test_combo.path() == small_data[1]
    _tiny_settings(panel, epochs=3)
    click(panel.start_button)
    qtbot.waitUntil(lambda: panel.curves.step_count() >= 2, timeout=TIMEOUT)
    assert panel.curves.steps["elbo"].n == panel.curves.steps["log_px"].n
    assert panel.job.process.pid != os.getpid()  # the training runs in its own process
    if hasattr(os, "getpriority"):  # ... below the window's priority (POSIX)
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, panel.job.process.pid) == min(19, ours + 10)

    # Pause: at most the step under way still arrives, then nothing.
    click(panel.pause_button)
    assert panel.pause_button.text() == "Resume"
    with qtbot.waitSignal(panel.job.item, timeout=1500, raising=False):
        pass
    paused_at = panel.curves.step_count()
    with qtbot.assertNotEmitted(panel.job.item, wait=500):
        pass
    assert panel.curves.step_count() == paused_at

    click(panel.pause_button)  # resume
    qtbot.waitUntil(lambda: panel.curves.step_count() > paused_at, timeout=TIMEOUT)
    click(panel.stop_button)
    qtbot.waitUntil(lambda: panel.state == "idle", timeout=TIMEOUT)
    assert "Stopped" in panel.message.text(), panel.message.text()
    stopped_step = panel.curves.last_step()
    # The bar shows how far the run got, not 100 %.
    assert panel.progress.label.text() == "stopped"
    assert panel.progress.bar.value() == round(1000 * stopped_step / 12) < 1000
    run_dir = workspace.runs_dir / "tiny-run"
    model = load_model(run_dir / "model.safetensors")
    assert model.config.batch_size == 4
    assert read_summary(run_dir / "model.safetensors")["step"] == stopped_step

    with qtbot.waitSignal(panel.modelReady) as ready:
        click(panel.explore_button)
    assert Path(ready.args[0]) == run_dir / "model.safetensors"

    # Continue the stopped run: the step count goes on from where it stopped.
    assert panel.settings.selected_run() == run_dir
    assert panel.start_button.text() == "Continue"
    epochs_done = json.loads((run_dir / "log.jsonl").read_text().splitlines()[-1])["epoch"]
    type_into(panel.settings.form.editor("num_epochs"), str(max(1, epochs_done) + 1))
    click(panel.start_button)
    qtbot.waitUntil(lambda: panel.state == "idle", timeout=TIMEOUT)
    assert "Finished" in panel.message.text(), panel.message.text()
    x, _ = panel.curves.steps["elbo"].data()
    assert x[-1] > stopped_step
    assert np.array_equal(x, np.arange(1, len(x) + 1))  # one continuous step axis
    assert panel.curves.epoch_count() >= 1


def test_stored_run_reloads_its_curves(qtbot, workspace, small_data):
    panel = TrainPanel(workspace)
    qtbot.addWidget(panel)
    _tiny_settings(panel, epochs=1)
    click(panel.start_button)
    qtbot.waitUntil(lambda: panel.state == "idle", timeout=TIMEOUT)
    steps = panel.curves.step_count()
    assert steps == 4 and panel.curves.epoch_count() == 1

    other = TrainPanel(workspace)  # a fresh panel, as after restarting the studio
    qtbot.addWidget(other)
    index = other.settings.run_combo.findText("tiny-run")
    other.settings.run_combo.setCurrentIndex(index)
    assert other.curves.step_count() == steps
    assert other.curves.epoch_count() == 1
    assert not other.settings.form.editor("batch_size").isEnabled()
    assert other.settings.form.editor("num_epochs").isEnabled()


def test_the_run_fields_are_the_training_options(qtbot, workspace, small_data):
    """The Train tab's run fields are made from TrainingOptions' fields (their labels in
    words, tooltips, units) and give their values back as the options of a run; a stored
    run's older studio.json puts its recorded values back."""
    from kvae_studio.app.panels.train_settings import option_editor
    from model.checkpoint import save_model
    from model.config import KVAEConfig
    from model.kvae import KVAE
    from model.training_options import option_of

    run = workspace.runs_dir / "older-run"
    run.mkdir(parents=True)
    save_model(KVAE(KVAEConfig(frame_size=32)), run / "model.safetensors", {"epoch": 1})
    older = {"train": str(small_data[0]), "test": None, "seed": 11, "checkpoint_every": 4,
             "eval_sequences": 6, "threads": 1, "device": "cpu"}  # fmt: skip
    (run / "studio.json").write_text(json.dumps(older))
    panel = TrainPanel(workspace)
    qtbot.addWidget(panel)
    settings = panel.settings
    spin = settings.checkpoint_spin
    unit = option_of("checkpoint_every").unit  # " epochs", singular at 1
    assert spin.text() == f"1{unit.removesuffix('s')}" == "1 epoch"
    assert spin.toolTip() == option_of("checkpoint_every").tip
    assert settings.eval_spin.specialValueText() == option_of("eval_sequences").none_text
    assert option_editor("seed").maximum() == option_of("seed").maximum

    type_into(settings.seed_spin, "5")
    type_into(settings.eval_spin, "0")  # all
    options = settings.options()
    assert (options.seed, options.eval_sequences, options.checkpoint_every) == (5, None, 1)
    assert options.train_paths == (small_data[0],) and not options.resume

    settings.run_combo.setCurrentIndex(settings.run_combo.findText("older-run"))
    assert (settings.seed_spin.value(), settings.checkpoint_spin.value()) == (11, 4)
    assert spin.text() == f"4{unit}" == "4 epochs"
    assert settings.eval_spin.value() == 6 and settings.test_combo.path() is None
    assert settings.train_combo.path() == small_data[0]


def test_a_run_keeps_its_best_epoch_on_a_validation_set_chosen_in_the_tab(
    qtbot, workspace, small_data
):
    """The recipe of the shipped models from the Train tab: a validation set, the score
    that picks the best epoch, patience and precision, chosen by mouse and keys; the run
    keeps best.safetensors, draws its validation curves, and a stored run puts the
    choices back. A validation set that is the test set is refused."""
    from panel_helpers import choose

    from kvae_studio.sim import simulate
    from model.data import save_sequences
    from model.model_file import read_summary

    images, state = simulate("box", 8, 20, 2)
    save_sequences(workspace.datasets_dir / "tiny-validation.npz", images, state)
    workspace.notify_datasets()
    panel = TrainPanel(workspace)
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    panel.show()
    settings = panel.settings
    assert settings.validation_combo.path() is None  # the paper's choice: the last epoch
    assert not settings.keep_best_combo.isEnabled() and settings.options().keep_best is None

    choose(settings.validation_combo, "tiny-test.npz  (8 × 20 × 32×32)")
    assert settings.keep_best_combo.isEnabled()
    with pytest.raises(ValueError, match=r"tiny-test\.npz is the test set"):
        settings.options()
    choose(settings.validation_combo, "tiny-validation.npz  (8 × 20 × 32×32)")
    choose(settings.keep_best_combo, "filtering")
    type_into(settings.patience_spin, "3")
    choose(settings.precision_combo, "fp32")
    _tiny_settings(panel, epochs=2)
    options = settings.options()
    assert options.validation_path == workspace.datasets_dir / "tiny-validation.npz"
    assert (options.keep_best, options.patience, options.precision) == ("filtering", 3, "fp32")

    click(panel.start_button)
    qtbot.waitUntil(lambda: panel.state == "idle", timeout=TIMEOUT)
    assert "Finished" in panel.message.text(), panel.message.text()
    run = workspace.runs_dir / "tiny-run"
    best = read_summary(run / "best.safetensors")
    assert best["selection"]["metric"] == "filtering" and best["precision"] == "fp32"
    assert panel.curves.epoch_series["v_planning filtering"].n == 2

    other = TrainPanel(workspace)  # after a restart: the stored run's choices come back
    qtbot.addWidget(other)
    other.settings.run_combo.setCurrentIndex(other.settings.run_combo.findText("tiny-run"))
    restored = other.settings
    assert restored.validation_combo.path() == options.validation_path
    assert restored.keep_best_combo.currentData() == "filtering"
    assert (restored.patience_spin.value(), restored.precision_combo.currentData()) == (3, "fp32")


def test_a_stored_runs_validation_set_from_elsewhere_is_listed_and_shown(
    qtbot, workspace, small_data, tmp_path
):
    """A run started on the command line names its validation set wherever it lies:
    choosing the run lists that file and selects it; a file since gone selects none, and
    the tab says so (continuing would otherwise drop the validation set unsaid)."""
    from kvae_studio.sim import simulate
    from model.checkpoint import save_model
    from model.config import KVAEConfig
    from model.data import save_sequences
    from model.kvae import KVAE

    elsewhere = tmp_path / "elsewhere" / "val.npz"
    elsewhere.parent.mkdir()
    save_sequences(elsewhere, *simulate("box", 4, 20, 3))
    runs = (("cli-run", small_data[0], elsewhere),
            ("gone-run", small_data[0], tmp_path / "gone.npz"),
            ("moved-run", tmp_path / "moved.npz", elsewhere))  # fmt: skip
    for name, train, validation in runs:
        run = workspace.runs_dir / name
        run.mkdir(parents=True)
        save_model(KVAE(KVAEConfig(frame_size=32)), run / "model.safetensors", {"epoch": 1})
        record = {"train": str(train), "validation": str(validation),
                  "keep_best": "smoothing", "patience": 2, "precision": "bf16"}  # fmt: skip
        (run / "studio.json").write_text(json.dumps(record))
    panel = TrainPanel(workspace)
    qtbot.addWidget(panel)
    settings = panel.settings
    settings.run_combo.setCurrentIndex(settings.run_combo.findText("cli-run"))
    assert settings.validation_combo.path() == elsewhere
    assert settings.keep_best_combo.currentData() == "smoothing"
    assert settings.patience_spin.value() == 2 and settings.precision_combo.currentData() == "bf16"
    assert settings.run_warning.isHidden()
    settings.run_combo.setCurrentIndex(settings.run_combo.findText("gone-run"))
    assert settings.validation_combo.path() is None
    assert not settings.run_warning.isHidden()
    assert "validation set gone.npz" in settings.run_warning.text()
    assert "training set" not in settings.run_warning.text()
    settings.run_combo.setCurrentIndex(settings.run_combo.findText("moved-run"))
    assert "training set moved.npz" in settings.run_warning.text()
    assert "validation set" not in settings.run_warning.text()
    settings.run_combo.setCurrentIndex(settings.run_combo.findText("cli-run"))
    assert settings.run_warning.isHidden()


def test_unreadable_training_set_is_reported(qtbot, workspace, small_data, tmp_path):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    panel = TrainPanel(workspace)
    qtbot.addWidget(panel)
    # Listed files are checked: a broken one cannot be added.
    with pytest.raises(ValueError):
        workspace.add_dataset(bad)
    # A listed file that breaks before Start is refused with a message.
    small_data[0].write_bytes(b"PK\x03\x04 truncated")
    panel.settings.train_combo.refresh()
    panel.settings.train_combo.addItem("broken", str(small_data[0]))
    panel.settings.train_combo.setCurrentIndex(panel.settings.train_combo.count() - 1)
    click(panel.start_button)
    assert panel.message.is_error


def test_diverging_run_says_why(qtbot, workspace, small_data):
    panel = TrainPanel(workspace)
    qtbot.addWidget(panel)
    _tiny_settings(panel, epochs=3)
    type_into(panel.settings.form.editor("init_lr"), "1e6")
    click(panel.start_button)
    qtbot.waitUntil(lambda: panel.state == "idle", timeout=TIMEOUT)
    assert panel.message.is_error
    assert "diverged" in panel.message.text() and "init_lr" in panel.message.text()
    assert panel.start_button.isEnabled()


# -- Evaluate ---------------------------------------------------------------------------------


def _random_model(path: Path, seed: int) -> Path:
    import torch

    from model.checkpoint import save_model
    from model.config import KVAEConfig
    from model.kvae import KVAE

    torch.manual_seed(seed)
    save_model(KVAE(KVAEConfig()), path)
    return path


def test_a_fresh_workspace_offers_the_papers_test_set(qtbot, workspace):
    """At first launch, before anything is simulated, Evaluate can already run the sweeps
    of the shipped model on the paper's own box test sequences."""
    from kvae_studio.services.resources import shipped_datasets
    from model.data import load_sequences

    shipped = [p for p in shipped_datasets() if p.name == "paper-box-test.npz"]
    assert shipped, "resources/datasets/paper-box-test.npz is missing"
    original = Path(__file__).resolve().parents[1] / "data" / "original-box.npz"
    assert np.array_equal(load_sequences(shipped[0]).images, load_sequences(original).images)
    panel = EvaluatePanel(workspace)
    qtbot.addWidget(panel)
    assert panel.test_combo.path() == shipped[0]
    assert "200 × 20" in panel.test_combo.currentText()


def test_sweep_fills_both_plots_compares_and_exports(
    qtbot, workspace, small_data, tmp_path, monkeypatch
):
    first = _random_model(tmp_path / "a.safetensors", 0)
    second = _random_model(tmp_path / "b.safetensors", 1)
    panel = EvaluatePanel(workspace, current_model=lambda: first)
    qtbot.addWidget(panel)
    panel.resize(1200, 700)
    panel.show()
    assert panel.model_combo.path() == first
    workspace.add_model(second)
    assert panel.compare_combo.set_path(second)
    assert panel.test_combo.path() == small_data[1]
    type_into(panel.sequences_spin, "2")
    click(panel.run_button)
    qtbot.waitUntil(lambda: panel.job is None, timeout=TIMEOUT)
    assert not panel.message.is_error, panel.message.text()
    assert set(panel.plot.results) == {"a.safetensors", "b.safetensors"}
    # 8 planning and 10 random points, 4 metrics, 2 models.
    assert panel.plot.point_count("planning") == 8 * 4 * 2
    assert panel.plot.point_count("random") == 10 * 4 * 2

    csv_path, png_path = tmp_path / "sweep.csv", tmp_path / "sweep.png"
    dialog = "kvae_studio.app.panels.evaluate_panel.QFileDialog.getSaveFileName"
    monkeypatch.setattr(dialog, lambda *a, **k: (str(csv_path), ""))
    click(panel.csv_button)
    monkeypatch.setattr(dialog, lambda *a, **k: (str(png_path), ""))
    click(panel.png_button)
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 18
    assert {r["kind"] for r in rows} == {"planning", "random"}
    assert all(0.0 <= float(r["smoothing"]) <= 1.0 for r in rows)
    assert png_path.stat().st_size > 1000

"""Scene and model go together in Explore: choosing a scene (or opening a dataset of it)
brings its shipped model in one step; a user's own model stays, and a warning with a
switch button says that the scenes differ. Also the export dialog's format follows the
filter chosen in it. Tiny models stand in for the shipped ones (resources monkeypatched).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from window_helpers import first_launch_window, wait_idle

from kvae_studio.sim import scene_params, simulate
from model.checkpoint import load_model, save_model
from model.config import KVAEConfig
from model.data import save_sequences
from model.kvae import KVAE
from model.model_file import read_summary

TINY = KVAEConfig(filters=(4, 4), alpha_units=8, K=2, batch_size=4)  # 32-pixel frames


def tiny_model(path: Path, scene: str, seed: int) -> Path:
    torch.manual_seed(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_model(KVAE(TINY), path, {"epoch": 1, "scene": scene})
    return path.resolve()


@pytest.fixture
def shipped(tmp_path, monkeypatch, one_torch_thread) -> Path:
    """A resources folder with a box and a pong model and the paper's pong file."""
    root = tmp_path / "resources"
    tiny_model(root / "models" / "box.safetensors", "box", 0)
    tiny_model(root / "models" / "pong.safetensors", "pong", 1)
    images, _ = simulate(scene_params("pong", size=32), 2, 20, seed=0)
    (root / "datasets").mkdir()
    save_sequences(root / "datasets" / "paper-pong-test.npz", images)
    monkeypatch.setattr("kvae_studio.services.resources.resources_dir", lambda: root)
    return root


def open_window(qtbot, qsettings, path: Path):
    return first_launch_window(qtbot, load_model(path), path, qsettings)


def choose_scene(combo, scene: str) -> None:
    """Open the drop-down with a click, pick `scene` with the arrow keys and Return."""
    QTest.mouseClick(combo, Qt.MouseButton.LeftButton)
    target = next(
        i for i in range(combo.count()) if scene in (combo.itemText(i), combo.itemData(i))
    )
    key = Qt.Key.Key_Down if target > combo.currentIndex() else Qt.Key.Key_Up
    for _ in range(abs(target - combo.currentIndex())):
        QTest.keyClick(combo.view(), key)
    QTest.keyClick(combo.view(), Qt.Key.Key_Return)


def test_choosing_pong_opens_the_pong_model_with_a_pong_sequence(qtbot, qsettings, shipped):
    win = open_window(qtbot, qsettings, (shipped / "models" / "box.safetensors").resolve())
    explore = win.explore
    assert "trained on Box" in explore.sequence_controls.model_label.text()
    choose_scene(explore.sequence_controls.scene, "pong")
    wait_idle(qtbot, win)
    assert Path(explore.model_path) == (shipped / "models" / "pong.safetensors").resolve()
    assert explore.source.scene == "pong"
    assert "trained on Pong" in explore.sequence_controls.model_label.text()
    assert explore.pairing.isHidden() and explore.pairing.warning == ""
    assert "Pong (shipped)" in win.windowTitle()  # as every model list names it


def test_a_users_model_stays_until_the_warnings_button_is_pressed(
    qtbot, qsettings, shipped, tmp_path
):
    mine = tiny_model(tmp_path / "runs" / "mine" / "model.safetensors", "box", 2)
    win = open_window(qtbot, qsettings, mine)
    explore = win.explore
    assert explore.pairing.isHidden()
    choose_scene(explore.sequence_controls.scene, "pong")
    wait_idle(qtbot, win)
    assert Path(explore.model_path) == mine  # never replaced without asking
    assert explore.source.scene == "pong"
    assert explore.pairing.isVisible()
    assert "Pong sequence is shown to a model trained on Box" in explore.pairing.warning
    QTest.mouseClick(explore.pairing.button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, win)
    assert Path(explore.model_path) == (shipped / "models" / "pong.safetensors").resolve()
    assert explore.source.scene == "pong"  # the same sequence, now with its model
    assert explore.pairing.isHidden()


def test_opening_the_paper_pong_file_brings_the_pong_model(qtbot, qsettings, shipped):
    win = open_window(qtbot, qsettings, (shipped / "models" / "box.safetensors").resolve())
    assert win.open_dataset(shipped / "datasets" / "paper-pong-test.npz")
    wait_idle(qtbot, win)
    assert Path(win.explore.model_path).name == "pong.safetensors"
    assert win.explore.pairing.isHidden()


def test_every_model_list_holds_the_shipped_models_beside_the_runs(qtbot, shipped, tmp_path):
    from kvae_studio.app.panels.evaluate_panel import EvaluatePanel
    from kvae_studio.app.panels.workspace import Workspace

    workspace = Workspace(tmp_path / "studio")
    run = tiny_model(workspace.runs_dir / "mine" / "model.safetensors", "box", 2)
    explored = tiny_model(tmp_path / "elsewhere" / "other.safetensors", "pong", 3)
    panel = EvaluatePanel(workspace, current_model=lambda: explored)
    qtbot.addWidget(panel)
    for combo in (panel.model_combo, panel.compare_combo):
        labels = [combo.itemText(i) for i in range(combo.count())]
        assert {"Box (shipped)", "Pong (shipped)", "mine", "other.safetensors"} <= set(labels)
    assert panel.model_combo.path() == explored  # the model open in Explore comes first
    assert panel.compare_combo.set_path(run)

    fresh = EvaluatePanel(Workspace(tmp_path / "fresh"), current_model=lambda: None)
    qtbot.addWidget(fresh)
    assert fresh.model_combo.currentText() == "Box (shipped)"  # first launch, untrained


def test_the_studio_opens_on_the_scene_asked_for_with_its_model(shipped, qsettings, tmp_path):
    """`kvae-studio --scene pong` (and `--screenshot --scene pong`) opens the pong model,
    even when another model was used last; without --scene the last model's scene is shown."""
    from kvae_studio.app.main import start_model
    from kvae_studio.app.settings import AppSettings

    pong = (shipped / "models" / "pong.safetensors").resolve()
    settings = AppSettings(qsettings)
    settings.set_last_model(str(tiny_model(tmp_path / "mine.safetensors", "box", 2)))
    for use_last in (True, False):  # a launch, a screenshot
        _, path, scene, note = start_model("pong", settings, use_last=use_last)
        assert (Path(path), scene, note) == (pong, "pong", "")
    _, path, scene, _ = start_model(None, settings)
    assert (Path(path).name, scene) == ("mine.safetensors", "box")
    settings.set_last_model(str(pong))
    assert start_model(None, settings)[2] == "pong"
    _, path, scene, note = start_model("polygon", settings, use_last=False)  # none shipped
    assert (Path(path).name, scene) == ("box.safetensors", "polygon")
    assert "No model trained on Polygon" in note


def test_explores_model_list_holds_every_shipped_model_and_opens_one(
    qtbot, qsettings, shipped, tmp_path
):
    mine = tiny_model(tmp_path / "runs" / "mine" / "model.safetensors", "box", 2)
    win = open_window(qtbot, qsettings, mine)
    chooser = win.explore.sequence_controls.model_chooser
    labels = [chooser.itemText(i) for i in range(chooser.count())]
    assert labels == ["Box (shipped)", "Pong (shipped)", "mine", "Open a model file…"]
    assert chooser.currentText() == "mine"
    choose_scene(chooser, "Pong (shipped)")  # any combo: click, arrows, Return
    wait_idle(qtbot, win)
    assert Path(win.explore.model_path).name == "pong.safetensors"
    assert chooser.currentText() == "Pong (shipped)"
    assert "mine" in [chooser.itemText(i) for i in range(chooser.count())]  # recent now


def test_evaluate_runs_a_shipped_models_sweeps_on_its_scenes_paper_file(qtbot, shipped, tmp_path):
    from kvae_studio.app.panels.evaluate_panel import EvaluatePanel
    from kvae_studio.app.panels.workspace import Workspace

    images, _ = simulate(scene_params("box", size=32), 2, 20, seed=0)
    save_sequences(shipped / "datasets" / "paper-box-test.npz", images)
    panel = EvaluatePanel(Workspace(tmp_path / "studio"))
    qtbot.addWidget(panel)
    panel.show()
    assert panel.model_combo.currentText() == "Box (shipped)"  # first launch: shipped + paper
    assert panel.test_combo.path().name == "paper-box-test.npz"
    choose_scene(panel.model_combo, "Pong (shipped)")
    assert panel.test_combo.path().name == "paper-pong-test.npz"
    panel.sequences_spin.setValue(1)
    QTest.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.job is None, timeout=120_000)
    assert not panel.message.is_error, panel.message.text()
    assert list(panel.plot.results) == ["Pong (shipped)"]


def test_train_starts_a_new_run_from_a_shipped_model(qtbot, shipped, tmp_path):
    """Train's run list holds the shipped models: a run from one keeps its config and
    starts from its weights (a user's run list, 'continue from', beside the runs)."""
    from kvae_studio.app.panels.train_panel import TrainPanel
    from kvae_studio.app.panels.workspace import Workspace
    from kvae_studio.services.run_records import read_studio_file
    from kvae_studio.services.training import TrainSession

    workspace = Workspace(tmp_path / "studio")
    workspace.datasets_dir.mkdir(parents=True)
    images, _ = simulate(scene_params("pong", size=32), 8, 20, seed=0)
    save_sequences(workspace.datasets_dir / "pong-1-train.npz", images)
    workspace.notify_datasets()
    panel = TrainPanel(workspace)
    qtbot.addWidget(panel)
    panel.show()
    combo = panel.settings.run_combo
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert {"From Box (shipped)", "From Pong (shipped)"} <= set(labels)
    choose_scene(combo, "From Pong (shipped)")
    form = panel.settings.form
    assert form.editor("alpha_units").value() == 8  # the shipped model's config, fixed
    assert not form.editor("alpha_units").isEnabled() and form.editor("num_epochs").isEnabled()
    form.editor("num_epochs").setValue(1)
    options = panel.settings.options()
    pong = shipped / "models" / "pong.safetensors"
    assert options.init_from == pong and options.run_dir.name == "pong-1-from-pong"

    session = TrainSession(options)
    events = session.run()
    assert next(events).kind == "started"
    started_with = session._trainer.model.state_dict()
    for name, value in load_model(pong).state_dict().items():
        assert torch.equal(started_with[name], value), name
    session.stop()
    for _ in events:
        pass
    assert read_studio_file(options.run_dir)["init_from"] == str(pong)


def test_the_model_card_says_scene_size_training_and_shipped_figures(shipped):
    import json

    from kvae_studio.services.model_card import dataset_scene, model_card, model_scene

    figures = {"planning": {"hamming": {"smoothing": 0.02, "baseline": 0.05}},
               "random_0.5": {"hamming": {"smoothing": 0.01, "baseline": 0.05}}}  # fmt: skip
    (shipped / "models" / "pong-evaluation.json").write_text(json.dumps(figures))
    path = shipped / "models" / "pong.safetensors"
    card = model_card(load_model(path), str(path), read_summary(path))
    assert (card.headline, card.shipped) == ("trained on Pong", True)
    assert card.lines[0].startswith("32×32 frames, K=2") and card.lines[0].endswith(", 1 epoch")
    assert card.lines[-1] == (
        "smoothing on paper-pong-test.npz: planning 0.020 (0.40× baseline), "
        "drop 0.5 0.010 (0.20× baseline)"
    )
    assert model_scene({"data": {"scene": "box"}}) == "box"  # the first shipped box model
    assert model_scene({"epoch": 3}) is None  # a run that does not say: unknown
    names = ["paper-box_gravity-test.npz", "original-box-gravity.npz", "box-20250101-test.npz",
             "pong-1-train.npz", "boxes.npz", "mine.npz"]  # fmt: skip
    assert [dataset_scene(n) for n in names] == ["box_gravity", "box_gravity", "box", "pong",
                                                  None, None]  # fmt: skip


def test_evaluate_pairs_a_run_without_a_recorded_scene_with_its_datas_scene(
    qtbot, shipped, tmp_path
):
    """After a restart, a run whose model file does not say its scene (an older file)
    gets the paper file of the scene its training data is named for, not the newest."""
    import json
    import os

    from kvae_studio.app.panels.evaluate_panel import EvaluatePanel
    from kvae_studio.app.panels.workspace import Workspace

    images, _ = simulate(scene_params("box", size=32), 2, 20, seed=0)
    save_sequences(shipped / "datasets" / "paper-box-test.npz", images)
    workspace = Workspace(tmp_path / "studio")
    train = workspace.datasets_dir / "pong-20261207-1200-train.npz"
    train.parent.mkdir(parents=True)
    save_sequences(train, images)  # the name says pong; the file records no scene
    newest = workspace.datasets_dir / "later-test.npz"
    save_sequences(newest, images)
    os.utime(newest, (2e9, 2e9))
    run = workspace.runs_dir / "old-run"
    run.mkdir(parents=True)
    torch.manual_seed(0)
    save_model(KVAE(TINY), run / "model.safetensors", {"epoch": 1})
    (run / "studio.json").write_text(json.dumps({"train": str(train)}))

    panel = EvaluatePanel(workspace)
    qtbot.addWidget(panel)
    panel.show()
    choose_scene(panel.model_combo, "old-run")
    assert panel.test_combo.path().name == "paper-pong-test.npz"
    # A test set the user picks stays when another model of a known scene is chosen.
    choose_scene(panel.test_combo, str(newest))
    choose_scene(panel.model_combo, "Box (shipped)")
    assert panel.test_combo.path().name == "later-test.npz"

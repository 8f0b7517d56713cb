"""Train as a new user meets it (issue 13): no test file by default, a test file only
after saying yes, the run's folder one click away. Real clicks; tiny data."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pytest
from panel_helpers import TIMEOUT, click, type_into
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from kvae_studio.app.panels.train_panel import TrainPanel
from kvae_studio.app.panels.train_settings import NO_TRAINING_SET
from kvae_studio.app.panels.workspace import Workspace


@pytest.fixture
def workspace(tmp_path, qapp) -> Workspace:
    return Workspace(tmp_path / "studio")


def _simulate(workspace: Workspace, name: str, n: int) -> Path:
    from kvae_studio.sim import simulate
    from model.data import save_sequences

    workspace.datasets_dir.mkdir(parents=True, exist_ok=True)
    images, state = simulate("box", n, 20, 0)
    save_sequences(workspace.datasets_dir / name, images, state)
    workspace.notify_datasets()
    return workspace.datasets_dir / name


def _choose(combo, name: str) -> None:
    index = next(i for i in range(combo.count()) if name in combo.itemText(i))
    combo.setCurrentIndex(index)


def test_a_fresh_workspace_never_defaults_to_the_papers_test_set(qtbot, workspace):
    panel = TrainPanel(workspace)
    qtbot.addWidget(panel)
    panel.show()
    combo = panel.settings.train_combo
    assert combo.path() is None and combo.currentText() == NO_TRAINING_SET
    assert not panel.settings.test_warning.isVisible()
    click(panel.start_button)
    assert panel.message.is_error and "training set" in panel.message.text()
    assert panel.state == "idle"

    # Chosen on purpose, the paper's test file is named a test set, and Start asks first.
    _choose(combo, "paper-box-test.npz")
    assert panel.settings.test_warning.isVisible()
    assert "test set" in panel.settings.test_warning.text()
    click(panel.start_button)
    box = panel.test_question
    assert box is not None and box.isVisible()
    click(box.button(box.StandardButton.Cancel))
    assert panel.state == "idle" and not workspace.runs_dir.exists()


def test_a_training_split_is_the_default(qtbot, workspace):
    _simulate(workspace, "tiny-test.npz", 4)
    train = _simulate(workspace, "tiny-train.npz", 4)
    panel = TrainPanel(workspace)
    qtbot.addWidget(panel)
    assert panel.settings.train_combo.path() == train
    assert not panel.settings.trains_on_test_file()
    assert panel.settings.test_warning.isHidden()
    # The run's own test set, chosen as its training set too, is a test set.
    _choose(panel.settings.test_combo, "tiny-train.npz")
    assert panel.settings.trains_on_test_file() and not panel.settings.test_warning.isHidden()


def test_train_anyway_on_a_test_file_and_open_the_runs_folder(qtbot, workspace, monkeypatch):
    _simulate(workspace, "tiny-test.npz", 8)
    panel = TrainPanel(workspace)
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()
    _choose(panel.settings.train_combo, "tiny-test.npz")
    type_into(panel.settings.form.editor("batch_size"), "4")
    type_into(panel.settings.form.editor("num_epochs"), "1")
    type_into(panel.settings.eval_spin, "4")
    type_into(panel.settings.name_edit, "on-test")
    click(panel.start_button)
    box = panel.test_question
    anyway = next(b for b in box.buttons() if b.text() == "Train anyway")
    click(anyway)
    qtbot.waitUntil(lambda: panel.state == "idle", timeout=TIMEOUT)
    run_dir = workspace.runs_dir / "on-test"
    assert (run_dir / "model.safetensors").is_file()
    assert str(run_dir) in panel.folder_label.text()

    opened = []
    monkeypatch.setattr(
        "kvae_studio.app.panels.train_panel.QDesktopServices.openUrl",
        lambda url: opened.append(url.toLocalFile()),
    )
    label = panel.folder_label
    on_link = QPoint(min(label.sizeHint().width(), label.width()) - 10, label.height() // 2)
    QTest.mouseClick(label, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, on_link)
    assert opened == [str(run_dir)]


def test_a_constant_learning_rate_reads_as_itself_and_log_scale(qtbot):
    from kvae_studio.app.panels.curves import TrainingCurves

    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.show()
    terms = dict.fromkeys(("elbo", "log_px", "log_qa", "transition", "emission"), -1.0)
    for step in range(1, 30):
        curves.add_step(
            {
                "step": step,
                "terms": terms,
                "grad_norm": 10.0 ** (step % 4),
                "sequences_per_second": 50.0,
                "lr": 0.007,
            }
        )
    curves.tabs.setCurrentIndex(2)  # Optimiser
    curves.flush()
    low, high = curves.lr_plot.getViewBox().viewRange()[1]
    assert 0.001 < low < 0.007 < high < 0.02, (low, high)
    axis = curves.lr_plot.getAxis("left")
    assert axis.tickStrings([0.005, 0.007, 0.009], 1.0, 0.002) == ["0.005", "0.007", "0.009"]
    assert axis.tickStrings([9.99, 10.0, 10.01], 1.0, 0.01) == ["9.99", "10", "10.01"]

    QTest.mouseClick(curves.log_y, Qt.MouseButton.LeftButton)
    assert curves.log_y.isChecked()
    assert all(plot.getAxis("left").logMode for plot in curves.log_plots)
    assert axis.tickStrings([-3.0, -2.0], 1.0, 1.0) == ["0.001", "0.01"]


def test_scene_parameters_have_units_and_an_invalid_value_outlines_its_field(qtbot, workspace):
    from kvae_studio.app.panels.scene_panel import ScenePanel

    panel = ScenePanel(workspace)
    qtbot.addWidget(panel)
    panel.show()
    label = panel.form.section("Ball").form.labelForField(panel.form.editor("ball_radius"))
    assert label.text() == "ball radius (px)"
    assert panel.scene_combo.itemText(1) == "Box with gravity"

    speed_min = panel.form.editor("speed_min")
    type_into(speed_min, "99")
    qtbot.waitUntil(lambda: panel.param_message.is_error, timeout=TIMEOUT)
    assert speed_min.property("invalid") is True and "border" in speed_min.styleSheet()
    assert panel.form.editor("ball_radius").property("invalid") is False
    type_into(speed_min, "10")
    qtbot.waitUntil(lambda: not panel.param_message.is_error, timeout=TIMEOUT)
    assert speed_min.property("invalid") is False and speed_min.styleSheet() == ""
    panel.shutdown()


def test_the_scene_tab_shows_and_chooses_where_datasets_go(qtbot, workspace, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from kvae_studio.app.panels.scene_panel import ScenePanel

    panel = ScenePanel(workspace)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.folder_label.full_text() == str(workspace.datasets_dir)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(elsewhere))
    click(panel.choose_folder_button)
    assert panel.folder_label.full_text() == str(elsewhere)
    type_into(panel.name_edit, "mine")
    type_into(panel.train_spin, "4")
    type_into(panel.test_spin, "2")
    click(panel.generate_button)
    qtbot.waitUntil(lambda: "Wrote" in panel.message.text(), timeout=TIMEOUT)
    assert (elsewhere / "mine-train.npz").is_file() and (elsewhere / "mine-test.npz").is_file()
    listed = [info.path for info in workspace.datasets()]
    assert elsewhere / "mine-train.npz" in listed
    panel.shutdown()


def test_evaluate_draws_each_point_as_it_arrives_hides_a_model_and_log_scale(
    qtbot, workspace, tmp_path
):
    import torch

    from kvae_studio.app.panels.evaluate_panel import EvaluatePanel
    from model.checkpoint import save_model
    from model.config import KVAEConfig
    from model.kvae import KVAE

    test = _simulate(workspace, "tiny-test.npz", 4)
    torch.manual_seed(0)
    model = tmp_path / "a.safetensors"
    save_model(KVAE(KVAEConfig()), model)
    panel = EvaluatePanel(workspace, current_model=lambda: model)
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()
    assert panel.model_combo.set_path(model) and panel.test_combo.set_path(test)
    type_into(panel.sequences_spin, "2")
    counts: list[int] = []
    click(panel.run_button)
    panel.job.item.connect(lambda _item: counts.append(panel.plot.point_count("planning")))
    qtbot.waitUntil(lambda: panel.job is None, timeout=TIMEOUT)
    assert not panel.message.is_error, panel.message.text()
    assert counts[0] < counts[-1] == 8 * 4, "the curve grew point by point"

    toggle = panel.plot.toggles["a.safetensors"]
    click(toggle)
    assert panel.plot.point_count("planning") == 0, "its curves hidden"
    click(toggle)
    assert panel.plot.point_count("planning") == 8 * 4
    click(panel.plot.log_y)
    assert all(w.getPlotItem().getAxis("left").logMode for w in panel.plot.plots.values())


def test_a_refused_training_config_outlines_its_field(qtbot, workspace):
    _simulate(workspace, "tiny-train.npz", 4)
    panel = TrainPanel(workspace)
    qtbot.addWidget(panel)
    panel.show()
    init_lr = panel.settings.form.editor("init_lr")
    type_into(init_lr, "-1")
    click(panel.start_button)
    assert panel.message.is_error and "init_lr" in panel.message.text()
    assert init_lr.property("invalid") is True
    assert panel.settings.form.editor("batch_size").property("invalid") is False
    assert panel.state == "idle"


def test_the_train_form_says_each_option_in_words_and_names_it_in_its_tooltip(qtbot, workspace):
    import dataclasses

    from model.config import KVAEConfig
    from model.config_help import CONFIG_LABELS
    from model.training_reports import Finished

    panel = TrainPanel(workspace)
    qtbot.addWidget(panel)
    form = panel.settings.form
    for field in dataclasses.fields(KVAEConfig):
        label = form._labels[field.name]
        assert label.text() == CONFIG_LABELS[field.name] != field.name
        assert f"--{field.name.replace('_', '-')}" in label.toolTip(), field.name
    assert form._labels["batch_size"].text() == "batch (sequences)"
    panel._on_event(Finished(reason="stopped", epoch=1, step=1, checkpoint=None))
    assert "Stopped after 1 epoch (1 step);" in panel.message.text()

"""The Scene tab comes back as it was left (issue 27, friction "scene parameters are not
kept across restarts"): the scene, its parameters, the rotation marker, the train and test
counts, the frames, the seed and the output folder are kept in the studio's settings and
shown again by a tab built on them after a restart. A stored value that cannot be read, or
that the scene refuses, gives the paper's defaults, never an error. Typed with real key
presses and clicks."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json
from types import SimpleNamespace

import pytest
from panel_helpers import TIMEOUT, choose, click, type_into
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog

from kvae_studio.app.panels import build_panels
from kvae_studio.app.panels import shutdown as stop_panels
from kvae_studio.app.panels.workspace import Workspace
from kvae_studio.app.settings import AppSettings
from kvae_studio.sim import SCENES


@pytest.fixture
def workspace(tmp_path, qapp) -> Workspace:
    return Workspace(tmp_path / "studio")


def open_panel(qtbot, workspace, settings: AppSettings):
    from kvae_studio.app.panels.scene_panel import ScenePanel

    panel = ScenePanel(workspace, settings=settings)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.preview.sequences is not None, timeout=TIMEOUT)
    return panel


def restarted(qsettings: QSettings) -> AppSettings:
    """The settings as a new run of the studio reads them: from the file, not from memory."""
    qsettings.sync()
    return AppSettings(QSettings(qsettings.fileName(), QSettings.Format.IniFormat))


def kept(settings: AppSettings) -> dict:
    record = settings.scene_choice().record
    return record.values if record is not None else {}


def form_values(panel) -> dict:
    return {name: panel.form.editor(name).value() for name in panel.form.names()}


def test_the_scene_its_parameters_and_fields_come_back_after_a_restart(
    qtbot, workspace, qsettings, tmp_path, monkeypatch
):
    panel = open_panel(qtbot, workspace, AppSettings(qsettings))
    choose(panel.scene_combo, "Box with gravity")
    qtbot.waitUntil(lambda: panel.scene_name() == "box_gravity", timeout=TIMEOUT)
    type_into(panel.form.editor("ball_radius"), "2")
    type_into(panel.form.editor("gravity_y"), "5")
    type_into(panel.train_spin, "300")
    type_into(panel.test_spin, "40")
    type_into(panel.steps_spin, "30")
    type_into(panel.seed_spin, "9")
    click(panel.marker_check)
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    click(panel.choose_folder_button)
    edited = form_values(panel)
    assert edited["ball_radius"] == 2.0 and edited["gravity_y"] == 5.0
    panel.shutdown()
    panel.close()

    again = open_panel(qtbot, workspace, restarted(qsettings))
    try:
        assert again.scene_name() == "box_gravity"
        assert again.scene_combo.currentText() == "Box with gravity"
        assert form_values(again) == edited
        assert again.marker_check.isChecked()
        assert not again.legacy_check.isChecked()
        assert (again.train_spin.value(), again.test_spin.value()) == (300, 40)
        assert (again.steps_spin.value(), again.seed_spin.value()) == (30, 9)
        assert again.output_dir == folder
        assert again.folder_label.toolTip() == str(folder)
        assert not again.param_message.is_error
    finally:
        again.shutdown()


def test_a_refused_edit_keeps_the_last_accepted_values(qtbot, workspace, qsettings):
    settings = AppSettings(qsettings)
    panel = open_panel(qtbot, workspace, settings)
    type_into(panel.form.editor("ball_radius"), "2.5")
    qtbot.waitUntil(  # kept once the preview takes it
        lambda: kept(settings).get("ball_radius") == 2.5, timeout=TIMEOUT
    )
    type_into(panel.form.editor("ball_radius"), "50")  # refused: larger than the box
    qtbot.waitUntil(lambda: panel.param_message.is_error, timeout=TIMEOUT)
    panel.shutdown()
    panel.close()

    again = open_panel(qtbot, workspace, restarted(qsettings))
    try:
        assert again.form.editor("ball_radius").value() == 2.5
        assert not again.param_message.is_error
    finally:
        again.shutdown()


def test_the_window_s_panels_keep_the_scene_in_the_window_s_settings(qtbot, workspace, qsettings):
    """build_panels gives the Scene tab the window's settings (as MainWindow calls it)."""
    window = SimpleNamespace(settings=AppSettings(qsettings), current_model_path=None)
    panels = build_panels(window, workspace)
    for _title, widget in panels:
        qtbot.addWidget(widget)
    scene = panels[0][1]
    scene.show()
    choose(scene.scene_combo, "Polygon")
    type_into(scene.form.editor("speed_max"), "20")
    stop_panels(panels)

    window = SimpleNamespace(settings=restarted(qsettings), current_model_path=None)
    panels = build_panels(window, workspace)
    for _title, widget in panels:
        qtbot.addWidget(widget)
    try:
        scene = panels[0][1]
        assert scene.scene_name() == "polygon"
        assert scene.form.editor("speed_max").value() == 20.0
    finally:
        stop_panels(panels)


@pytest.mark.parametrize(
    "stored",
    [
        "{not json",
        "[" * 100_000,  # nested too deeply for Python's own reader
        json.dumps(["box"]),
        json.dumps({"record": {"scene": "box", "parameters": {"ball_radius": 50}}}),
        json.dumps({"record": {"scene": "box", "parameters": {"ball_radius": "big"}}}),
        json.dumps({"record": {"scene": "box", "parameters": {"walls": [[1, 2]]}}}),
        json.dumps({"record": {"scene": "pong", "parameters": {"floor_row": 2, "roof_row": 9}}}),
        json.dumps({"record": {"scene": "nowhere", "parameters": {}}, "train_sequences": "x"}),
        json.dumps({"record": None, "steps": -3, "test_sequences": True, "folder": 5}),
    ],
)
def test_a_stored_scene_that_cannot_be_used_gives_the_defaults(qtbot, workspace, qsettings, stored):
    qsettings.setValue("scene/last", stored)
    panel = open_panel(qtbot, workspace, restarted(qsettings))
    try:
        scene = SCENES[panel.scene_name()]()
        defaults = {name: getattr(scene, name) for name in panel.form.names()}
        assert form_values(panel) == defaults
        assert not panel.param_message.is_error
        assert (panel.train_spin.value(), panel.test_spin.value()) == (5000, 1000)
        assert (panel.steps_spin.value(), panel.seed_spin.value()) == (20, 0)
        assert panel.output_dir == workspace.datasets_dir
    finally:
        panel.shutdown()


def test_a_stored_value_that_is_no_text_gives_the_defaults(qtbot, workspace, qsettings):
    qsettings.setValue("scene/last", [1, 2, 3])
    panel = open_panel(qtbot, workspace, restarted(qsettings))
    try:
        assert panel.scene_name() == "box"
        assert panel.form.editor("ball_radius").value() == SCENES["box"]().ball_radius
    finally:
        panel.shutdown()

"""A model knows the world of its data (issue 27): a run trained on a studio-made data set
says its scene and parameters (from its summary, or from its run folder's record of the
data it was trained on), Explore simulates new sequences like that data, and says when the
sequence on screen differs from it. Qt-free: the document and the model card only.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from kvae_studio.document.explore import ExploreDocument
from kvae_studio.document.sources import SceneSource, source_from_dict, source_to_dict
from kvae_studio.services.model_card import data_summary, model_card
from kvae_studio.sim import scene_params, simulate
from kvae_studio.sim.scene_record import record_of
from model.checkpoint import save_model
from model.config import KVAEConfig
from model.data import load_sequences, save_sequences
from model.kvae import KVAE
from model.run_folder import MODEL_FILE, STUDIO_FILE

TINY = KVAEConfig(filters=(4, 4), alpha_units=8, K=2, batch_size=4)
SMALL_BALL = {"ball_radius": 2.0, "gravity_y": 5.0}


def _model(seed: int = 0) -> KVAE:
    torch.manual_seed(seed)
    return KVAE(TINY).eval()


def _studio_data(path: Path, **overrides) -> Path:
    """A data set as the Scene tab writes it."""
    params = scene_params("box", **overrides)
    path.parent.mkdir(parents=True, exist_ok=True)
    images, state = simulate(params, 2, 20, 0)
    save_sequences(path, images, state, scene=record_of(params, seed=0).to_json())
    return path


@pytest.fixture
def run_of_the_train_panel(tmp_path) -> Path:
    """A run folder as training leaves it before issue 27: a summary without the scene,
    and studio.json naming the training file (a studio-made radius-2, gravity-5 box)."""
    data = _studio_data(tmp_path / "datasets" / "small-ball-train.npz", **SMALL_BALL)
    run = tmp_path / "runs" / "small-ball"
    run.mkdir(parents=True)
    save_model(_model(), run / MODEL_FILE, {"epoch": 1, "step": 4, "stopped": False})
    (run / STUDIO_FILE).write_text(json.dumps({"train": str(data), "test": None}))
    return run / MODEL_FILE


@pytest.fixture
def doc() -> ExploreDocument:
    document = ExploreDocument(_model(1))
    document.new_sequence("box", 0, steps=20)  # the default box: radius 3, no gravity
    return document


def test_a_run_trained_on_studio_data_knows_its_scene(doc, run_of_the_train_panel):
    doc.open_model(run_of_the_train_panel)
    assert doc.model_scene == "box"
    card = model_card(doc.model, doc.model_path, doc.model_summary)
    assert card.headline == "trained on Box"
    assert any("ball radius 2" in line and "gravity along y 5" in line for line in card.lines)


def test_the_default_sequence_is_flagged_and_new_ones_are_like_the_training_data(
    doc, run_of_the_train_panel
):
    doc.open_model(run_of_the_train_panel)
    names = [name for name, _, _ in doc.parameter_mismatch()]
    assert names == ["ball_radius", "gravity_y"]  # radius 3 shown, radius 2 learned
    doc.new_sequence("box", 7)
    expected, _ = simulate(scene_params("box", **SMALL_BALL), 1, 20, seed=7)
    assert np.array_equal(doc.images, expected[0])
    assert doc.source == SceneSource("box", 7, False, (("ball_radius", 2.0), ("gravity_y", 5.0)))
    assert "ball radius 2" in doc.source.describe("Box")
    assert doc.parameter_mismatch() == []
    doc.new_sequence("pong", 7)  # another scene: its own defaults (the scenes differ)
    assert doc.source == SceneSource("pong", 7, False)


def test_the_summary_written_by_training_says_the_scene(doc, tmp_path):
    data = _studio_data(tmp_path / "radius-2.npz", **SMALL_BALL)
    summary = {"epoch": 1, **data_summary([load_sequences(data)])}
    assert summary["scene"] == "box" and summary["data"]["scene_parameters"]["ball_radius"] == 2
    path = tmp_path / "trained.safetensors"
    save_model(_model(), path, summary)  # no run folder beside it
    doc.open_model(path)
    assert doc.model_scene == "box" and len(doc.parameter_mismatch()) == 2
    # files of different scenes say nothing rather than one of them
    other = _studio_data(tmp_path / "radius-3.npz")
    assert data_summary([load_sequences(data), load_sequences(other)]) == {}


def test_a_studio_dataset_says_its_scene_whatever_its_name(doc, tmp_path):
    path = _studio_data(tmp_path / "my-data.npz", **SMALL_BALL)
    doc.open_dataset(path)
    assert doc.sequence_scene == "box"
    assert doc.sequence_values()["ball_radius"] == 2.0


def test_a_new_sequence_keeps_the_masks_and_their_undo_history(doc):
    doc.mask.toggle_hidden(0)
    doc.apply_band("vertical", 16, 4)
    hidden, occluded = doc.mask.hidden.copy(), doc.mask.occluded.copy()
    doc.new_sequence("box", 1)
    assert np.array_equal(doc.mask.hidden, hidden) and np.array_equal(doc.mask.occluded, occluded)
    assert doc.mask.can_undo, "the masks carried over, so does their history"
    doc.mask.undo()
    assert not doc.mask.occluded.any() and doc.mask.hidden[0]


def test_a_sequence_of_changed_parameters_round_trips_through_a_session():
    source = SceneSource("box", 3, True, (("ball_radius", 2.0),), legacy=True)
    assert source_from_dict(source_to_dict(source)) == source


def test_a_model_trained_by_the_command_line_says_its_datas_scene(tmp_path):
    """Training writes the scene and parameters of its data into the model file itself, so
    a copy away from its run folder still knows them (before, only a shipped model did)."""
    import shutil

    from kvae_studio import cli
    from kvae_studio.services.model_card import model_file_scene
    from model.model_file import read_summary

    data = _studio_data(tmp_path / "radius-2.npz", **SMALL_BALL)
    run = tmp_path / "run"
    status = cli.main(
        ["train", str(data), "--out", str(run), "--epochs", "1", "--device", "cpu",
         "--threads", "1", "--filters", "4,4", "--alpha-units", "8", "--batch-size", "2"]
    )  # fmt: skip
    assert status == 0
    summary = read_summary(run / MODEL_FILE)
    assert summary["scene"] == "box" and summary["data"]["scene_parameters"]["ball_radius"] == 2
    assert summary["data"]["train_sequences"] == 2
    alone = tmp_path / "elsewhere" / "copy.safetensors"
    alone.parent.mkdir()
    shutil.copy(run / MODEL_FILE, alone)
    assert model_file_scene(alone) == "box"

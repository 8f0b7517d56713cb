"""Data sets made by the studio carry their scene (issue 27): the scene's name and every
parameter, as JSON in a small unicode array that numpy reads without pickle. The reader
still refuses pickles and reads older files, which say nothing of their scene.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from kvae_studio.sim import scene_params, simulate
from model.data import load_sequences, save_sequences

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kvae_studio", *args], capture_output=True, text=True, timeout=120
    )


def test_simulate_writes_the_scene_and_info_shows_it(tmp_path):
    out = tmp_path / "small.npz"
    made = _cli("simulate", "box", "--ball-radius", "2", "--gravity-y", "5", "--sequences", "3",
                "--steps", "4", "--rotation-marker", "--out", str(out), "-q")  # fmt: skip
    assert made.returncode == 0, made.stderr
    with np.load(out, allow_pickle=False) as archive:  # plain numpy, no pickle
        record = json.loads(str(archive["scene"][()]))
    assert record["scene"] == "box"
    assert record["parameters"]["ball_radius"] == 2.0
    assert record["parameters"]["gravity_y"] == 5.0
    assert record["parameters"]["inset"] == 2.0  # every parameter, defaults included
    assert record["rotation_marker"] is True and record["legacy_physics"] is False

    data = load_sequences(out)
    assert data.notes == ()
    assert data.scene == "box"
    assert data.scene_parameters["ball_radius"] == 2.0
    assert data.scene_info["rotation_marker"] is True

    info = _cli("info", str(out))
    assert info.returncode == 0, info.stderr
    line = next(s for s in info.stdout.splitlines() if s.strip().startswith("scene:"))
    assert "box" in line and "ball_radius 2" in line and "gravity_y 5" in line
    assert "rotation marker" in line


def test_the_scene_panels_datasets_carry_their_scene(tmp_path):
    from kvae_studio.services.scene_work import DatasetPlan, generate_datasets

    class Context:
        def progress(self, done, total):
            return True

        def check(self):
            pass

        def emit(self, item):
            pass

    params = scene_params("pong", paddle_speed=1.5)
    plans = [
        DatasetPlan(tmp_path / "p-train.npz", 2, 0),
        DatasetPlan(tmp_path / "p-test.npz", 2, 1),
    ]
    generate_datasets(Context(), params, plans, 4, marker=True)
    for plan in plans:
        data = load_sequences(plan.path)
        assert data.scene == "pong"
        assert data.scene_parameters["paddle_speed"] == 1.5
        assert data.scene_info["seed"] == plan.seed


def test_files_without_a_scene_still_read_and_say_nothing_of_it(tmp_path):
    images, state = simulate("box", 2, 4, 0)
    save_sequences(tmp_path / "old.npz", images, state)
    data = load_sequences(tmp_path / "old.npz")
    assert data.scene is None and data.scene_parameters is None and data.notes == ()
    paper = load_sequences(ROOT / "resources" / "datasets" / "paper-pong-test.npz")
    assert paper.scene is None and paper.notes == ()


def test_a_scene_that_needs_pickle_is_never_read(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    images, _ = simulate("box", 1, 4, 0)
    buffers = {}
    for key, value, pickle in (("images", images, False), ("scene", np.array([Evil()]), True)):
        buffers[key] = io.BytesIO()
        np.save(buffers[key], value, allow_pickle=pickle)
    path = tmp_path / "evil.npz"
    with zipfile.ZipFile(path, "w") as zf:
        for key, buffer in buffers.items():
            zf.writestr(f"{key}.npy", buffer.getvalue())
    data = load_sequences(path)
    assert data.scene is None and not marker.exists()
    assert data.notes == ("skipped key 'scene': object array needs pickle",)


@pytest.mark.parametrize(
    "value, why",
    [
        (np.array("not json {"), "not JSON"),
        (np.array(json.dumps(["box"])), "not a scene"),
        (np.arange(3), "not a scene"),
    ],
)
def test_an_unreadable_scene_is_a_note_not_an_error(tmp_path, value, why):
    images, _ = simulate("box", 1, 4, 0)
    path = tmp_path / "odd.npz"
    np.savez(path, images=images, scene=value)
    data = load_sequences(path)
    assert data.scene is None
    assert len(data.notes) == 1 and "'scene'" in data.notes[0] and why in data.notes[0]


def test_the_same_scene_gives_the_same_bytes(tmp_path):
    from kvae_studio.sim.scene_record import record_of

    params = scene_params("polygon", ball_radius=2.5)
    images, state = simulate(params, 2, 4, 0)
    record = record_of(params, seed=0).to_json()
    save_sequences(tmp_path / "a.npz", images, state, scene=record)
    save_sequences(tmp_path / "b.npz", images, state, scene=record)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    back = load_sequences(tmp_path / "a.npz").scene_parameters
    assert scene_params("polygon", **back) == params  # the walls come back as they were

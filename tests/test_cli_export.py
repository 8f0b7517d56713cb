"""`kvae-studio export`, run as a command: the paper's two videos, read back; bad input
refused in one line before any work, with nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from video_readback import decoded, read_back

from model.checkpoint import save_model
from model.config import KVAEConfig
from model.data import save_sequences
from model.kvae import KVAE

SIZE, STEPS, SEQUENCES, SCALE = 16, 8, 3, 6
# Two panels of SIZE * SCALE pixels, SCALE-pixel gaps, a 22-pixel caption band.
VIDEO_W = 2 * SIZE * SCALE + 3 * SCALE
VIDEO_H = 22 + SIZE * SCALE + SCALE


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("export")
    torch.manual_seed(0)
    config = KVAEConfig(frame_size=SIZE, filters=(4, 4), alpha_units=8, K=2)
    save_model(KVAE(config), folder / "tiny.safetensors", {"epoch": 1, "scene": "box"})
    rng = np.random.default_rng(0)
    images = (rng.random((SEQUENCES, STEPS, SIZE, SIZE)) > 0.9).astype(np.float32)
    save_sequences(folder / "tiny.npz", images)
    (folder / "junk.safetensors").write_bytes(b"junk")
    return folder / "tiny.safetensors", folder / "tiny.npz"


def export(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kvae_studio", "export", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_imputation_gif_and_long_generation_mp4_read_back(files, tmp_path):
    model, data = files
    gif = tmp_path / "imputation.gif"
    done = export(model, data, "--sequence", 1, "--kind", "imputation", "--out", gif)
    assert done.returncode == 0, done.stderr
    assert gif.read_bytes()[:6] == b"GIF89a"
    assert read_back(gif) == (STEPS, (VIDEO_H, VIDEO_W, 3))

    mp4 = tmp_path / "generation.mp4"
    steps = 3 * STEPS  # past the end of the file
    done = export(model, data, "--sequence", 2, "--kind", "generation", "--steps", steps,
                  "--out", mp4)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert read_back(mp4) == (steps, (VIDEO_H, VIDEO_W, 3))
    av = pytest.importorskip("av")
    with av.open(str(mp4)) as video:
        assert video.streams.video[0].codec_context.name == "h264"  # plays in browsers
    assert sorted(p.name for p in tmp_path.iterdir()) == ["generation.mp4", "imputation.gif"]


def test_a_bad_sequence_number_is_refused_before_the_model_is_read(files, tmp_path):
    _, data = files
    out = tmp_path / "x.gif"
    # The model file is no model: the refusal names the sequence, so it came first.
    done = export(data.parent / "junk.safetensors", data, "--sequence", SEQUENCES, "--out", out)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: --sequence {SEQUENCES}: {data} holds sequences 0 to {SEQUENCES - 1}"
    ]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"out": "x.avi"}, "must end in .gif or .mp4"),
        ({"out": "missing/x.gif"}, "no folder"),
        ({"model": "absent.safetensors"}, "no such file"),
        ({"model": "tiny.npz"}, "models are .safetensors files"),
        ({"model": "junk.safetensors"}, "not a model file"),
        ({"data": "absent.npz"}, "no such file"),
    ],
)
def test_bad_paths_get_one_line_and_write_nothing(files, tmp_path, change, expected):
    model, data = files
    paths = {"model": model, "data": data, "out": tmp_path / "x.gif"}
    for key, name in change.items():
        paths[key] = (data.parent if key != "out" else tmp_path) / name
    done = export(paths["model"], paths["data"], "--sequence", 0, "--out", paths["out"])
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_views_fps_and_scale_as_the_window_s_export_video_offers_them(files, tmp_path):
    model, data = files
    out = tmp_path / "views.mp4"
    done = export(model, data, "--sequence", 0, "--views", "generated,truth,filtered",
                  "--scale", 3, "--fps", 12, "--out", out)  # fmt: skip
    assert done.returncode == 0, done.stderr
    # Three panels of 16 x 3 pixels, 4-pixel gaps (at least 4), the 22-pixel caption band.
    assert decoded(out) == (STEPS, (22 + 48 + 4, 3 * 48 + 4 * 4), pytest.approx(12.0))

    paper = tmp_path / "paper-scale-2.gif"  # --scale applies to the paper's videos too
    done = export(model, data, "--sequence", 0, "--scale", 2, "--out", paper)
    assert done.returncode == 0, done.stderr
    assert read_back(paper) == (STEPS, (22 + 32 + 4, 2 * 32 + 3 * 4, 3))


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--views", "truth,colour"], "colour: choose views from truth, observed"),
        (["--views", ","], "no view: choose views from"),
        (["--views", "truth", "--kind", "generation"], "--views applies to --kind imputation"),
        (["--scale", "0"], "a whole number in [1, 16]"),
        (["--scale", "17"], "a whole number in [1, 16]"),
    ],
)
def test_bad_views_or_scale_are_refused_in_one_line(files, tmp_path, options, words):
    model, data = files
    done = export(model, data, "--sequence", 0, *options, "--out", tmp_path / "x.mp4")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert words in lines[-1], done.stderr
    assert list(tmp_path.iterdir()) == []


# -- the model's scene against the data's ------------------------------------------------------


def scene_files(folder: Path, model_world: dict, data_world: dict | None, name: str):
    """A tiny model that learned `model_world` (scene parameters, as the studio's training
    records them) and a data file of the scene `data_world` (None: the file says nothing)."""
    from kvae_studio.sim.scene_record import record_of
    from kvae_studio.sim.scenes import scene_params

    torch.manual_seed(0)
    config = KVAEConfig(frame_size=SIZE, filters=(4, 4), alpha_units=8, K=2)
    learned = record_of(scene_params(size=SIZE, **model_world))
    model = folder / f"{name}.safetensors"
    save_model(KVAE(config), model, {"epoch": 1, "scene": learned.scene,
                                     "data": learned.summary()})  # fmt: skip
    rng = np.random.default_rng(0)
    images = (rng.random((1, STEPS, SIZE, SIZE)) > 0.9).astype(np.float32)
    data = folder / f"{name}.npz"
    scene = None if data_world is None else record_of(scene_params(size=SIZE, **data_world))
    save_sequences(data, images, scene=None if scene is None else scene.to_json())
    return model, data


def test_a_model_of_another_scene_than_the_data_is_warned_of_in_one_line(tmp_path):
    model, data = scene_files(tmp_path, {"scene": "box"}, {"scene": "pong"}, "pong-data")
    out = tmp_path / "video.gif"
    done = export(model, data, "--sequence", 0, "--out", out)
    assert done.returncode == 0, done.stderr  # a warning, not an error: the video is made
    assert done.stderr.splitlines() == [
        "warning: the model was trained on Box and pong-data.npz holds Pong sequences: "
        "the video shows it on a scene it did not learn"
    ]
    assert read_back(out)[0] == STEPS


def test_data_of_the_model_s_scene_with_other_parameters_are_warned_of(tmp_path):
    model, data = scene_files(
        tmp_path, {"scene": "box", "ball_radius": 2.0}, {"scene": "box", "ball_radius": 3.0}, "r3"
    )
    done = export(model, data, "--sequence", 0, "--out", tmp_path / "video.gif")
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "warning: r3.npz differs from the model's training data (Box): "
        "ball radius 3 here, 2 in training"
    ]


@pytest.mark.parametrize(
    "data_world",
    [{"scene": "box", "ball_radius": 2.0}, None],  # the same world; a file that does not say
)
def test_no_warning_when_the_scenes_agree_or_the_data_does_not_say(tmp_path, data_world):
    model, data = scene_files(tmp_path, {"scene": "box", "ball_radius": 2.0}, data_world, "d")
    done = export(model, data, "--sequence", 0, "--out", tmp_path / "video.gif")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""

"""Qt-free parts of the studio: one inference request, session files, video export."""

from __future__ import annotations

import numpy as np
import pytest
from video_readback import frame_count
from window_helpers import request

from kvae_studio.document.session import (
    Session,
    SessionError,
    is_session_file,
    load_session,
    save_session,
)
from kvae_studio.services.export import ExportError, compose_frames, write_video
from kvae_studio.services.inference import sigma_ellipses
from kvae_studio.services.inference_run import run_inference
from model.masks import planning_mask

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_result_shapes_and_metrics_on_the_planning_mask(model, images):
    result = run_inference(request(model, images, planning_mask(20)))
    assert result.x_smoothed.shape == (20, 32, 32) and result.x_generated.shape == (20, 32, 32)
    assert result.a_smoothed_cov.shape == (20, 2, 2) and result.ellipses.shape[:2] == (20, 48)
    assert result.alpha.shape == (20, 3) and result.z_smoothed_std.shape == (20, 4)
    assert result.n_init == 4 and result.metrics.frames == 12
    assert not result.metrics.coincide
    for value in (result.metrics.smoothing, result.metrics.filtering, result.metrics.generation):
        assert 0.0 <= value <= 1.0
    seen = result.fully_visible_frames
    assert np.array_equal(result.x_composite[seen], (images[seen] > 0).astype(np.float32))


def test_filtering_and_smoothing_coincide_when_nothing_later_is_seen(model, images):
    visible = np.ones(20, np.float32)
    visible[6:] = 0
    result = run_inference(request(model, images, visible))
    assert result.metrics.coincide
    assert result.metrics.smoothing == pytest.approx(result.metrics.filtering, abs=1e-6)


def test_generated_equals_filtered_when_nothing_is_seen_between_the_first_frames_and_the_scored(
    model, images
):
    """Under the planning mask the filter only predicts on the hidden frames, from the
    same first frames as the roll-out: the metrics say so, and the numbers agree."""
    planning = run_inference(request(model, images, planning_mask(20)))
    assert planning.metrics.rollout and not planning.metrics.coincide
    assert planning.metrics.generation == pytest.approx(planning.metrics.filtering, abs=1e-6)
    visible = planning_mask(20).copy()
    visible[8] = 1  # a frame seen inside the hidden stretch: the filter corrects itself
    corrected = run_inference(request(model, images, visible))
    assert not corrected.metrics.rollout


def test_generation_never_starts_from_an_unseen_frame(model, images):
    visible = np.ones(20, np.float32)
    visible[0] = 0
    result = run_inference(request(model, images, visible))
    assert result.n_init == 0 and result.x_generated is None
    assert np.isnan(result.metrics.generation)


def test_a_few_painted_pixels_in_the_first_frames_leave_generation_available(model, images):
    pixels = np.ones((20, 32, 32), np.float32)
    pixels[:4, 0:3, 0:3] = 0
    result = run_inference(request(model, images, planning_mask(20), pixels))
    assert result.n_init == 4 and result.x_generated is not None
    assert np.isfinite(result.metrics.generation)


def test_painted_pixels_are_scored_and_superseded_requests_stop_early(model, images):
    pixels = np.ones((20, 32, 32), np.float32)
    pixels[10, 5:20, 5:20] = 0
    result = run_inference(request(model, images, np.ones(20), pixels))
    assert result.evaluated.tolist() == [t == 10 for t in range(20)]
    assert result.n_init == 10
    assert run_inference(request(model, images, np.ones(20)), superseded=lambda: True) is None


def test_sigma_ellipses_have_the_covariance_radii():
    cov = np.array([[[4.0, 0.0], [0.0, 1.0]]])
    outline = sigma_ellipses(np.zeros((1, 2)), cov, sigmas=2.0)
    assert np.abs(outline[0, :, 0]).max() == pytest.approx(4.0, rel=1e-3)
    assert np.abs(outline[0, :, 1]).max() == pytest.approx(2.0, rel=1e-2)


def test_session_round_trip_and_errors(tmp_path, images):
    hidden = planning_mask(20) == 0
    occluded = np.zeros((20, 32, 32), bool)
    occluded[3, 4:9, 7] = True
    session = Session(
        images,
        hidden,
        occluded,
        "/m/box.safetensors",
        {"kind": "scene", "scene": "box", "seed": 3},
        frame=7,
    )
    path = tmp_path / "a.session.npz"
    save_session(path, session)
    assert is_session_file(path)
    back = load_session(path)
    assert np.array_equal(back.images, images) and np.array_equal(back.hidden, hidden)
    assert np.array_equal(back.occluded, occluded) and back.frame == 7
    assert back.model_path == "/m/box.safetensors" and back.source["seed"] == 3
    with np.load(path, allow_pickle=False) as archive:  # readable without pickle
        assert set(archive.files) == {"images", "hidden", "occluded", "session"}

    dataset = tmp_path / "d.npz"
    np.savez(dataset, images=images[None])
    assert not is_session_file(dataset)
    with pytest.raises(SessionError, match="not a KVAE Studio session"):
        load_session(dataset)
    junk = tmp_path / "junk.session.npz"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(SessionError, match=r"junk\.session\.npz"):
        load_session(junk)


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_video_export_reads_back_with_one_frame_per_step(tmp_path, model, images, suffix):
    result = run_inference(request(model, images, planning_mask(20)))
    frames = compose_frames(result, scale=4)
    assert frames.shape[0] == 20 and frames.dtype == np.uint8 and frames.shape[-1] == 3
    path = tmp_path / f"seq{suffix}"
    write_video(path, frames, fps=8)
    assert frame_count(path) == 20


def test_video_export_refuses_unknown_formats(tmp_path):
    with pytest.raises(ExportError, match=r"\.mp4 or \.gif"):
        write_video(tmp_path / "x.avi", np.zeros((2, 8, 8, 3), np.uint8))

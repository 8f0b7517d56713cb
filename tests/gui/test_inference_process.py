"""The model's own process and the roll-out cache, without Qt: same numbers as in-process,
failures reported in one line, a killed child replaced, stale requests cut short."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
import torch
from window_helpers import request

from kvae_studio.services.inference_process import (
    CHILD_THREADS,
    InferenceProcess,
    InferenceProcessError,
)
from kvae_studio.services.inference_run import run_inference
from model.config import KVAEConfig
from model.imputation import ImputeMemo, generate
from model.kvae import KVAE
from model.masks import planning_mask

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def backend():
    process = InferenceProcess()
    yield process
    process.close()


def assert_same_result(a, b) -> None:
    for name in ("x_filtered", "x_smoothed", "x_composite", "x_generated", "a_smoothed", "alpha"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), atol=1e-6, err_msg=name)
    assert a.metrics == b.metrics


def test_a_model_travels_as_safetensors_bytes_and_computes_the_same(model, images):
    copy = KVAE.from_payload(*model.payload())
    assert copy is not model and copy.config == model.config
    for key, value in model.state_dict().items():
        assert torch.equal(copy.state_dict()[key], value), key
    req = request(model, images, planning_mask(20))
    assert_same_result(run_inference(req), run_inference(request(copy, images, req.frame_visible)))


def test_the_child_gives_what_run_inference_gives_here(backend, model, images):
    pixels = np.ones((20, 32, 32), np.float32)
    pixels[8, 4:20, 4:20] = 0
    for req in (
        request(model, images, planning_mask(20)),
        request(model, images, np.ones(20), pixels, seq=2),
    ):
        result, threads = backend.run(req)
        assert result.seq == req.seq and threads == CHILD_THREADS
        assert_same_result(result, run_inference(req))
        # what the window sent does not travel back: the result carries the request's own
        assert result.images is req.images and result.frame_visible is req.frame_visible
        assert result.pixel_visible is req.pixel_visible


def test_another_model_is_sent_before_its_first_request(backend, model, images):
    torch.manual_seed(5)
    other = KVAE(KVAEConfig()).eval()
    req = request(model, images, planning_mask(20))
    first, _ = backend.run(req)
    second, _ = backend.run(request(other, images, planning_mask(20), seq=2))
    assert not np.allclose(first.x_smoothed, second.x_smoothed)
    assert_same_result(second, run_inference(request(other, images, planning_mask(20))))


def test_a_failure_in_the_child_is_one_line_and_the_child_keeps_serving(backend, model, images):
    wrong = np.zeros((20, 16, 16), np.float32)  # the model wants 32 x 32
    with pytest.raises(InferenceProcessError) as err:
        backend.run(request(model, wrong, np.ones(20)))
    assert "\n" not in str(err.value) and str(err.value)
    pid = backend.pid
    result, _ = backend.run(request(model, images, planning_mask(20)))
    assert result is not None and backend.pid == pid


def test_a_killed_child_is_reported_and_replaced_on_the_next_request(backend, model, images):
    backend.run(request(model, images, planning_mask(20)))
    old = backend.pid
    os.kill(old, signal.SIGKILL)
    with pytest.raises(InferenceProcessError, match="inference process stopped"):
        backend.run(request(model, images, planning_mask(20), seq=2))
    result, _ = backend.run(request(model, images, planning_mask(20), seq=3))
    assert result.seq == 3 and backend.pid not in (None, old)


def test_sending_at_once_needs_a_ready_child_and_leaves_a_dead_one_to_be_reported(
    backend, model, images
):
    first = request(model, images, planning_mask(20))
    assert not backend.send_now(first), "no child yet, and none holding this model"
    backend.run(first)
    second = request(model, images, planning_mask(20), seq=2)
    assert backend.send_now(second)
    assert not backend.send_now(request(model, images, planning_mask(20), seq=3)), "busy"
    result, _ = backend.receive(second)
    assert result.seq == 2
    old = backend.pid
    os.kill(old, signal.SIGKILL)
    fourth = request(model, images, planning_mask(20), seq=4)
    with pytest.raises(InferenceProcessError, match="inference process stopped"):
        if backend.send_now(fourth):  # the kernel may still take the bytes of a dying child
            backend.receive(fourth)
        else:
            backend.run(request(model, images, planning_mask(20), seq=5))
    result, _ = backend.run(request(model, images, planning_mask(20), seq=6))
    assert result.seq == 6 and backend.pid not in (None, old)


def test_a_request_overtaken_while_it_runs_comes_back_skipped(backend, model, images):
    backend.run(request(model, images, planning_mask(20)))  # warm: the model is there
    result, _ = backend.run(request(model, images, planning_mask(20), seq=2), lambda: True)
    assert result is None


def test_a_healthy_child_is_kept_for_the_next_handle(model, images):
    first = InferenceProcess()
    first.run(request(model, images, planning_mask(20)))
    pid = first.pid
    first.close()
    second = InferenceProcess()
    try:
        second.start()
        assert second.pid == pid
        result, _ = second.run(request(model, images, planning_mask(20), seq=2))
        assert_same_result(result, run_inference(request(model, images, planning_mask(20))))
    finally:
        second.close()


def test_the_memo_reuses_a_roll_out_only_where_the_start_decides_it(model, images):
    memo = ImputeMemo()
    visible = planning_mask(20)
    first = run_inference(request(model, images, visible), memo=memo)
    later = visible.copy()
    later[17] = 1  # an edit after the first frames: same start
    again = run_inference(request(model, images, later, seq=2), memo=memo)
    assert memo.hits["rollout"] == 1
    assert_same_result(again, run_inference(request(model, images, later)))
    changed = images.copy()
    changed[1] = 1 - changed[1]  # a different start: made afresh
    fresh = run_inference(request(model, changed, visible, seq=3), memo=memo)
    assert memo.hits["rollout"] == 1
    assert not np.allclose(fresh.x_generated, first.x_generated)
    torch.manual_seed(9)
    other = KVAE(KVAEConfig()).eval()
    run_inference(request(other, images, visible, seq=4), memo=memo)
    assert memo.hits["rollout"] == 1, "another model never reuses a roll-out"
    x = torch.as_tensor(images)[None]
    g = torch.Generator().manual_seed(0)
    generate(other, x, 4, stochastic=True, generator=g, memo=memo)
    assert memo.hits["rollout"] == 1, "a stochastic roll-out is never reused"


def test_an_answer_left_behind_is_skipped_and_a_busy_child_is_never_a_spare(backend, model, images):
    backend.run(request(model, images, planning_mask(20)))  # the model is there
    child = backend._child
    # A request whose answer nobody read (its parent stopped waiting), then a new one.
    child.send(("infer", 41, images, planning_mask(20), None))
    result, _ = backend.run(request(model, images, np.ones(20), seq=42))
    assert result.seq == 42 and result.metrics.frames == 0
    child.busy = True  # as when the window closes while an answer is still out
    backend.close()
    assert not child.alive, "a child with an answer outstanding is stopped, not kept"


def test_a_model_the_child_cannot_rebuild_is_said_on_every_request_until_another(
    backend, model, images
):
    backend.run(request(model, images, planning_mask(20)))
    child = backend._child
    child.send(("model", '{"K": "three"}', b"not safetensors"))  # as if it came broken
    with pytest.raises(InferenceProcessError, match="could not be rebuilt") as err:
        backend.run(request(model, images, planning_mask(20), seq=2))
    assert "Traceback" in err.value.details and "\n" not in str(err.value)
    child.model = None  # the next request sends the model again
    result, _ = backend.run(request(model, images, planning_mask(20), seq=3))
    assert result.seq == 3 and backend.pid == child.process.pid


def test_a_model_reference_is_loaded_by_the_child_and_computes_the_same(backend, images):
    """A file or an untrained model travels as a reference (the window holds no weights):
    the child's answers equal those of the model loaded here."""
    from kvae_studio.services.model_loading import fresh_model
    from kvae_studio.services.model_ref import ModelRef, model_ref_of_file
    from kvae_studio.services.resources import shipped_models
    from model.checkpoint import load_model

    path = shipped_models()["box"]
    for ref, loaded in (
        (model_ref_of_file(path), load_model(path).eval()),
        (ModelRef(KVAEConfig(), None, 3), fresh_model(KVAEConfig(), 3)),
    ):
        assert ref.message()[0] in ("model_file", "model_fresh")
        req = request(ref, images, planning_mask(20))
        result, _ = backend.run(req)
        assert_same_result(result, run_inference(request(loaded, images, req.frame_visible)))


def test_a_reference_whose_weights_cannot_be_read_is_one_line(backend, images, tmp_path):
    from kvae_studio.services.model_ref import model_ref_of_file
    from kvae_studio.services.resources import shipped_models

    data = shipped_models()["box"].read_bytes()
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(data[: len(data) - 1000])  # the header is whole, the weights are not
    ref = model_ref_of_file(broken)
    with pytest.raises(InferenceProcessError, match="could not be rebuilt") as err:
        backend.run(request(ref, images, planning_mask(20)))
    assert "\n" not in str(err.value)

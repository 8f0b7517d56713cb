"""The model's own process and the roll-out cache, without Qt: same numbers as in-process,
failures reported in one line, a killed process replaced, overtaken requests cut short,
models sent once and then named."""

from __future__ import annotations

import dataclasses
import os
import queue
import signal
import time

import numpy as np
import pytest
import torch
from window_helpers import request

from kvae_studio.services import inference_process, work
from kvae_studio.services.inference_process import CHILD_THREADS, INFER, ModelSpecs
from kvae_studio.services.inference_run import run_inference
from model.config import KVAEConfig
from model.imputation import ImputeMemo, generate
from model.kvae import KVAE
from model.masks import planning_mask

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TIMEOUT = 120


class Failure(Exception):
    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


class Backend:
    """The model's process driven as the runner drives it, without Qt: one request at a
    time, or several submitted at once (`submit`, then `answer`)."""

    def __init__(self, process: work.WorkProcess | None = None) -> None:
        self.events: queue.Queue = queue.Queue()
        self.process = process or inference_process.take_spare() or inference_process.new_process()
        self.process.set_listener(self.events.put)
        self.specs = ModelSpecs()
        self.sent: dict[int, object] = {}
        self.endings: dict[int, work.Event] = {}

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def submit(self, req) -> int:
        spec = self.specs.spec(req.model, self.process.start().pid)
        task = self.process.submit(
            INFER, spec, req.seq, req.images, req.frame_visible, req.pixel_visible,
            channel="explore",
        )  # fmt: skip
        self.sent[task] = req
        return task

    def answer(self, task: int):
        while task not in self.endings:  # endings may come in any order: keep them all
            event = self.events.get(timeout=TIMEOUT)
            if isinstance(event, work.ENDINGS):
                self.endings[event.task] = event
        event = self.endings.pop(task)
        if isinstance(event, work.Cancelled):
            return None, 0
        if isinstance(event, work.Failed):
            raise Failure(event.message, event.details)
        result, threads = event.value
        req = self.sent[task]
        echo = {"images": req.images, "frame_visible": req.frame_visible,
                "pixel_visible": req.pixel_visible}  # fmt: skip
        return dataclasses.replace(result, **echo), threads

    def run(self, req):
        return self.answer(self.submit(req))

    def close(self) -> None:
        inference_process.give_back(self.process)


@pytest.fixture
def backend():
    process = Backend()
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
    with pytest.raises(Failure) as err:
        backend.run(request(model, wrong, np.ones(20)))
    assert "\n" not in str(err.value) and str(err.value)
    pid = backend.pid
    result, _ = backend.run(request(model, images, planning_mask(20)))
    assert result is not None and backend.pid == pid


def test_a_killed_child_is_reported_and_replaced_on_the_next_request(backend, model, images):
    backend.run(request(model, images, planning_mask(20)))
    old = backend.pid
    os.kill(old, signal.SIGKILL)
    with pytest.raises(Failure, match="inference process stopped"):
        backend.run(request(model, images, planning_mask(20), seq=2))
    result, _ = backend.run(request(model, images, planning_mask(20), seq=3))
    assert result.seq == 3 and backend.pid not in (None, old)


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
    with pytest.raises(Failure, match="could not be rebuilt") as err:
        backend.run(request(ref, images, planning_mask(20)))
    assert "\n" not in str(err.value)


def test_a_model_object_travels_once_per_process_then_by_its_token(backend, model, images):
    specs = ModelSpecs()
    first = specs.spec(model, 11)
    assert first[0] == "payload" and specs.spec(model, 11) == ("token", first[1])
    assert specs.spec(model, 12)[0] == "payload", "a new process has not seen it"
    for seq in (1, 2):  # the second request names the model by its token: same answer
        result, _ = backend.run(request(model, images, planning_mask(20), seq=seq))
        assert_same_result(result, run_inference(request(model, images, planning_mask(20))))


def test_requests_overtaken_by_a_newer_one_never_answer(backend, model, images):
    """Sent back to back on one channel: the older ones are cancelled (the running one
    after its imputation, the waiting ones before they start); only the newest answers."""
    backend.run(request(model, images, planning_mask(20)))  # warm: the model is there
    tasks = [backend.submit(request(model, images, planning_mask(20), seq=s)) for s in (2, 3, 4)]
    answers = [backend.answer(task) for task in tasks]
    assert [a[0] is None for a in answers] == [True, True, False]
    assert answers[2][0].seq == 4


def test_a_healthy_idle_process_is_kept_for_the_next_runner_and_a_busy_one_is_not(model, images):
    first = Backend()
    first.run(request(model, images, planning_mask(20)))
    pid = first.pid
    first.close()
    second = Backend(inference_process.take_spare())
    try:
        assert second.pid == pid
        result, _ = second.run(request(model, images, planning_mask(20), seq=2))
        assert_same_result(result, run_inference(request(model, images, planning_mask(20))))
        second.submit(request(model, images, planning_mask(20), seq=3))  # left open
        second.close()
        assert inference_process.take_spare() is None, "a process with a task open is stopped"
    finally:
        second.process.close()


def test_a_model_the_process_cannot_rebuild_is_one_line_and_others_still_work(
    backend, model, images
):
    backend.run(request(model, images, planning_mask(20)))
    broken = ("payload", 10_000, '{"K": "three"}', b"not safetensors")  # as if it came broken
    task = backend.process.submit(INFER, broken, 2, images, planning_mask(20), None)
    backend.sent[task] = request(model, images, planning_mask(20), seq=2)
    with pytest.raises(Failure, match="could not be rebuilt") as err:
        backend.answer(task)
    assert "Traceback" in err.value.details and "\n" not in str(err.value)
    result, _ = backend.run(request(model, images, planning_mask(20), seq=3))
    assert result.seq == 3


def test_the_model_the_studio_opens_with_is_loaded_by_the_spare_before_the_first_request(
    model, images, tmp_path
):
    """run_app hands the spare its first model while the window is built: the first
    request finds it loaded. Shown by replacing the file's weights afterwards, same size
    and time: the answer is still the first model's."""
    import os

    from kvae_studio.services.model_ref import model_ref_of_file
    from model.checkpoint import save_model

    path = tmp_path / "first.safetensors"
    save_model(model, path)
    ref = model_ref_of_file(path)
    while (spare := inference_process.take_spare()) is not None:  # start from none waiting
        spare.close()
    inference_process.start_spare()
    inference_process.preload_spare(ref)
    backend = Backend(inference_process.take_spare())
    try:
        deadline = time.monotonic() + TIMEOUT
        while not backend.process.idle:  # its warm-up and the preload done
            assert time.monotonic() < deadline, "the spare never finished its preload"
            time.sleep(0.01)
        stat = os.stat(path)
        torch.manual_seed(1)
        save_model(KVAE(model.config).eval(), path)  # other weights, same size and time
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        result, _ = backend.run(request(ref, images, planning_mask(20)))
        assert_same_result(result, run_inference(request(model, images, planning_mask(20))))
    finally:
        backend.close()

"""The inference runner on its own: newest request wins, and torch threads stay per thread."""

from __future__ import annotations

import threading

import numpy as np
import torch
from window_helpers import RESULT_TIMEOUT_MS

from kvae_studio.app.worker import INFERENCE_THREADS, InferenceRunner


def test_worker_runs_on_its_own_thread_count_and_leaves_the_default(qtbot, model):
    torch.set_num_threads(2)  # the process default, as a GUI with a training run has it
    runner = InferenceRunner()
    try:
        images = np.zeros((20, 32, 32), np.float32)
        with qtbot.waitSignal(runner.resultReady, timeout=RESULT_TIMEOUT_MS) as got:
            runner.submit(model, images, np.ones(20, np.float32), None)
        assert got.args[0].seq == runner.latest_seq
        assert runner.worker_threads == INFERENCE_THREADS
        assert torch.get_num_threads() == 2
        seen = []
        other = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
        other.start()
        other.join()
        assert seen == [2], "threads started later keep the process default"
    finally:
        runner.shutdown()


def test_a_failure_is_reported_and_the_runner_keeps_working(qtbot, model):
    runner = InferenceRunner()
    try:
        bad = np.zeros((20, 16, 16), np.float32)  # the model wants 32 x 32
        with qtbot.waitSignal(runner.failed, timeout=RESULT_TIMEOUT_MS) as failed:
            runner.submit(model, bad, np.ones(20, np.float32), None)
        assert failed.args[0] and not runner.busy
        with qtbot.waitSignal(runner.resultReady, timeout=RESULT_TIMEOUT_MS):
            runner.submit(model, np.zeros((20, 32, 32), np.float32), np.ones(20), None)
    finally:
        runner.shutdown()

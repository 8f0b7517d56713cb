"""The inference runner: newest request wins, the model runs in its own process on its own
torch threads, and a process that dies is reported and replaced."""

from __future__ import annotations

import threading

import numpy as np
import torch
from window_helpers import RESULT_TIMEOUT_MS

from kvae_studio.app.worker import INFERENCE_THREADS, InferenceRunner
from kvae_studio.services.model_ref import ModelRef


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


def test_a_killed_model_process_is_reported_and_the_next_edit_recovers(qtbot, window):
    import os
    import signal

    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from window_helpers import wait_idle

    explore = window.explore
    old = explore.runner.process_id
    assert old is not None and old != os.getpid(), "the model runs in its own process"
    os.kill(old, signal.SIGKILL)
    messages = []
    explore.statusMessage.connect(messages.append)
    strip = explore.filmstrip
    QTest.mouseClick(strip, Qt.MouseButton.LeftButton, pos=strip.thumb_rect(17).center())
    qtbot.waitUntil(lambda: not explore.busy, timeout=RESULT_TIMEOUT_MS)
    assert any("inference process stopped" in m for m in messages), messages
    assert explore.mask.hidden[17], "the edit itself is kept"
    QTest.mouseClick(strip, Qt.MouseButton.LeftButton, pos=strip.thumb_rect(18).center())
    wait_idle(qtbot, window)
    assert explore.runner.process_id not in (None, old)
    assert explore.result.frame_visible[17] == 0 and explore.result.frame_visible[18] == 0


def test_a_burst_of_edits_answers_once_with_the_newest(qtbot, model):
    """Requests sent back to back (faster than the model answers): the view hears one
    answer, the newest request's, and is busy until it comes."""
    runner = InferenceRunner()
    try:
        images, visible = np.zeros((20, 32, 32), np.float32), np.ones(20, np.float32)
        with qtbot.waitSignal(runner.resultReady, timeout=RESULT_TIMEOUT_MS):
            runner.submit(model, images, visible, None)  # warm: the model is in the process
        answers = []
        runner.resultReady.connect(answers.append)
        burst = [runner.submit(model, images, visible * (i % 2), None) for i in range(5)]
        assert runner.busy
        qtbot.waitUntil(lambda: not runner.busy, timeout=RESULT_TIMEOUT_MS)
        assert [a.seq for a in answers] == [burst[-1]]
        assert answers[0].frame_visible.sum() == 0, "the newest request's own mask"
    finally:
        runner.shutdown()


class UnsendableRef(ModelRef):
    """A model reference the pipe cannot carry (as if pickling ran out of memory)."""

    def __reduce__(self):
        raise MemoryError("no room to pickle")


def test_a_request_that_cannot_be_sent_is_a_failure_and_the_runner_keeps_working(qtbot, model):
    """An unexpected error while sending must not leave the runner waiting for an answer
    that never comes."""
    runner = InferenceRunner()
    try:
        images, visible = np.zeros((20, 32, 32), np.float32), np.ones(20, np.float32)
        unsendable = UnsendableRef(model.config)
        with qtbot.waitSignal(runner.failed, timeout=RESULT_TIMEOUT_MS) as failed:
            runner.submit(unsendable, images, visible, None)
        assert "could not be sent" in failed.args[0]
        qtbot.waitUntil(lambda: not runner.busy, timeout=RESULT_TIMEOUT_MS)
        with qtbot.waitSignal(runner.resultReady, timeout=RESULT_TIMEOUT_MS) as got:
            seq = runner.submit(model, images, visible, None)
        assert got.args[0].seq == seq
    finally:
        runner.shutdown()

"""Run the model off the GUI thread: newest request wins, stale results never reach the view.

The window's side of the model's process (`services.inference_process`): each request
is a task of the one work mechanism (`services.work`, through `app.work_bridge`), sent
from the GUI thread at once (a pipe write: the request leaves before the window draws
the edit) on the channel "explore", so that a newer request supersedes every older one:
the process abandons an overtaken request between imputation and generation, and its
answer never reaches the view. Each request has a number; `resultReady` carries only the
newest request's result, so the view never goes back to an older mask.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, Signal

from kvae_studio.app.work_bridge import WorkBridge
from kvae_studio.services import inference_process
from kvae_studio.services.inference import InferenceResult
from kvae_studio.services.inference_process import CHILD_THREADS, INFER, ModelSpecs
from kvae_studio.services.model_ref import ExploredModel

INFERENCE_THREADS = CHILD_THREADS
log = logging.getLogger(__name__)


class InferenceRunner(QObject):
    """GUI-side handle: `submit` snapshots, `resultReady` delivers only the newest result.

    `busyChanged(True)` when a request is submitted while idle, `busyChanged(False)` when
    the newest request's answer (result, failure or skip) has come back. `computed`
    carries every result the process finished, overtaken ones too (benchmarks count them).
    """

    resultReady = Signal(object)
    failed = Signal(str)
    busyChanged = Signal(bool)
    computed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._seq = 0
        self._busy = False
        self.threads = 0  # torch threads the last inference ran on (checked by tests)
        self._specs = ModelSpecs()
        spare = inference_process.take_spare()
        if spare is None:  # none waiting: start one now, its imports overlap the window's
            spare = inference_process.new_process()
        self._bridge = WorkBridge(
            name=inference_process.NAME, died=inference_process.DIED, process=spare, parent=self
        )
        app = QCoreApplication.instance()
        if app is not None:  # never leave the process behind at exit
            app.aboutToQuit.connect(self.shutdown)

    @property
    def latest_seq(self) -> int:
        return self._seq

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def worker_threads(self) -> int:
        """torch threads the model's process ran the last inference on."""
        return self.threads

    @property
    def process_id(self) -> int | None:
        """The model process's pid (None after shutdown)."""
        return self._bridge.process.pid if self._bridge.process.alive else None

    def submit(
        self,
        model: ExploredModel,
        images: np.ndarray,
        frame_visible: np.ndarray,
        pixel_visible: np.ndarray | None,
    ) -> int:
        """Snapshot the arrays (copies) and send them; returns the request's number."""
        self._seq += 1
        seq = self._seq
        sent = (
            np.array(images, dtype=np.float32, copy=True),
            np.array(frame_visible, dtype=np.float32, copy=True),
            None if pixel_visible is None else np.array(pixel_visible, copy=True),
        )
        process = self._bridge.process.start()  # a dead one is replaced here (said before)
        spec = self._specs.spec(model, process.pid)
        task = self._bridge.submit(INFER, spec, seq, *sent, channel="explore")
        task.result.connect(lambda value: self._on_done(seq, value, sent))
        task.failed.connect(lambda message: self._on_failed(seq, message, task.details))
        task.cancelled.connect(lambda: self._on_skipped(seq))
        self._set_busy(True)
        return seq

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Let the model's process go: kept as the next runner's spare if it is idle and
        healthy, else stopped."""
        process = self._bridge.hand_over()
        if process.alive:
            inference_process.give_back(process)

    def _on_done(self, seq: int, value: Any, sent: tuple) -> None:
        result, threads = value
        images, frame_visible, pixel_visible = sent
        result: InferenceResult = dataclasses.replace(
            result, images=images, frame_visible=frame_visible, pixel_visible=pixel_visible
        )  # the process leaves out what it was sent: a third of the bytes
        self.threads = threads
        self.computed.emit(result)
        if seq != self._seq:
            return  # overtaken by a newer request: drop
        self._set_busy(False)
        self.resultReady.emit(result)

    def _on_failed(self, seq: int, message: str, details: str) -> None:
        if details:
            log.error("inference %d failed in the model's process:\n%s", seq, details)
        if seq != self._seq:
            return
        self._set_busy(False)
        self.failed.emit(message)

    def _on_skipped(self, seq: int) -> None:
        if seq == self._seq:  # the newest is never overtaken, but never hang busy
            self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busyChanged.emit(busy)

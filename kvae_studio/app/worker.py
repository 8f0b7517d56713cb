"""Run the model off the GUI thread: newest request wins, stale results never reach the view.

One worker object lives in one QThread for the window's lifetime and hands each request
to the model's own process (`inference_process`), so the model computes on its own core
and interpreter while the window paints. The GUI thread `submit`s a snapshot and, when
the model's process is free, sends it at once (before the window draws the edit: handing
it to the worker thread first cost up to 2 ms of waiting for the interpreter lock while
the window drew); while a request is out, the worker keeps only the newest pending one,
so a burst of edits while the model runs costs one extra inference, not one per edit.
Each request has a sequence number; a result is passed on only if no newer request was
submitted since, so the view never goes back to an older mask. A request that a newer
one has overtaken is abandoned between imputation and generation (cooperative
cancellation: torch calls are not interrupted).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from kvae_studio.services.inference import InferenceRequest, InferenceResult
from kvae_studio.services.inference_process import CHILD_THREADS, InferenceProcess

INFERENCE_THREADS = CHILD_THREADS
log = logging.getLogger(__name__)


class _Worker(QObject):
    """Lives in the worker thread; `process` waits for the answer to the request in flight,
    or sends the newest pending one and waits for its answer."""

    done = Signal(object)  # InferenceResult
    failed = Signal(int, str)
    skipped = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._pending: InferenceRequest | None = None
        self._sent: InferenceRequest | None = None  # sent by the GUI thread, not answered
        self._in_flight = False  # a request is out (or about to go) and not answered
        self.backend = InferenceProcess()
        self.threads = 0  # torch threads the last inference ran on (checked by tests)

    def post(self, request: InferenceRequest) -> None:
        """Called on the GUI thread: send `request` at once if the model's process is
        free, else let it replace whatever was waiting."""
        with self._lock:
            if self._in_flight:
                self._pending = request
                return
            self._in_flight = True
            self._pending = None
        try:
            sent = self.backend.send_now(request)
        except Exception:  # never leave a request marked in flight: the worker retries it
            log.exception("could not send inference %d from the GUI thread", request.seq)
            sent = False
        if sent:
            with self._lock:
                self._sent = request
        else:  # not ready (starting, another model, stopped): the worker thread sends it
            with self._lock:
                self._pending, self._in_flight = request, False

    def has_pending(self) -> bool:
        with self._lock:
            return self._pending is not None

    @Slot()
    def start_backend(self) -> None:
        """Start the model's process now: its imports take a while, the window builds."""
        try:
            self.backend.start()
        except Exception:  # reported by the first request instead
            log.exception("could not start the inference process")

    @Slot()
    def process(self) -> None:
        with self._lock:
            if self._sent is not None:  # the GUI thread sent it: wait for its answer
                request, sent, self._sent = self._sent, True, None
            elif self._in_flight:
                return  # the GUI thread is sending one now; its own wake-up follows
            else:
                request, sent, self._pending = self._pending, False, None
                if request is None:
                    return  # an earlier wake-up already took it
                self._in_flight = True
        try:
            if sent:
                result, threads = self.backend.receive(request, superseded=self.has_pending)
            else:
                result, threads = self.backend.run(request, superseded=self.has_pending)
        except Exception as err:  # report, never kill the thread
            message = str(err).splitlines()[0] if str(err) else type(err).__name__
            details = getattr(err, "details", "")  # the model process's own traceback
            if details:
                log.error("inference %d failed in the model's process:\n%s", request.seq, details)
            else:
                log.exception("inference %d failed", request.seq)
            self.failed.emit(request.seq, message)
            return
        finally:
            with self._lock:
                self._in_flight = False
        if result is None:
            self.skipped.emit(request.seq)
        else:
            self.threads = threads
            self.done.emit(result)


class InferenceRunner(QObject):
    """GUI-side handle: `submit` snapshots, `resultReady` delivers only the newest result.

    `busyChanged(True)` when a request is submitted while idle, `busyChanged(False)` when
    the newest request's answer (result, failure or skip) has come back.
    """

    resultReady = Signal(object)
    failed = Signal(str)
    busyChanged = Signal(bool)
    _wake = Signal()
    _init = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._seq = 0
        self._busy = False
        self._thread = QThread()
        self._thread.setObjectName("kvae-inference")
        self._worker = _Worker()
        self._worker.moveToThread(self._thread)
        self._init.connect(self._worker.start_backend)
        self._wake.connect(self._worker.process)
        self._worker.done.connect(self._on_done)
        self._worker.failed.connect(self._on_failed)
        self._worker.skipped.connect(self._on_skipped)
        self._thread.start()
        self._init.emit()  # queued first: runs before any request
        app = QCoreApplication.instance()
        if app is not None:  # never leave a running QThread behind at exit
            app.aboutToQuit.connect(self.shutdown)

    @property
    def latest_seq(self) -> int:
        return self._seq

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def worker_threads(self) -> int:
        """torch threads the worker's last inference ran on."""
        return self._worker.threads

    def submit(
        self,
        model: Any,  # a model.kvae.KVAE, or a services.model_ref.ModelRef
        images: np.ndarray,
        frame_visible: np.ndarray,
        pixel_visible: np.ndarray | None,
    ) -> int:
        """Snapshot the arrays (copies) and queue them; returns the request's number."""
        self._seq += 1
        request = InferenceRequest(
            seq=self._seq,
            model=model,
            images=np.array(images, dtype=np.float32, copy=True),
            frame_visible=np.array(frame_visible, dtype=np.float32, copy=True),
            pixel_visible=None if pixel_visible is None else np.array(pixel_visible, copy=True),
        )
        self._worker.post(request)
        self._set_busy(True)
        self._wake.emit()
        return self._seq

    @property
    def process_id(self) -> int | None:
        """The model process's pid (None before it starts or after shutdown)."""
        return self._worker.backend.pid

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Stop the thread after the running inference (if any) finishes, then let the
        model's process go (kept as a spare for the next runner if it is healthy)."""
        if self._thread.isRunning():
            self._thread.quit()
            self._thread.wait(timeout_ms)
        self._worker.backend.close()

    @Slot(object)
    def _on_done(self, result: InferenceResult) -> None:
        if result.seq != self._seq:
            return  # overtaken by a newer request: drop
        self._set_busy(False)
        self.resultReady.emit(result)

    @Slot(int, str)
    def _on_failed(self, seq: int, message: str) -> None:
        if seq != self._seq:
            return
        self._set_busy(False)
        self.failed.emit(message)

    @Slot(int)
    def _on_skipped(self, seq: int) -> None:
        if seq == self._seq:  # cannot happen (skips are for older ones), but never hang busy
            self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busyChanged.emit(busy)

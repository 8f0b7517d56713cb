"""The model's process itself (`services.inference_process` starts it): it receives a
model, then requests, and answers each with a result, a skip or a failure.

Only this process imports torch and the model's code for Explore; the window imports
`inference_process`, which names this module without importing it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import traceback
from multiprocessing.connection import Connection

from kvae_studio.services.inference_process import (
    CHILD_THREADS,
    InferenceProcessError,
    _one_line,
)

QUIET_SECONDS = 0.05  # longer than the gaps within a stroke (16 ms at 60 Hz) or a burst


def serve(conn: Connection) -> None:
    """The child's loop: a model, then requests; one reply per request. Any message that
    arrives while a request runs (a newer request, or a cancel) makes it stop after the
    imputation with a "skipped" reply: its result would be dropped anyway."""
    import torch

    from kvae_studio.services.inference import InferenceRequest
    from kvae_studio.services.inference_run import run_inference
    from kvae_studio.services.model_loading import model_from_message
    from model.code_grid import code_grid
    from model.imputation import ImputeMemo
    from model.kvae import KVAE

    torch.set_num_threads(CHILD_THREADS)
    model, memo, model_problem = None, ImputeMemo(), "no model was sent before the request"
    while True:
        # Idle (no message for QUIET_SECONDS): tabulate the decoder until a message comes.
        # Not between the requests of a burst of edits, which would each wait for the
        # decoder call in progress (up to a few ms); a failure here is a painted frame's
        # request's to report, and the loop goes on.
        if model is not None and not conn.poll(QUIET_SECONDS):
            with contextlib.suppress(Exception):
                code_grid(model, stop=conn.poll)
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the studio has gone
            return
        if message is None:
            return
        kind = message[0]
        if kind in ("model", "model_file", "model_fresh"):
            try:
                if kind == "model":
                    model = KVAE.from_payload(*message[1:])
                else:
                    model = model_from_message(message)
                memo = ImputeMemo()
            except Exception as err:  # every request says why until another model comes
                model = None
                model_problem = f"the model could not be rebuilt for inference: {_one_line(err)}"
        elif kind == "infer":
            _, seq, images, frame_visible, pixel_visible = message
            try:
                if model is None:
                    raise InferenceProcessError(model_problem)
                request = InferenceRequest(seq, model, images, frame_visible, pixel_visible)
                result = run_inference(request, superseded=conn.poll, memo=memo)
            except Exception as err:
                conn.send(("failed", seq, _one_line(err), traceback.format_exc()))
                continue
            if result is None:
                conn.send(("skipped", seq))
            else:  # without what the window sent: it has them (a third of the bytes)
                echo = {"images": None, "frame_visible": None, "pixel_visible": None}
                conn.send(("done", dataclasses.replace(result, **echo), torch.get_num_threads()))
        # "cancel" needs no answer: its arrival is what `conn.poll` noticed

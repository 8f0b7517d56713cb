"""The paper's two videos of one sequence, as its project page shows them for every scene.

- imputation: a share of the frames after the first seen ones is dropped at random
  (30 % on the page); the model's smoothed frames, with the truth drawn over them in
  red, beside what the model was shown.
- generation: the model sees the first frames (4 on the page) and rolls its dynamics on
  for as many frames as asked, beyond the end of the file if need be; the truth in red
  over them where the file has it.

Qt-free and shared by `kvae-studio export` and the Explore view's export menu; the
model's maths is `model.imputation` and `model.masks`, the drawing is `export`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from kvae_studio import colors
from kvae_studio.services.export import LABEL, Panel, grey_rgb, tile_panels, truth_in_red

if TYPE_CHECKING:
    from model.kvae import KVAE

KINDS = ("imputation", "generation")
DROP_PROB = 0.3
RED = (255, 90, 90)


def seen_frames(model: KVAE) -> int:
    """Frames the generation starts from and the imputation always shows: the paper's 4."""
    return int(model.config.t_init_mask)


def imputation_frames(
    model: KVAE, images: np.ndarray, drop_prob: float = DROP_PROB, seed: int = 0, scale: int = 6
) -> np.ndarray:
    """uint8 RGB video frames (T, H', W', 3): shown to the model | model with truth in red."""
    import torch

    from model.checkpoint import finite_frames
    from model.imputation import impute
    from model.masks import random_mask

    images = np.asarray(images, np.float32)
    steps = images.shape[0]
    mask = random_mask(1, steps, drop_prob, t_init=min(seen_frames(model), steps), seed=seed)[0]
    result = impute(model, torch.from_numpy(images[None]), torch.from_numpy(mask[None]))
    smoothed = finite_frames(result.x_smoothed[0].cpu().numpy())
    hidden = mask == 0
    blank = np.ones(images.shape[1:], np.float32)
    shown = np.stack([colors.observed_rgb(images[t], blank * hidden[t]) for t in range(steps)])
    panels = [
        Panel(shown, [("hidden", RED) if h else ("shown to the model", LABEL) for h in hidden]),
        Panel(truth_in_red(smoothed, images), [("model, truth in red", LABEL)] * steps),
    ]
    return tile_panels(panels, scale)


def views_frames(
    model: KVAE,
    images: np.ndarray,
    views: tuple[str, ...],
    drop_prob: float = DROP_PROB,
    seed: int = 0,
    scale: int = 6,
) -> np.ndarray:
    """uint8 RGB video frames (T, H', W', 3): the imputation's dropped frames (as
    `imputation_frames` drops them), shown as the window's Export Video shows a result:
    the chosen `views` (`export.VIEWS`) side by side."""
    from kvae_studio.services.export import compose_frames
    from kvae_studio.services.inference import InferenceRequest
    from kvae_studio.services.inference_run import run_inference
    from model.masks import random_mask

    images = np.asarray(images, np.float32)
    steps = images.shape[0]
    mask = random_mask(1, steps, drop_prob, t_init=min(seen_frames(model), steps), seed=seed)[0]
    request = InferenceRequest(0, model, images, mask.astype(np.float32), None)
    result = run_inference(request)
    assert result is not None  # nothing supersedes it
    return compose_frames(result, scale, views)


def generation_frames(
    model: KVAE, images: np.ndarray, steps: int | None = None, scale: int = 6
) -> np.ndarray:
    """uint8 RGB video frames (steps, H', W', 3): truth | the model's roll-out from the first
    seen frames, with the truth in red over it while the file lasts."""
    import torch

    from model.checkpoint import finite_frames
    from model.imputation import generate

    images = np.asarray(images, np.float32)
    length, height, width = images.shape
    steps = length if steps is None else int(steps)
    n_init = min(seen_frames(model), length)
    if steps < n_init:
        raise ValueError(f"generation needs at least {n_init} steps, got {steps}")
    rollout = generate(model, torch.from_numpy(images[None, :n_init]), n_init, steps)
    generated = finite_frames(rollout.x[0].cpu().numpy())
    truth = np.zeros((steps, height, width), np.float32)
    truth[: min(length, steps)] = images[:steps]
    truth_captions = [("truth" if t < length else "past the file", LABEL) for t in range(steps)]
    model_captions = [(_generated_caption(t, n_init, length), LABEL) for t in range(steps)]
    panels = [
        Panel(grey_rgb(truth), truth_captions),
        Panel(truth_in_red(generated, truth), model_captions),
    ]
    return tile_panels(panels, scale)


def _generated_caption(t: int, n_init: int, length: int) -> str:
    if t < n_init:
        return "seen"
    return "generated, truth in red" if t < length else "generated"


def paper_video(
    model: KVAE,
    images: np.ndarray,
    kind: str,
    drop_prob: float = DROP_PROB,
    seed: int = 0,
    steps: int | None = None,
    scale: int = 6,
) -> np.ndarray:
    """The frames of the `kind` video ("imputation" or "generation") of one sequence."""
    if kind == "imputation":
        return imputation_frames(model, images, drop_prob, seed, scale)
    if kind == "generation":
        return generation_frames(model, images, steps, scale)
    raise ValueError(f"unknown video {kind!r}; choose from {', '.join(KINDS)}")


def write_paper_video(
    ctx: Any, model: Any, images: np.ndarray, kind: str, path: str,
    drop_prob: float = DROP_PROB, seed: int = 0, steps: int | None = None, fps: float = 5.0,
) -> tuple[int, str]:  # fmt: skip
    """The window's export of a paper video, as a job in a process of its own (torch
    stays out of the window): `model` is a `ModelRef` or ("payload", config, weights).
    Returns (frames written, the format)."""
    from kvae_studio.services.export import write_video
    from kvae_studio.services.model_loading import load

    if isinstance(model, tuple) and model and model[0] == "payload":
        from model.kvae import KVAE

        model = KVAE.from_payload(*model[1:])
    frames = paper_video(load(model), images, kind, drop_prob, seed, steps)
    ctx.check()
    return len(frames), write_video(path, frames, fps)

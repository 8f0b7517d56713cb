"""The frame grid's six views of one frame: truth, overlay, filtered, smoothed, composite,
generated, filled from an inference result.

Apart from the Explore view so that what each tile shows (and why a tile is empty) reads
in one place, without the view's wiring around it.
"""

from __future__ import annotations

import numpy as np

from kvae_studio import colors
from kvae_studio.app.explore.frame_grid import FrameGrid
from kvae_studio.services.inference import InferenceResult

CELLS = (  # name, title, tooltip, row, col
    ("truth", "Truth", "The true frame (the model may not have seen it)", 0, 0),
    ("overlay", "Truth / smoothed",
     "Truth in cyan, smoothed imputation in orange: white where they agree", 0, 1),
    ("filtered", "Filtered",
     "Decoded C_t μ_{t|t}: what the model believes from the frames up to t", 1, 0),
    ("smoothed", "Smoothed",
     "Decoded C_t μ_{t|T}: what the model believes from the whole sequence", 1, 1),
    ("composite", "Composite",
     "Seen pixels as they are, the smoothed imputation where hidden", 2, 0),
    ("generated", "Generated",
     "Free-running roll-out of the dynamics from the first seen frames", 2, 1),
)  # fmt: skip
MODEL_CELLS = ("overlay", "filtered", "smoothed", "composite", "generated")


def make_grid() -> FrameGrid:
    grid = FrameGrid()
    for name, title, tip, row, col in CELLS:
        grid.add(name, title, tip, row, col)
    return grid


def fill_cells(grid: FrameGrid, images: np.ndarray, result: InferenceResult | None, t: int) -> None:
    """Show frame `t` of the truth and of `result` (None, or a result of another sequence
    shape: the model's tiles stay empty until its answer comes)."""
    grid.show_frame("truth", images[t])
    if result is None or result.images.shape != images.shape:
        for name in MODEL_CELLS:
            grid.show_frame(name, None)
        return
    if result.frame_visible[t] == 0:
        suffix, colour = "not seen", colors.HIDDEN
    elif result.evaluated[t]:
        suffix, colour = "partly seen", colors.HIDDEN
    else:
        suffix, colour = "", None
    for name in ("truth", "filtered", "smoothed", "composite"):
        grid.set_title(name, suffix, colour)
    grid.show_frame("filtered", result.x_filtered[t])
    grid.show_frame("smoothed", result.x_smoothed[t])
    grid.show_frame("composite", result.x_composite[t])
    grid.show_frame("overlay", colors.overlay_rgb(images[t], result.x_smoothed[t]))
    if result.x_generated is None:
        grid.show_frame("generated", None, why_no_generation(result))
        grid.set_title("generated", "unavailable", colors.HIDDEN)
    else:
        grid.show_frame("generated", result.x_generated[t])
        start = t < result.n_init
        grid.set_title("generated", f"seen 0–{result.n_init - 1}" if start else "roll-out")


def why_no_generation(result: InferenceResult) -> str:
    """The reason a roll-out has nothing to start from: its first frame is unseen."""
    if result.frame_visible[0] == 0:
        return "Frame 0 is hidden from the model: a roll-out starts from seen frames."
    shown = 1.0 if result.pixel_visible is None else float(result.pixel_visible[0].mean())
    return (
        f"Frame 0 is {100 * (1 - shown):.0f} % painted over: a roll-out starts from "
        "frames seen (almost) whole."
    )

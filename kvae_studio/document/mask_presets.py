"""Ready-made masks: the paper's planning and random frame masks, and an occluder band.

Pure numpy, so the same presets serve the window, its tests and scripts. Frame presets
return `hidden` (T,) bool (True = the model does not see the frame); the band returns
`occluded` (T, H, W) bool (True = pixel painted over).
"""

from __future__ import annotations

import numpy as np

from model.masks import planning_mask, random_mask

ORIENTATIONS = ("vertical", "horizontal")


def planning_hidden(steps: int, seen: int, hidden: int) -> np.ndarray:
    """First `seen` frames shown, the next `hidden` hidden, the rest shown (section 8)."""
    return planning_mask(steps, max(int(seen), 0), max(int(hidden), 0)) == 0


def random_hidden(steps: int, drop_prob: float, seed: int, keep_first: int) -> np.ndarray:
    """Keep the first `keep_first` frames; hide each later one with probability `drop_prob`."""
    mask = random_mask(1, steps, float(drop_prob), t_init=max(int(keep_first), 0), seed=int(seed))
    return mask[0] == 0


def band_occlusion(
    steps: int, height: int, width: int, orientation: str, centre: float, thickness: int
) -> np.ndarray:
    """An occluder band `thickness` pixels wide centred on column (vertical) or row
    (horizontal) `centre`, through every frame: the paper's 'object behind a wall'."""
    if orientation not in ORIENTATIONS:
        raise ValueError(f"orientation must be one of {ORIENTATIONS}, not {orientation!r}")
    extent = width if orientation == "vertical" else height
    thickness = int(np.clip(thickness, 1, extent))
    lo = int(np.clip(round(centre - thickness / 2), 0, extent - thickness))
    occluded = np.zeros((steps, height, width), dtype=bool)
    if orientation == "vertical":
        occluded[:, :, lo : lo + thickness] = True
    else:
        occluded[:, lo : lo + thickness, :] = True
    return occluded


def middle_of_first_run(hidden: np.ndarray) -> int | None:
    """The middle frame of the first run of hidden frames, or None when none is hidden."""
    frames = np.flatnonzero(hidden)
    if not frames.size:
        return None
    run_end = np.flatnonzero(np.diff(frames) > 1)
    last = frames[run_end[0]] if run_end.size else frames[-1]
    return int((frames[0] + last) // 2)

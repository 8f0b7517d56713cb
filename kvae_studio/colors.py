"""The studio's palette, the one place colours are defined (Qt-free): the window's theme,
the Explore view, the panels' plots and the exported pictures all take them from here.

One meaning, one colour, everywhere: what the model was not shown is always the same
warm red; each estimate of a_t (smoothed, filtered, generated) has its own colour in the
frames, the plots, the metrics and the Evaluate sweep. Chosen to read on the dark theme
and to stay apart for colour-blind viewers (blue / orange / green / red are
distinguishable in the common deficiencies by lightness as well as hue).
"""

from __future__ import annotations

import numpy as np

# The window (theme.apply_dark_theme): frames are white on black, so the window is dark.
BACKGROUND = "#1e1f22"
PANEL = "#26282c"
BASE = "#17181a"  # behind frames and plots
TEXT = "#dcdde0"
MUTED = "#8b8f97"
DISABLED = "#5d6067"
BORDER = "#34373c"  # group boxes, frame cells, the painting canvas
ACCENT = "#4da3ff"
TRACK = "#2a2c30"  # behind a metric's bar
CURRENT = "#ffffff"  # the current frame: line over the plots, marker, brush ring
ERROR = "#ff6b6b"  # a message saying what is wrong (readable on BASE and PANEL)
WARNING = "#ffa64d"

# What the model saw and what it made of it.
HIDDEN = "#ff4d6d"  # not shown to the model (frames, painted pixels)
ENCODER = "#e8e8e8"  # what each frame alone says (a_t of the encoder)
SMOOTHED = "#4da3ff"
FILTERED = "#ffa64d"
GENERATED = "#5ad17a"
BASELINE = "#8a8a8a"
TRUTH_OVERLAY = (0.0, 0.85, 1.0)  # truth in the two-colour overlay (cyan)
MODEL_OVERLAY = (1.0, 0.35, 0.1)  # imputation in the overlay (orange); both -> white
HIDDEN_ALPHA = 0.55  # opacity of the red tint over hidden pixels

REGIMES = ("#c77dff", "#ffd166", "#06d6a0", "#ef476f", "#118ab2", "#f78c6b")
COMPONENTS = (SMOOTHED, FILTERED, GENERATED, "#ff6b9a", "#c77dff", "#ffd166")

# The panels' plots, by series name: the Hamming distances as in Explore, the training
# curves (the ELBO, its six terms, train and test) from the same family.
SERIES = {
    "smoothing": SMOOTHED,
    "filtering": FILTERED,
    "generation": GENERATED,
    "baseline": BASELINE,
    "elbo": ACCENT,
    "train": GENERATED,
    "test": COMPONENTS[3],
    "log_px": COMPONENTS[0],
    "log_qa": COMPONENTS[1],
    "transition": COMPONENTS[2],
    "emission": COMPONENTS[3],
    "initial": COMPONENTS[4],
    "entropy": COMPONENTS[5],
}


def rgb(hex_color: str) -> np.ndarray:
    """'#rrggbb' -> float32 (3,) in [0, 1]."""
    value = hex_color.lstrip("#")
    return np.array([int(value[i : i + 2], 16) for i in (0, 2, 4)], dtype=np.float32) / 255.0


def overlay_rgb(truth: np.ndarray, model: np.ndarray) -> np.ndarray:
    """Truth in cyan plus the model's frame in orange: where both agree, white. (H, W, 3)."""
    out = truth[..., None] * np.asarray(TRUTH_OVERLAY, np.float32)
    out = out + model[..., None] * np.asarray(MODEL_OVERLAY, np.float32)
    return np.clip(out, 0.0, 1.0)


def observed_rgb(frame: np.ndarray, hidden_pixels: np.ndarray) -> np.ndarray:
    """A grey frame with the pixels the model does not see tinted red. (H, W, 3)."""
    grey = np.repeat(frame[..., None], 3, axis=-1).astype(np.float32)
    tint = rgb(HIDDEN)
    mix = HIDDEN_ALPHA * hidden_pixels[..., None]
    return grey * (1.0 - mix) + tint * mix * np.maximum(grey, 0.35)

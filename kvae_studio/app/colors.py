"""The studio's colours, shared by the live views and the exported pictures (Qt-free).

One meaning, one colour, everywhere: what the model was not shown is always the same
warm red; each estimate of a_t has its own colour in the frames, the plots and the
metrics. Chosen to read on the dark theme and to stay apart for colour-blind viewers
(blue / orange / green / red are distinguishable in the common deficiencies by
lightness as well as hue).
"""

from __future__ import annotations

import numpy as np

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
COMPONENTS = ("#4da3ff", "#ffa64d", "#5ad17a", "#ff6b9a", "#c77dff", "#ffd166")


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

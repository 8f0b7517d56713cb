"""Export a sequence as a video: truth, what the model saw, and its imputation side by side.

Qt-free: it composes numpy frames from an `InferenceResult` (so the picture matches the
mask the result was computed for) and writes them with OpenCV: MP4 through
`cv2.VideoWriter` ('mp4v'), GIF through `cv2.imwriteanimation` (OpenCV >= 4.11; Pillow
is used where that is missing and Pillow is installed).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from kvae_studio.app import colors
from kvae_studio.app.inference import InferenceResult

VIDEO_SUFFIXES = (".mp4", ".gif")
HEADER = 22  # pixels of the caption band above each panel


class ExportError(OSError):
    """The video could not be written; the message is one line."""


def compose_frames(result: InferenceResult, scale: int = 6) -> np.ndarray:
    """uint8 RGB frames (T, H', W', 3): Truth | Observed | Imputed (smoothed, composite)."""
    images = result.images
    steps, height, width = images.shape
    hidden = _hidden_pixels(result)
    panels = [
        ("truth", lambda t: np.repeat(images[t][..., None], 3, axis=-1)),
        ("observed", lambda t: colors.observed_rgb(images[t], hidden[t])),
        ("imputed", lambda t: np.repeat(result.x_composite[t][..., None], 3, axis=-1)),
    ]
    gap = max(scale, 4)
    panel_w, panel_h = width * scale, height * scale
    out_w = len(panels) * panel_w + (len(panels) + 1) * gap
    out_h = _even(HEADER + panel_h + gap)
    out_w = _even(out_w)
    frames = np.full((steps, out_h, out_w, 3), 18, dtype=np.uint8)
    for t in range(steps):
        for i, (name, draw) in enumerate(panels):
            x0 = gap + i * (panel_w + gap)
            picture = np.clip(draw(t), 0.0, 1.0)
            big = np.kron(picture, np.ones((scale, scale, 1), dtype=np.float32))
            frames[t, HEADER : HEADER + panel_h, x0 : x0 + panel_w] = (big * 255).astype(np.uint8)
            label = name if not (name == "observed" and result.frame_visible[t] == 0) else "hidden"
            colour = (230, 230, 230) if label != "hidden" else _rgb255(colors.HIDDEN)
            cv2.putText(
                frames[t],
                label,
                (x0, HEADER - 7),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.45,
                colour,
                1,
                cv2.LINE_AA,
            )
        cv2.putText(
            frames[t],
            f"t={t}",
            (out_w - 48, HEADER - 7),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.4,
            (160, 160, 160),
            1,
            cv2.LINE_AA,
        )
    return frames


def write_video(path: str | os.PathLike, frames: np.ndarray, fps: float = 5.0) -> None:
    """Write RGB frames (T, H, W, 3) uint8 as .mp4 or .gif (chosen by the suffix)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise ExportError(f"{path.name}: choose a .mp4 or .gif file name")
    if len(frames) == 0:
        raise ExportError("nothing to export: the sequence has no frames")
    bgr = [np.ascontiguousarray(f[..., ::-1]) for f in frames]
    if suffix == ".mp4":
        _write_mp4(path, bgr, fps)
    else:
        _write_gif(path, bgr, frames, fps)


def _write_mp4(path: Path, bgr: list[np.ndarray], fps: float) -> None:
    height, width = bgr[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    if not writer.isOpened():
        raise ExportError(f"{path.name}: OpenCV cannot write MP4 here (no 'mp4v' encoder)")
    try:
        for frame in bgr:
            writer.write(frame)
    finally:
        writer.release()


def _write_gif(path: Path, bgr: list[np.ndarray], rgb: np.ndarray, fps: float) -> None:
    duration = max(round(1000.0 / fps), 20)
    if hasattr(cv2, "imwriteanimation"):
        animation = cv2.Animation()
        animation.frames = bgr
        animation.durations = [duration] * len(bgr)
        animation.loop_count = 0
        if cv2.imwriteanimation(str(path), animation):
            return
    try:
        from PIL import Image
    except ImportError:
        raise ExportError(f"{path.name}: this OpenCV cannot write GIF; export .mp4") from None
    pictures = [Image.fromarray(f) for f in rgb]
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=duration, loop=0)


def _hidden_pixels(result: InferenceResult) -> np.ndarray:
    hidden = np.broadcast_to((result.frame_visible == 0)[:, None, None], result.images.shape)
    if result.pixel_visible is not None:
        hidden = hidden | (result.pixel_visible == 0)
    return hidden.astype(np.float32)


def _even(n: int) -> int:
    return n + (n % 2)


def _rgb255(hex_color: str) -> tuple[int, int, int]:
    r, g, b = (int(v * 255) for v in colors.rgb(hex_color))
    return r, g, b

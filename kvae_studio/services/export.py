"""Export a sequence as a video: truth, what the model saw, and its imputation side by side.

Qt-free: it composes numpy frames from an `InferenceResult` (so the picture matches the
mask the result was computed for), or from the paper's two experiments
(`paper_videos`), and writes them. MP4 is H.264 (yuv420p, which browsers play) through
PyAV's libx264; without it, OpenCV's MPEG-4 Part 2 ('mp4v'), which desktop players read
but browsers do not, and `write_video` says so. GIF is a looping GIF89a
(`cv2.imwriteanimation`, else Pillow). Every file is written beside its target and
renamed over it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from kvae_studio import colors
from kvae_studio.services.inference import InferenceResult

VIDEO_SUFFIXES = (".mp4", ".gif")
HEADER = 22  # pixels of the caption band above each panel


class ExportError(OSError):
    """The video could not be written; the message is one line."""


@dataclass(frozen=True)
class Panel:
    """One column of a video: RGB pictures (T, H, W, 3) in [0, 1] and a caption per frame
    (text, RGB 0-255 colour)."""

    pictures: np.ndarray
    captions: Sequence[tuple[str, tuple[int, int, int]]]


LABEL = (230, 230, 230)


def compose_frames(result: InferenceResult, scale: int = 6) -> np.ndarray:
    """uint8 RGB frames (T, H', W', 3): Truth | Observed | Imputed (smoothed, composite)."""
    images = result.images
    steps = images.shape[0]
    hidden = _hidden_pixels(result)
    unseen = [result.frame_visible[t] == 0 for t in range(steps)]
    panels = [
        Panel(grey_rgb(images), [("truth", LABEL)] * steps),
        Panel(
            np.stack([colors.observed_rgb(images[t], hidden[t]) for t in range(steps)]),
            [("hidden", _rgb255(colors.HIDDEN)) if u else ("observed", LABEL) for u in unseen],
        ),
        Panel(grey_rgb(result.x_composite), [("imputed", LABEL)] * steps),
    ]
    return tile_panels(panels, scale)


def tile_panels(panels: Sequence[Panel], scale: int = 6) -> np.ndarray:
    """uint8 RGB video frames (T, H', W', 3): the panels side by side, each frame scaled up
    `scale` times with its caption above it and the frame number at the right."""
    steps, height, width = panels[0].pictures.shape[:3]
    gap = max(scale, 4)
    panel_w, panel_h = width * scale, height * scale
    out_w = _even(len(panels) * panel_w + (len(panels) + 1) * gap)
    out_h = _even(HEADER + panel_h + gap)
    frames = np.full((steps, out_h, out_w, 3), 18, dtype=np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    for t in range(steps):
        for i, panel in enumerate(panels):
            x0 = gap + i * (panel_w + gap)
            picture = np.clip(panel.pictures[t], 0.0, 1.0)
            big = np.kron(picture, np.ones((scale, scale, 1), dtype=np.float32))
            frames[t, HEADER : HEADER + panel_h, x0 : x0 + panel_w] = (big * 255).astype(np.uint8)
            text, colour = panel.captions[t]
            cv2.putText(frames[t], text, (x0, HEADER - 7), font, 0.45, colour, 1, cv2.LINE_AA)
        counter = (out_w - 48, HEADER - 7)
        cv2.putText(frames[t], f"t={t}", counter, font, 0.4, (160, 160, 160), 1, cv2.LINE_AA)
    return frames


def grey_rgb(frames: np.ndarray) -> np.ndarray:
    """(..., H, W) grey frames -> (..., H, W, 3)."""
    return np.repeat(np.asarray(frames, np.float32)[..., None], 3, axis=-1)


TRUTH_RED = (1.0, 0.1, 0.1)
TRUTH_ALPHA = 0.7


def truth_in_red(model_frames: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """The model's grey frames with the true frames drawn over them in red, as on the
    paper's project page. (T, H, W) each -> (T, H, W, 3)."""
    mix = TRUTH_ALPHA * np.clip(np.asarray(truth, np.float32), 0.0, 1.0)[..., None]
    return grey_rgb(model_frames) * (1.0 - mix) + np.asarray(TRUTH_RED, np.float32) * mix


def write_video(path: str | os.PathLike, frames: np.ndarray, fps: float = 5.0) -> str:
    """Write RGB frames (T, H, W, 3) uint8 as .mp4 or .gif (chosen by the suffix), atomically.

    Returns the format written: "GIF", "H.264", or "MPEG-4 Part 2" where no H.264
    encoder is installed (desktop players read it, browsers do not).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise ExportError(f"{path.name}: choose a .mp4 or .gif file name")
    if len(frames) == 0:
        raise ExportError("nothing to export: the sequence has no frames")
    frames = np.ascontiguousarray(frames, dtype=np.uint8)
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}{suffix}")
    try:
        if suffix == ".mp4":
            kind = _write_h264(tmp, frames, fps) if h264_available() else None
            if kind is None:
                kind = _write_mp4v(tmp, frames, fps)
        else:
            kind = _write_gif(tmp, frames, fps)
        os.replace(tmp, path)
    except OSError as err:
        raise ExportError(f"{path.name}: cannot write ({err.strerror or err})") from None
    finally:
        tmp.unlink(missing_ok=True)
    return kind


def h264_available() -> bool:
    """Whether PyAV and its libx264 encoder are installed."""
    try:
        import av
    except ImportError:
        return False
    return "libx264" in av.codecs_available


def _write_h264(path: Path, frames: np.ndarray, fps: float) -> str:
    import av

    height, width = frames.shape[1:3]
    with av.open(str(path), mode="w", format="mp4", options={"movflags": "faststart"}) as out:
        stream = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
        stream.width, stream.height = _even(width), _even(height)
        stream.pix_fmt = "yuv420p"  # the profile browsers decode
        stream.options = {"crf": "18"}  # sharp edges on the scaled-up pixels
        for frame in frames:
            picture = av.VideoFrame.from_ndarray(_pad_even(frame), format="rgb24")
            out.mux(stream.encode(picture))
        out.mux(stream.encode())
    return "H.264"


def _write_mp4v(path: Path, frames: np.ndarray, fps: float) -> str:
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    if not writer.isOpened():
        raise ExportError(f"{path.name}: no MP4 encoder here (neither PyAV's H.264 nor 'mp4v')")
    try:
        for frame in frames:
            writer.write(np.ascontiguousarray(frame[..., ::-1]))
    finally:
        writer.release()
    return "MPEG-4 Part 2"


def _write_gif(path: Path, frames: np.ndarray, fps: float) -> str:
    """OpenCV first: Pillow merges identical consecutive frames, so a still stretch of a
    sequence would lose frames (and the count would no longer match the sequence)."""
    duration = max(round(1000.0 / fps), 20)
    if hasattr(cv2, "imwriteanimation"):
        animation = cv2.Animation()
        animation.frames = [np.ascontiguousarray(f[..., ::-1]) for f in frames]
        animation.durations = [duration] * len(frames)
        animation.loop_count = 0
        if cv2.imwriteanimation(str(path), animation):
            return "GIF"
    try:
        from PIL import Image
    except ImportError:
        raise ExportError(f"{path.name}: this OpenCV cannot write GIF; export .mp4") from None
    pictures = [Image.fromarray(f) for f in frames]
    pictures[0].save(
        path, format="GIF", save_all=True, append_images=pictures[1:], duration=duration, loop=0
    )
    return "GIF"


def _pad_even(frame: np.ndarray) -> np.ndarray:
    """H.264 in yuv420p needs an even width and height."""
    h, w = frame.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return frame
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


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

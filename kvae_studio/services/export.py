"""Export a sequence as a video: truth, what the model saw, and its imputation side by side.

Qt-free: it composes numpy frames from an `InferenceResult` (so the picture matches the
mask the result was computed for), or from the paper's two experiments
(`paper_videos`), and writes them. MP4 is H.264 (yuv420p, which browsers play) through
PyAV's libx264; without it, OpenCV's MPEG-4 Part 2 ('mp4v'), which desktop players read
but browsers do not, and `write_video` says so. GIF is a looping GIF89a
(`cv2.imwriteanimation`, else Pillow). Every file is written beside its target, read back
(its frames decoded and counted, a GIF's trailer present: OpenCV reports success on a
short write to a full disk) and only then renamed over it.
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
from kvae_studio.services.video_options import DEFAULT_SCALE, DEFAULT_VIEWS, VIEWS

VIDEO_SUFFIXES = (".mp4", ".gif")
HEADER = 22  # pixels of the caption band above each panel
MAX_VIDEO_SIDE = 8192  # pixels: far past any player's screen, and H.264's usual levels


class ExportError(OSError):
    """The video could not be written; the message is one line."""


@dataclass(frozen=True)
class Panel:
    """One column of a video: RGB pictures (T, H, W, 3) in [0, 1] and a caption per frame
    (text, RGB 0-255 colour)."""

    pictures: np.ndarray
    captions: Sequence[tuple[str, tuple[int, int, int]]]


LABEL = (230, 230, 230)


def compose_frames(
    result: InferenceResult, scale: int = DEFAULT_SCALE, views: Sequence[str] = DEFAULT_VIEWS
) -> np.ndarray:
    """uint8 RGB frames (T, H', W', 3): the `views` side by side (by default Truth |
    Observed | Imputed, the smoothed frames with the visible pixels kept). ExportError
    when a view has nothing to show (no generation without first frames seen) or the
    video would be too large."""
    images = result.images
    steps = images.shape[0]
    unknown = [v for v in views if v not in VIEWS]
    if unknown or not views:
        raise ExportError(f"no view {', '.join(unknown)}; choose from {', '.join(VIEWS)}")
    if "generated" in views and result.x_generated is None:
        raise ExportError(
            "no generated frames: the model sees no first frames to start from "
            "(leave 'generated' out, or show the first frames)"
        )
    if problem := size_problem(len(views), images.shape[1:3], scale):
        raise ExportError(problem)

    def panel(view: str) -> Panel:
        if view == "truth":
            return Panel(grey_rgb(images), [("truth", LABEL)] * steps)
        if view == "observed":
            hidden = _hidden_pixels(result)
            unseen = [result.frame_visible[t] == 0 for t in range(steps)]
            return Panel(
                np.stack([colors.observed_rgb(images[t], hidden[t]) for t in range(steps)]),
                [("hidden", _rgb255(colors.HIDDEN)) if u else ("observed", LABEL) for u in unseen],
            )
        frames = {
            "filtered": result.x_filtered,
            "smoothed": result.x_smoothed,
            "imputed": result.x_composite,
            "generated": result.x_generated,
        }[view]
        return Panel(grey_rgb(frames), [(view, LABEL)] * steps)

    return tile_panels([panel(v) for v in views], scale)


def video_size(panels: int, frame: tuple[int, int], scale: int) -> tuple[int, int]:
    """(width, height) of the video `tile_panels` makes of `panels` panels of `frame`
    (height, width) pixels at `scale`."""
    height, width = frame
    gap = max(scale, 4)
    out_w = panels * width * scale + (panels + 1) * gap
    return _even(out_w), _even(HEADER + height * scale + gap)


def size_problem(panels: int, frame: tuple[int, int], scale: int) -> str | None:
    """Why a video of that many panels at that scale is refused (too large), or None."""
    width, height = video_size(panels, frame, scale)
    if max(width, height) > MAX_VIDEO_SIDE:
        return (
            f"a video of {width} x {height} pixels is too large (at most {MAX_VIDEO_SIDE}): "
            "choose a smaller scale or fewer views"
        )
    return None


def tile_panels(panels: Sequence[Panel], scale: int = 6) -> np.ndarray:
    """uint8 RGB video frames (T, H', W', 3): the panels side by side, each frame scaled up
    `scale` times with its caption above it and the frame number at the right."""
    steps, height, width = panels[0].pictures.shape[:3]
    gap = max(scale, 4)
    panel_w, panel_h = width * scale, height * scale
    out_w, out_h = video_size(len(panels), (height, width), scale)
    frames = np.full((steps, out_h, out_w, 3), 18, dtype=np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    for t in range(steps):
        for i, panel in enumerate(panels):
            x0 = gap + i * (panel_w + gap)
            picture = np.clip(panel.pictures[t], 0.0, 1.0)
            big = np.kron(picture, np.ones((scale, scale, 1), dtype=np.float32))
            frames[t, HEADER : HEADER + panel_h, x0 : x0 + panel_w] = (big * 255).astype(np.uint8)
            text, colour = panel.captions[t]
            size = _caption_size(text, panel_w)
            cv2.putText(frames[t], text, (x0, HEADER - 7), font, size, colour, 1, cv2.LINE_AA)
        counter = (out_w - 48, HEADER - 7)
        cv2.putText(frames[t], f"t={t}", counter, font, 0.4, (160, 160, 160), 1, cv2.LINE_AA)
    return frames


def _caption_size(text: str, width: int) -> float:
    """The caption's font scale: 0.45, smaller where the panel is narrower than the text
    (a small scale), so that captions do not run into the next panel."""
    size = 0.45
    while size > 0.2 and cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, size, 1)[0][0] > width:
        size -= 0.05
    return size


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
            expected = len(frames)
        else:
            kind, expected = "GIF", _write_gif(tmp, frames, fps)
        problem = written_problem(tmp, expected, frames.shape[1:3])
        if problem is not None:
            raise ExportError(f"{path.name}: not written: {problem}; is the disk full?")
        os.replace(tmp, path)
    except ExportError:
        raise
    except OSError as err:
        raise ExportError(f"{path.name}: cannot write ({err.strerror or err})") from None
    finally:
        tmp.unlink(missing_ok=True)
    return kind


def written_problem(path: Path, frames: int, size: tuple[int, int]) -> str | None:
    """What is wrong with the video just written at `path`, read back, or None: it must
    decode to `frames` frames of `size` (height, width; H.264 pads them to even), and a
    GIF must end with its trailer (a decoder shows a GIF cut short all the same)."""
    try:
        data = path.read_bytes()
    except OSError as err:
        return f"it cannot be read back ({err.strerror or err})"
    if path.suffix.lower() == ".gif" and not data.endswith(b"\x3b"):
        return "the file was cut short (no GIF trailer)"
    if path.suffix.lower() == ".mp4" and not _whole_mp4(data):
        return "the file was cut short (its MP4 boxes do not add up to it)"
    decoded = _decoded_frames(path)
    if isinstance(decoded, str):
        return f"it does not decode ({decoded})"
    count, shape = decoded
    if count != frames:
        return f"{count} of its {frames} frames decode"
    height, width = size
    if shape not in ((height, width), (_even(height), _even(width))):
        return f"its frames decode as {shape[1]}x{shape[0]}, not {width}x{height}"
    return None


def _whole_mp4(data: bytes) -> bool:
    """Whether an MP4's top-level boxes (size, type, body) add up to exactly the file, its
    index ('moov') among them: a short write loses the end of the last box."""
    offset, seen = 0, set()
    while offset < len(data):
        if offset + 8 > len(data):
            return False
        size = int.from_bytes(data[offset : offset + 4], "big")
        seen.add(data[offset + 4 : offset + 8])
        if size == 1:  # a 64-bit size follows the type
            if offset + 16 > len(data):
                return False
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        elif size == 0:  # the box runs to the end of the file
            size = len(data) - offset
        if size < 8:
            return False
        offset += size
    return offset == len(data) and b"moov" in seen


def _decoded_frames(path: Path) -> tuple[int, tuple[int, int]] | str:
    """(frames, (height, width)) decoded from a video file, or why it does not decode."""
    try:
        import av
    except ImportError:
        return _decoded_by_opencv(path)
    count, shape = 0, (0, 0)
    try:
        with av.logging.Capture(), av.open(str(path)) as container:  # errors: ours to say
            for frame in container.decode(video=0):
                count, shape = count + 1, (frame.height, frame.width)
    except (av.FFmpegError, ValueError, IndexError) as err:
        return str(err).splitlines()[0] if str(err) else type(err).__name__
    return count, shape


def _decoded_by_opencv(path: Path) -> tuple[int, tuple[int, int]] | str:
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        return "OpenCV cannot open it"
    count, shape = 0, (0, 0)
    try:
        while True:
            ok, picture = capture.read()
            if not ok:
                break
            count, shape = count + 1, picture.shape[:2]
    finally:
        capture.release()
    return count, shape


def _distinct_runs(frames: np.ndarray) -> int:
    """Frames of a GIF written by Pillow, which merges identical consecutive ones."""
    changes = np.any(frames[1:] != frames[:-1], axis=(1, 2, 3))
    return 1 + int(changes.sum())


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


def _write_gif(path: Path, frames: np.ndarray, fps: float) -> int:
    """Write a GIF; returns the number of frames it holds. OpenCV first: Pillow merges
    identical consecutive frames, so a still stretch of a sequence would lose frames (and
    the count would no longer match the sequence)."""
    duration = max(round(1000.0 / fps), 20)
    if hasattr(cv2, "imwriteanimation"):
        animation = cv2.Animation()
        animation.frames = [np.ascontiguousarray(f[..., ::-1]) for f in frames]
        animation.durations = [duration] * len(frames)
        animation.loop_count = 0
        if cv2.imwriteanimation(str(path), animation):
            return len(frames)
    try:
        from PIL import Image
    except ImportError:
        raise ExportError(f"{path.name}: this OpenCV cannot write GIF; export .mp4") from None
    pictures = [Image.fromarray(f) for f in frames]
    pictures[0].save(
        path, format="GIF", save_all=True, append_images=pictures[1:], duration=duration, loop=0
    )
    return _distinct_runs(frames)


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

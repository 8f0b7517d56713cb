"""Videos the tests read back: frames counted by OpenCV, and sizes and rate by PyAV.
Shared by the window's export tests and the command line's."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest


def read_back(path: str | Path) -> tuple[int, tuple[int, ...]]:
    """(frames, shape of the last frame), decoded by OpenCV; (0, ()) when none decodes."""
    capture = cv2.VideoCapture(str(path))
    count, shape = 0, ()
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        count, shape = count + 1, frame.shape
    capture.release()
    return count, shape


def frame_count(path: str | Path) -> int:
    """How many frames OpenCV decodes from the video at `path`."""
    return read_back(path)[0]


def decoded(path: str | Path) -> tuple[int, tuple[int, int], float]:
    """(frames, (height, width), frames per second), decoded by PyAV (skips the test
    where PyAV is not installed)."""
    av = pytest.importorskip("av")
    with av.open(str(path)) as video:
        stream = video.streams.video[0]
        rate = float(stream.average_rate or stream.guessed_rate)
        sizes = [(f.height, f.width) for f in video.decode(video=0)]
    return len(sizes), sizes[0], rate

"""Issue 26, item 4: a video is read back before it replaces its target.

OpenCV's animation writer reports success on a short write to a full disk, so a GIF
export once said "wrote" and left a truncated file. Now every video is decoded back from
its temporary file (its frames counted, a GIF's trailer present) and moved into place only
then; a short write is one line, the target untouched, no temporary file left. The
command line is run on a real full disk (a small tmpfs, root only), and the logic with
writers made to truncate their file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from small_disk import small_disk

from kvae_studio.services import export
from kvae_studio.services.export import ExportError, write_video

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "resources" / "models" / "box.safetensors"
DATA = ROOT / "resources" / "datasets" / "paper-box-test.npz"


@pytest.fixture
def frames() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.random((12, 40, 60, 3)) * 255).astype(np.uint8)


def truncating(writer):
    """`writer` as a disk that fills up would leave its file: the last bytes missing, and
    success reported all the same."""

    def write(path: Path, frames: np.ndarray, fps: float):
        result = writer(path, frames, fps)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) - 1])
        return result

    return write


@pytest.mark.parametrize(
    ("name", "writer", "encoder"),
    [
        ("clip.gif", "_write_gif", "opencv"),
        ("clip.gif", "_write_gif", "pillow"),
        ("clip.mp4", "_write_h264", "pyav"),
        ("clip.mp4", "_write_mp4v", "opencv"),
    ],
)
def test_a_short_write_is_refused_and_the_target_kept(
    tmp_path, monkeypatch, frames, name, writer, encoder
):
    if encoder == "pillow":  # as with an OpenCV that cannot write GIF
        monkeypatch.setattr(export.cv2, "imwriteanimation", lambda *args: False)
    if encoder == "pyav" and not export.h264_available():
        pytest.skip("no H.264 encoder here")
    if encoder == "opencv" and name.endswith(".mp4"):
        monkeypatch.setattr(export, "h264_available", lambda: False)
    # A whole file passes the check, a still stretch in a GIF by Pillow (which merges
    # identical consecutive frames) included.
    still = np.concatenate([frames[:6], np.repeat(frames[6:7], 6, axis=0)])
    write_video(tmp_path / f"whole{Path(name).suffix}", still)
    target = tmp_path / name
    target.write_bytes(b"the video the user had")
    before = sorted(p.name for p in tmp_path.iterdir())
    monkeypatch.setattr(export, writer, truncating(getattr(export, writer)))
    with pytest.raises(ExportError) as refused:
        write_video(target, still)
    assert "\n" not in str(refused.value) and name in str(refused.value)
    assert target.read_bytes() == b"the video the user had"
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no temporary file left


def test_export_on_a_full_disk_says_so_and_writes_nothing(tmp_path):
    """`kvae-studio export` of a 200 kB GIF into a 64 kB file system: exit 1 (a failure
    while working), one line, no file; it once said "wrote" over a 64 kB stub."""
    with small_disk(tmp_path / "disk", "64k") as disk:
        done = subprocess.run(
            [sys.executable, "-m", "kvae_studio", "export", str(MODEL), str(DATA),
             "--sequence", "3", "--out", str(disk / "box.gif")],
            capture_output=True, text=True, timeout=300,
            env=dict(os.environ, OMP_NUM_THREADS="1"),
        )  # fmt: skip
        assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "box.gif" in lines[0] and "not written" in lines[0], lines
        assert list(disk.iterdir()) == []

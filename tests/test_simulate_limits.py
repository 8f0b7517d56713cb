"""Issue 26, item 3 and its simulate items: `simulate` refuses up front, in one line, what
it cannot do, and makes a data set of large frames in bounded memory.

Each command runs in a process of its own; a child is given an address-space limit, so
that a command which holds more than it should fails there instead of on the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bad_input import assert_one_clear_line, run_many
from small_disk import small_disk

from kvae_studio.sim import FRAME_BUDGET

SMALL = ["simulate", "box", "--sequences", "2", "--steps", "2", "-q"]
GB = 2**30

# A child that runs one command under an address-space limit and reports its peak memory.
_MEASURE = """
import json, resource, subprocess, sys
limit, args = int(sys.argv[1]), json.loads(sys.argv[2])
def cap():
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
done = subprocess.run([sys.executable, "-m", "kvae_studio", *args], preexec_fn=cap,
                      capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # Linux: kB
print(json.dumps({"code": done.returncode, "stderr": done.stderr, "peak": peak}))
"""


def measured(args: list[str], cwd: Path, limit: int = 6 * GB) -> dict:
    """Exit code, stderr and peak resident memory (bytes) of `kvae-studio ARGS`."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(limit), json.dumps(args)],
        capture_output=True, text=True, timeout=600, cwd=cwd,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    ("flag", "value", "span"),
    [
        ("--inset", "40", "[1, 15]"),  # was drawn with its walls outside the frame
        ("--speed-max", "1e308", "[0, 1000]"),  # OverflowError
        ("--gravity-y", "1e308", "[-1000, 1000]"),  # OverflowError
        ("--ball-radius", "5e-324", "[0.1, 16]"),  # ZeroDivisionError
        ("--start-x", "inf", "[0, 32]"),
    ],
)
def test_scene_parameters_out_of_range_are_refused_naming_the_option_and_range(
    tmp_path, flag, value, span
):
    (result,) = run_many([[*SMALL, "--out", "x.npz", flag, value]], cwd=tmp_path)
    assert_one_clear_line(result, flag, span)
    assert list(tmp_path.iterdir()) == []


def test_an_output_that_is_a_folder_is_refused_in_one_line(tmp_path):
    (tmp_path / "out").mkdir()
    (result,) = run_many([[*SMALL, "--out", "out"]], cwd=tmp_path)
    assert_one_clear_line(result, "out", "is a folder")
    assert [p.name for p in tmp_path.rglob("*")] == ["out"]  # no temporary file left


def test_large_frames_are_drawn_in_bounded_memory(tmp_path):
    """256 sequences of 10 frames of 256 x 256 are 671 MB of frames: once drawn as one
    batch (and copied for the writer: 1.4 GB at the peak); now in chunks of at most
    FRAME_BUDGET, of which the command holds three (drawn, copied, being compressed)."""
    args = ["simulate", "box", "--sequences", "256", "--steps", "10", "--size", "256", "-q"]
    run = measured([*args, "--out", "big.npz"], tmp_path)
    assert run["code"] == 0, run["stderr"]
    bound = 3 * FRAME_BUDGET + 256 * 2**20  # the chunks, and the interpreter with numpy
    assert run["peak"] < bound, f"peak {run['peak'] / 2**20:.0f} MiB"
    print(f"peak resident memory {run['peak'] / 2**20:.0f} MiB (bound {bound / 2**20:.0f})")


def test_a_data_set_larger_than_the_disk_is_refused_before_any_work(tmp_path):
    """--sequences 100000 --size 1024 takes at least 8 GB even compressed: on a 1 MB
    file system it is refused in one line (it once drew a 21 GB first batch, and the
    kernel killed it); within a 6 GB address space, so nothing here can take the machine."""
    with small_disk(tmp_path / "disk", "1m") as disk:
        args = ["simulate", "box", "--sequences", "100000", "--size", "1024", "-q"]
        run = measured([*args, "--out", str(disk / "huge.npz")], tmp_path)
        result = {"code": run["code"], "stderr": run["stderr"]}
        assert_one_clear_line(result, "on disk", "free", "--sequences")
        assert list(disk.iterdir()) == []


def test_a_full_disk_while_writing_is_a_failure_with_one_line(tmp_path):
    """A file that fits by its least size but not in fact: exit 1 (a failure while
    working), one line, no file and no temporary file left."""
    with small_disk(tmp_path / "disk", "256k") as disk:
        args = ["simulate", "box", "--sequences", "2000", "--steps", "20", "-q"]
        run = measured([*args, "--out", str(disk / "x.npz")], tmp_path)
        assert run["code"] == 1, run["stderr"]
        lines = [line for line in run["stderr"].splitlines() if line.strip()]
        assert len(lines) == 1 and "No space left" in lines[0], run["stderr"]
        assert "Traceback" not in run["stderr"]
        assert list(disk.iterdir()) == []

"""Issue 12, class 6: leftovers of killed commands, interrupts, and sequences too short.

A killed `simulate` leaves its hidden temporary file; the next write of that file removes
it (and only temporaries whose writer is gone). SIGINT while `train` starts ends in one
line. A sequence too short for the masks is refused instead of scoring NaN. And the kill
test: SIGKILL a training mid-epoch, resume, and get the uninterrupted run's weights.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from bad_input import assert_one_clear_line, digests, kvae_studio, run_many

from model.checkpoint import save_model
from model.config import KVAEConfig
from model.data import save_sequences
from model.kvae import KVAE


def popen(*args: str, cwd: Path | None = None) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.Popen(
        [sys.executable, "-m", "kvae_studio", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
    )


def wait_for(condition, timeout: float = 120.0, what: str = "") -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.01)


def temporaries(folder: Path, name: str) -> list[Path]:
    return sorted(folder.glob(f".{name}.*.tmp"))


def test_a_killed_simulate_leaves_a_temporary_that_the_next_run_removes(tmp_path):
    busy = popen("simulate", "box", "--sequences", "200000", "-q", "--out", "box.npz", cwd=tmp_path)
    wait_for(lambda: temporaries(tmp_path, "box.npz"), what="the temporary file")
    busy.send_signal(signal.SIGKILL)
    busy.wait(timeout=30)
    left = temporaries(tmp_path, "box.npz")
    assert len(left) == 1 and not (tmp_path / "box.npz").exists()

    alive = tmp_path / f".box.npz.{os.getpid()}-0123abcd.tmp"  # a writer that still runs
    alive.write_bytes(b"in progress")
    old_idle = tmp_path / ".box.npz.a1b2c3d4.tmp"  # the old naming, untouched for an hour
    old_idle.write_bytes(b"old")
    os.utime(old_idle, (time.time() - 3600, time.time() - 3600))
    old_fresh = tmp_path / ".box.npz.e5f6a7b8.tmp"  # the old naming, written just now
    old_fresh.write_bytes(b"fresh")
    other = tmp_path / ".other.npz.1-0123abcd.tmp"  # another file's: not this run's business
    other.write_bytes(b"x")

    done = kvae_studio(
        "simulate", "box", "--sequences", "3", "-q", "--out", "box.npz", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "box.npz").is_file()
    assert temporaries(tmp_path, "box.npz") == sorted([alive, old_fresh])
    assert other.exists()


def test_a_sequence_too_short_for_the_masks_is_refused(tmp_path):
    config = KVAEConfig(frame_size=16, filters=(4, 4), alpha_units=8)
    save_model(KVAE(config), tmp_path / "m.safetensors")
    rng = np.random.default_rng(0)
    for steps in (1, 4):  # t_init_mask is 4: nothing would be hidden
        frames = (rng.random((2, steps, 16, 16)) > 0.9).astype(np.float32)
        save_sequences(tmp_path / f"t{steps}.npz", frames)
    before = digests(tmp_path)
    cases = [
        ["evaluate", "m.safetensors", "t1.npz"],
        ["evaluate", "m.safetensors", "t4.npz", "--mask", "random", "--json"],
        ["evaluate", "m.safetensors", "t1.npz", "--sweep", "s.csv"],
    ]
    for result in run_many(cases, cwd=tmp_path):
        assert_one_clear_line(result, "too short", "t_init_mask", "at least 5")
        assert result["stdout"] == ""
    assert digests(tmp_path) == before  # no sweep CSV


def test_the_evaluate_tab_refuses_short_sequences_before_sweeping(tmp_path):
    """The Evaluate tab's background work (the code behind its Run button)."""
    from kvae_studio.services.evaluation import run_sweeps

    config = KVAEConfig(frame_size=16, filters=(4, 4), alpha_units=8)
    save_model(KVAE(config), tmp_path / "m.safetensors")
    save_sequences(tmp_path / "t3.npz", np.zeros((2, 3, 16, 16), np.float32))
    progress = []

    class Context:
        cancelled = False

        def progress(self, done, total):
            progress.append(done)
            return True

        def emit(self, item):
            progress.append(item)

    models = [("a", tmp_path / "m.safetensors"), ("b", tmp_path / "m.safetensors")]
    with pytest.raises(ValueError, match=r"too short.*t_init_mask"):
        run_sweeps(Context(), models, tmp_path / "t3.npz", None, 0, "cpu")
    assert progress == []  # not one point swept

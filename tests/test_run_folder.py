"""Issue 12, class 1: a finished run is never overwritten silently; one training per folder.

`train` into a folder that holds a run is refused unless `--resume` or `--overwrite`
(which moves the old run aside, never deletes it); a second training into a folder in
use fails at once naming the first; a lock left by a killed training is taken over. The
kill test: SIGKILL a training mid-epoch, resume it, and get the uninterrupted run's
weights exactly.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from bad_input import assert_one_clear_line, digests, kvae_studio, run_many
from safetensors.numpy import load_file

from kvae_studio.sim import scene_params, simulate
from model.data import save_sequences
from model.run_folder import RunFolder

TINY = [
    *("--set", "filters=4,4", "--set", "alpha_units=8", "--set", "K=2", "--set", "dim_z=3"),
    *("--set", "batch_size=2", "--set", "kf_update_steps=1"),
    *("--device", "cpu", "--threads", "1"),
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A small box data set at 16 px, and a run of one epoch trained on it."""
    folder = tmp_path_factory.mktemp("runs")
    images, state = simulate(scene_params("box", size=16), 64, 12, seed=0)
    save_sequences(folder / "d.npz", images, state)
    done = kvae_studio("train", "d.npz", "--out", "run", "--epochs", "1", *TINY, cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder


def test_a_folder_with_a_run_is_refused_unless_resumed_or_overwritten(folder):
    before = digests(folder)
    again, both = run_many(
        [
            ["train", "d.npz", "--out", "run", "--epochs", "1", *TINY],
            ["train", "d.npz", "--out", "run", "--resume", "--overwrite", *TINY],
        ],
        cwd=folder,
    )
    assert_one_clear_line(again, "run already holds a run", "--resume", "--overwrite")
    assert_one_clear_line(both, "--resume", "--overwrite")
    assert digests(folder) == before  # log not appended to, model not replaced


def test_overwrite_moves_the_old_run_aside(folder, tmp_path):
    old = digests(folder / "run")
    done = kvae_studio(
        "train", "d.npz", "--out", "run", "--epochs", "1", "--overwrite", "--seed", "3", *TINY,
        cwd=folder,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    aside = sorted(folder.glob("run.replaced-*"))
    assert len(aside) == 1
    assert aside[0].name in done.stderr  # the user is told where the old run went
    moved = digests(aside[0])
    assert {k: v for k, v in old.items() if not k.startswith(".lock")} == moved
    assert digests(folder / "run")["model.safetensors"] != old["model.safetensors"]
    epochs = [r for r in _log(folder / "run" / "log.jsonl") if r["kind"] == "epoch"]
    assert [r["epoch"] for r in epochs] == [1]  # a fresh log, not the old one continued


def test_a_folder_in_use_is_refused_at_once_naming_the_other_process(folder):
    holder = RunFolder(folder / "run").acquire(
        resume=True, command="kvae-studio train d.npz --out run"
    )
    try:
        before = digests(folder / "run")
        started = time.monotonic()
        done = kvae_studio("train", "d.npz", "--out", "run", "--resume", *TINY, cwd=folder)
        assert time.monotonic() - started < 60
        assert_one_clear_line(done, "in use by process", str(os.getpid()), "train d.npz")
        assert digests(folder / "run") == before
    finally:
        holder.release()


def test_the_train_panel_takes_the_same_lock(folder):
    """The Train tab's session (the code behind its Start and Continue) is refused too."""
    from kvae_studio.services.training import TrainSession
    from model.config import KVAEConfig
    from model.run_folder import RunFolderError
    from model.training_options import TrainingOptions

    options = TrainingOptions(
        train_paths=(folder / "d.npz",),
        run_dir=folder / "run",
        config=KVAEConfig(frame_size=16, filters=(4, 4)),
        resume=True,
    )
    holder = RunFolder(folder / "run").acquire(
        resume=True, command="kvae-studio train d.npz --out run"
    )
    try:
        before = digests(folder / "run")
        with pytest.raises(RunFolderError, match=f"in use by process {os.getpid()}"):
            next(TrainSession(options).run())
        assert digests(folder / "run") == before
    finally:
        holder.release()


def test_killed_mid_epoch_then_resumed_equals_the_uninterrupted_run(folder):
    """SIGKILL mid-epoch (the lock and a half-epoch of log lines are left behind), a second
    training refused while the first runs, resume: the weights of the run never stopped."""
    args = ["d.npz", "--epochs", "2", "--checkpoint-every", "1", *TINY]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    straight = subprocess.Popen(
        [sys.executable, "-m", "kvae_studio", "train", *args, "--out", "straight"],
        cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    killed = subprocess.Popen(
        [sys.executable, "-m", "kvae_studio", "train", *args, "--out", "killed"],
        cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    log = folder / "killed" / "log.jsonl"
    _wait(lambda: any(r.get("epoch") == 2 and r["kind"] == "step" for r in _log(log)))
    # Held mid-epoch at once: the refused second training takes a second or two to
    # start, and a fast run (bf16) could finish its epoch meanwhile.
    killed.send_signal(signal.SIGSTOP)
    second = kvae_studio("train", *args, "--out", "killed", "--resume", cwd=folder)
    assert_one_clear_line(second, "in use by process", str(killed.pid))
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=60)
    last = _log(log)[-1]
    assert last["kind"] == "step" and last["epoch"] == 2 and last["batch"] < last["batches"]

    resumed = kvae_studio("train", *args, "--out", "killed", "--resume", cwd=folder)
    assert resumed.returncode == 0, resumed.stderr
    assert f"process {killed.pid}" in resumed.stderr  # the stale lock was taken over
    assert straight.wait(timeout=300) == 0, straight.stderr.read()
    a = load_file(folder / "straight" / "model.safetensors")
    b = load_file(folder / "killed" / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    # The killed epoch's steps were trained again: the log holds each step once.
    steps = [r["step"] for r in _log(log) if r["kind"] == "step"]
    assert steps == [
        r["step"] for r in _log(folder / "straight" / "log.jsonl") if r["kind"] == "step"
    ]
    assert steps == list(range(1, len(steps) + 1))


def _log(path: Path) -> list[dict]:
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return []
    records = []
    for line in lines:
        with contextlib.suppress(ValueError):  # a line being written
            records.append(json.loads(line))
    return records


def _wait(condition, timeout: float = 240.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)

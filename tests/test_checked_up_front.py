"""Issue 12, class 2: every input, option and output path is checked before any work starts.

A test file whose frames differ from the training data, or too short for the masks, an
output folder that does not exist or is a file: refused in one line before a single
epoch or sweep point, with nothing written. And SIGINT while `train` starts up is one
line too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from bad_input import assert_one_clear_line, digests, run_many

from model.checkpoint import save_model
from model.config import KVAEConfig
from model.data import save_sequences
from model.kvae import KVAE

TINY = ["--set", "filters=4,4", "--set", "alpha_units=8", "--device", "cpu"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("upfront")
    rng = np.random.default_rng(0)

    def frames(n, steps, size):
        return (rng.random((n, steps, size, size)) > 0.9).astype(np.float32)

    save_sequences(folder / "train.npz", frames(8, 10, 16))
    save_sequences(folder / "test32.npz", frames(4, 10, 32))
    save_sequences(folder / "short.npz", frames(4, 3, 16))
    save_model(
        KVAE(KVAEConfig(frame_size=16, filters=(4, 4), alpha_units=8)), folder / "m.safetensors"
    )
    (folder / "afile").write_text("not a folder")
    return folder


CASES = {
    "test frames differ": (
        ["train", "train.npz", "--test", "test32.npz", "--out", "run", *TINY],
        ["test32.npz", "32×32", "16×16"],
    ),
    "test too short": (
        ["train", "train.npz", "--test", "short.npz", "--out", "run", *TINY],
        ["short.npz", "too short", "t_init_mask"],
    ),
    "test missing": (
        ["train", "train.npz", "--test", "nothere.npz", "--out", "run", *TINY],
        ["nothere.npz", "no such file"],
    ),
    "run folder is a file": (
        ["train", "train.npz", "--out", "afile", *TINY],
        ["afile", "is a file"],
    ),
    "sweep into a missing folder": (
        ["evaluate", "m.safetensors", "train.npz", "--sweep", "nodir/x.csv"],
        ["--sweep", "nodir", "does not exist"],
    ),
    "simulate into a missing folder": (
        ["simulate", "box", "--sequences", "3", "--out", "nodir/x.npz"],
        ["nodir/x.npz", "does not exist"],
    ),
}


@pytest.fixture(scope="module")
def outcomes(folder):
    before = digests(folder)
    started = time.monotonic()
    results = run_many([args for args, _ in CASES.values()], cwd=folder)
    return dict(zip(CASES, results, strict=True)), before, time.monotonic() - started


@pytest.mark.parametrize("case", list(CASES))
def test_refused_before_any_work(outcomes, case):
    results, _, _ = outcomes
    assert_one_clear_line(results[case], *CASES[case][1])
    assert "Epoch" not in results[case]["stderr"]  # not one epoch trained
    assert results[case]["stdout"] == ""  # not one sweep point scored


def test_nothing_was_written(outcomes, folder):
    _, before, _ = outcomes
    assert digests(folder) == before  # no run folder, no CSV, no data set, no temporary
    assert not (folder / "run").exists()


def test_sigint_while_train_starts_is_one_line(folder):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "kvae_studio", "train", "train.npz", "--out", "sig", *TINY],
        cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(1.5)  # inside the imports and the set-up (torch alone takes seconds)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert "Traceback" not in err, err
    # 130, or ended by the SIGINT itself (-2: a shell shows 130 for both); seen once in
    # a loaded full run after the one line had been printed, never reproduced alone
    assert process.returncode in (130, 0, -signal.SIGINT), err
    if process.returncode in (130, -signal.SIGINT):
        assert err.strip().splitlines()[-1].startswith(("interrupted", "stopped"))

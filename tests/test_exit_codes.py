"""Issue 26: one rule for exit codes across simulate, info, train, evaluate and export.

2: the command line or its input is refused (a bad option value, a file that cannot be
used), one line on stderr, no traceback, nothing written. 1: a failure while working (a
full disk, a training that cannot take a step), one error line. The refused cases run as
real command lines in one interpreter (bad_input.run_many); the failures in processes of
their own.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from bad_input import assert_one_clear_line, digests, kvae_studio, run_many
from small_disk import small_disk

from kvae_studio.sim import scene_params, simulate
from model.checkpoint import save_model
from model.config import KVAEConfig
from model.data import save_sequences
from model.kvae import KVAE

TINY = KVAEConfig(frame_size=16, filters=(4, 4), alpha_units=8, batch_size=4)
CPU = ["--device", "cpu", "--threads", "1"]
SMALL = ["--sequences", "2", "--steps", "2", "-q"]

# (command line, words its one line must hold)
REFUSED = {
    "simulate: no such folder": (
        ["simulate", "box", *SMALL, "--out", "nowhere/x.npz"],
        ["nowhere", "does not exist"],
    ),
    "simulate: a scene value": (
        ["simulate", "box", *SMALL, "--out", "x.npz", "--gravity-y", "1e308"],
        ["--gravity-y"],
    ),
    "info: a truncated model": (["info", "truncated.safetensors"], ["truncated"]),
    "info: NaN beside float64 overflow": (["info", "f64.npz"], ["1 NaN or infinite value"]),
    "info: float64 overflow": (["info", "big.npz"], ["3 values beyond float32's range"]),
    "train: --init-from a file that is no model": (
        ["train", "d.npz", "--out", "r1", "--init-from", "junk.safetensors", *CPU],
        ["junk.safetensors"],
    ),
    "train: --init-from a model of other frames": (
        ["train", "d.npz", "--out", "r2", "--init-from", "m32.safetensors", *CPU],
        ["model expects"],
    ),
    "train: data that overflows": (["train", "big.npz", "--out", "r3", *CPU], ["big.npz"]),
    "train: --init-from an all-zero model (no covariance the filter can use)": (
        ["train", "d.npz", "--out", "r5", "--init-from", "zero.safetensors", *CPU],
        ["zero.safetensors", "not positive definite"],
    ),
    "train: nothing to resume": (
        ["train", "d.npz", "--out", "r4", "--resume", *CPU],
        ["nothing to resume"],
    ),
    "evaluate: a truncated model": (["evaluate", "truncated.safetensors", "d.npz"], ["trunc"]),
    "evaluate: data that overflows": (["evaluate", "m.safetensors", "big.npz"], ["big.npz"]),
    "export: no such sequence": (
        ["export", "m.safetensors", "d.npz", "--sequence", "99", "--out", "v.gif"],
        ["--sequence 99"],
    ),
    "export: a truncated model": (
        ["export", "truncated.safetensors", "d.npz", "--sequence", "0", "--out", "v.gif"],
        ["truncated"],
    ),
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("codes")
    images, state = simulate(scene_params("box", size=16), 8, 6, seed=0)
    save_sequences(folder / "d.npz", images, state)
    torch.manual_seed(0)
    save_model(KVAE(TINY), folder / "m.safetensors")
    save_model(KVAE(KVAEConfig(alpha_units=8)), folder / "m32.safetensors")
    data = (folder / "m.safetensors").read_bytes()
    (folder / "truncated.safetensors").write_bytes(data[: len(data) - 1000])
    (folder / "junk.safetensors").write_bytes(b"not a model at all")
    overflow = np.zeros((2, 6, 16, 16))
    overflow[0, 0, 0, :3] = 1e300
    np.savez(folder / "big.npz", images=overflow)
    overflow[1, 0, 0, 0] = np.nan
    np.savez(folder / "f64.npz", images=overflow)
    zero, huge = KVAE(TINY), KVAE(TINY)
    with torch.no_grad():
        for tensor in zero.state_dict().values():
            tensor.zero_()
        for tensor in huge.state_dict().values():
            tensor.mul_(1e30)  # finite, the covariances still positive definite
    save_model(zero, folder / "zero.safetensors")
    save_model(huge, folder / "huge.safetensors")
    return folder


def test_refused_input_is_exit_2_and_one_line(folder):
    before = digests(folder)
    results = run_many([args for args, _ in REFUSED.values()], cwd=folder)
    failures = []
    for (case, (_, words)), result in zip(REFUSED.items(), results, strict=True):
        try:
            assert_one_clear_line(result, *words)
        except AssertionError as err:
            failures.append(f"{case}: {err}")
    assert not failures, "\n".join(failures)
    assert digests(folder) == before  # nothing written, nothing left behind


def test_a_training_that_can_take_no_step_fails_with_exit_1(folder):
    """--init-from a model whose every step is skipped (huge weights: the ELBO is NaN)
    once said "completed" with exit 0. (All-zero weights, the first such case, are now
    refused before any work: their covariances cannot be factorised.)"""
    done = kvae_studio(
        "train", "d.npz", "--out", "huge-run", "--init-from", "huge.safetensors",
        "--epochs", "2", *CPU, cwd=folder,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "completed" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "no step of epoch 1 could be taken" in errors[0], done.stderr


def one_error_line(done: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def test_a_sweep_that_cannot_be_written_is_exit_1(folder, tmp_path):
    """The sweeps ran, the disk is full: a failure while working (it was exit 2)."""
    with small_disk(tmp_path / "disk", "4k") as disk:
        (disk / "filler").write_bytes(bytes(4096))
        done = kvae_studio(
            "evaluate", "m.safetensors", "d.npz", "--sequences", "4",
            "--sweep", str(disk / "sweep.csv"), cwd=folder,
        )  # fmt: skip
        assert done.returncode == 1, done.stderr
        assert "No space left" in one_error_line(done)
        assert done.stderr.strip().count("\n") == 0
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]


def test_a_training_whose_disk_fills_up_is_exit_1(folder, tmp_path):
    """Its checkpoint cannot be written: one line, no traceback (an OSError escaped)."""
    with small_disk(tmp_path / "disk", "40k") as disk:
        done = kvae_studio(
            "train", "d.npz", "--out", str(disk / "run"), "--epochs", "3", *CPU, cwd=folder
        )
        assert done.returncode == 1, done.stderr
        assert "No space left" in one_error_line(done)

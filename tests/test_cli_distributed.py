"""`kvae-studio train` on several processes, launched as a user launches it: torchrun
itself, then `evaluate` on what it wrote; and a killed process that must end the job.

Tiny model, 32 sequences of 8 frames, one epoch: the point is the launch's contract
(rank 0 alone prints and writes, world_size recorded, a clear end), not the model.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bad_input import kvae_studio_ok

from model.model_file import read_summary

TINY = [
    "--set", "batch_size=16", "--set", "dim_z=3", "--set", "K=2", "--set", "alpha_units=8",
    "--set", "filters=4,4", "--device", "cpu",
]  # fmt: skip
ENV = dict(os.environ, OMP_NUM_THREADS="1")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dist")
    for name, seed in (("train", 1), ("test", 2)):
        kvae_studio_ok(
            "simulate", "box", "--sequences", "32", "--steps", "8", "--seed", str(seed),
            "--out", str(folder / f"{name}.npz"), "-q",
        )  # fmt: skip
    return folder


def test_torchrun_trains_a_model_that_evaluate_scores(data, tmp_path):
    run = tmp_path / "run"
    result = subprocess.run(
        [
            sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
            "-m", "kvae_studio", "train", str(data / "train.npz"), "--test",
            str(data / "test.npz"), "--out", str(run), "--epochs", "1", *TINY,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=ENV,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert ", 2 processes: 32 sequences" in result.stderr
    assert result.stderr.count("Epoch 1/1") == 1  # rank 0 alone prints
    assert {p.name for p in run.iterdir()} >= {
        "model.safetensors",
        "resume.safetensors",
        "log.jsonl",
    }
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["kind"] for r in log] == ["step", "step", "epoch"]  # written once
    assert log[-1]["world_size"] == 2 and log[-1]["hamming"]
    assert read_summary(run / "model.safetensors")["world_size"] == 2

    scored = kvae_studio_ok(
        "evaluate", str(run / "model.safetensors"), str(data / "test.npz"), "--json"
    )
    figures = json.loads(scored.stdout)
    assert 0 <= figures["hamming"]["smoothing"] <= 1, figures


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_killed_process_ends_the_job_with_a_message_from_rank_0(data, tmp_path):
    """Rank 1 is killed mid-run; rank 0 must not hang: it says so and exits, well
    within the collectives' timeout."""
    timeout = 60
    port, run = free_port(), tmp_path / "run"
    procs = []
    for rank in range(2):
        env = dict(
            ENV, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2",
            MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
        )  # fmt: skip
        procs.append(
            subprocess.Popen(
                [
                    sys.executable, "-m", "kvae_studio", "train", str(data / "train.npz"),
                    "--out", str(run), "--epochs", "1000", "--dist-timeout", str(timeout), *TINY,
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        )  # fmt: skip
    try:
        end = time.monotonic() + 240
        while not (run / "log.jsonl").exists():  # a first step went through
            assert time.monotonic() < end and procs[0].poll() is None, "no step was made"
            time.sleep(0.2)
        procs[1].send_signal(signal.SIGKILL)
        killed = time.monotonic()
        _, stderr = procs[0].communicate(timeout=timeout + 60)
        waited = time.monotonic() - killed
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert procs[0].returncode == 1, stderr
    assert "error: another process of the job died or stopped answering" in stderr, stderr
    assert stderr.count("error:") == 1 and "Traceback" not in stderr, stderr
    assert waited < timeout, f"rank 0 waited {waited:.0f} s"

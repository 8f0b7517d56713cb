"""Data-parallel training (model.distributed): N processes train as one process would.

Each test starts two processes of tests/model/distributed_worker.py on 127.0.0.1 (gloo,
one thread each) and compares them with a Trainer in this process: tiny models, a few
sequences of 6 frames, so each launch costs a few seconds of CPU, mostly importing torch.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from kvae_reference import box_data, poison
from safetensors.torch import load_file
from trainer_options import cpu_fp32

from model.config import KVAEConfig
from model.distributed import Processes
from model.model_file import read_summary
from model.training import Trainer, TrainingError

WORKER = Path(__file__).with_name("distributed_worker.py")
SMALL = dict(frame_size=16, filters=(4, 4), alpha_units=8, batch_size=4, kf_update_steps=1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(tmp_path: Path, world: int = 2, **spec) -> list[dict]:
    """Run the worker in `world` processes; each rank's weights and steps."""
    results = tmp_path / f"results-{free_port()}"
    results.mkdir()
    spec_file = results / "spec.json"
    spec_file.write_text(json.dumps({**spec, "results": str(results)}))
    port = free_port()
    procs = []
    for rank in range(world):
        env = dict(
            os.environ,
            RANK=str(rank),
            LOCAL_RANK=str(rank),
            WORLD_SIZE=str(world),
            MASTER_ADDR="127.0.0.1",
            MASTER_PORT=str(port),
            OMP_NUM_THREADS="1",
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, str(WORKER), str(spec_file)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    outputs = [p.communicate(timeout=240)[0] for p in procs]
    for rank, (p, output) in enumerate(zip(procs, outputs, strict=True)):
        assert p.returncode == 0, f"rank {rank} failed:\n{output}"
    return [
        {
            "state": load_file(str(results / f"state-{rank}.safetensors")),
            "steps": json.loads((results / f"steps-{rank}.json").read_text()),
        }
        for rank in range(world)
    ]


def images(n: int) -> np.ndarray:
    return box_data(n, seed=3)[0][:, :6]  # as the worker makes them


def assert_same_weights(state: dict, reference: dict, tol: float) -> None:
    assert set(state) == set(reference)
    for name, value in reference.items():
        torch.testing.assert_close(state[name], value.cpu(), rtol=tol, atol=tol, msg=name)


def elbos(steps: list[dict]) -> list[float]:
    return [s["elbo"] for s in steps]


# ----------------------------------------------------------------------------- shares
def test_each_process_takes_a_contiguous_share_of_the_global_batch():
    shares = [Processes(rank, 3).share(32) for rank in range(3)]
    assert shares == [slice(0, 11), slice(11, 22), slice(22, 32)]
    assert Processes().share(32) == slice(0, 32)


def test_a_batch_smaller_than_the_world_is_refused():
    with pytest.raises(TrainingError, match="batch of 4 sequences cannot be shared by 5"):
        Trainer(images(8), options=cpu_fp32(config=KVAEConfig(**SMALL)), processes=Processes(0, 5))


# ----------------------------------------------------------------------------- equivalence
def test_two_processes_take_the_one_process_step_and_only_rank_0_writes(tmp_path):
    """A global batch of 32 split 16 + 16, with frames missing at random (the processes'
    shares of the observed frames differ): after one step, the one-process weights."""
    config = {**SMALL, "batch_size": 32, "train_miss_prob": 0.3}
    ranks = launch(tmp_path, n=32, config=config, steps=1, out=str(tmp_path / "run-{rank}"))
    one = Trainer(images(32), options=cpu_fp32(config=KVAEConfig(**config)))
    next(one.run())
    assert_same_weights(ranks[0]["state"], one.model.state_dict(), 1e-5)
    assert_same_weights(ranks[1]["state"], ranks[0]["state"], 0.0)
    assert ranks[0]["steps"] == ranks[1]["steps"]
    # Rank 0 wrote its folder when stopped; rank 1 wrote nothing at all.
    assert {p.name for p in (tmp_path / "run-0").iterdir()} == {
        "model.safetensors",
        "resume.safetensors",
        "log.jsonl",
    }
    assert not (tmp_path / "run-1").exists()


def test_a_run_resumed_on_two_processes_then_on_one_logs_the_one_process_losses(tmp_path):
    """Epoch 1 in one process, epochs 2-3 in two (a phase change, so DDP is rebuilt;
    batches of 7 shared 4 + 3; a NaN on rank 1 alone at step 5, which every rank skips),
    epoch 4 in one again: the losses and weights of one process running straight."""
    config = {**SMALL, "batch_size": 7, "only_vae_epochs": 1, "num_epochs": 4}
    config["train_miss_prob"] = 0.3
    one = Trainer(images(14), options=cpu_fp32(config=KVAEConfig(**config)))
    poison(one, {4})
    straight = [e for e in one.run() if e.kind == "step"]
    assert [e.phase for e in straight] == ["vae"] * 2 + ["vae+lgssm"] * 2 + ["all"] * 4
    assert [e.skipped for e in straight] == [False] * 4 + [True] + [False] * 3

    run = tmp_path / "run"
    first = Trainer(
        images(14), options=cpu_fp32(config=KVAEConfig(**config), run_dir=run, epochs=1)
    )
    losses = [e.terms["elbo"] for e in first.run() if e.kind == "step"]
    ranks = launch(
        tmp_path, n=14, resume=True, epochs=3, out=str(run), poison={"rank": 1, "calls": [2]}
    )
    assert [s["skipped"] for s in ranks[0]["steps"]] == [False, False, True, False]
    assert ranks[1]["steps"] == ranks[0]["steps"]
    assert_same_weights(ranks[1]["state"], ranks[0]["state"], 0.0)
    losses += elbos(ranks[0]["steps"])
    logged = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["kind"] for r in logged].count("step") == 6  # 2 + 4, each written once
    assert [r["world_size"] for r in logged if r["kind"] == "epoch"] == [1, 2, 2]

    assert read_summary(run / "model.safetensors")["world_size"] == 2
    last = Trainer(images(14), options=cpu_fp32(run_dir=run, resume=True, epochs=4))
    losses += [e.terms["elbo"] for e in last.run() if e.kind == "step"]
    np.testing.assert_allclose(losses, [e.terms["elbo"] for e in straight], rtol=1e-4)
    assert_same_weights(last.model.state_dict(), one.model.state_dict(), 1e-4)

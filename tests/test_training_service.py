"""The training service (kvae_studio.services.training) speaks alike for both front ends.

A run that meets a singular matrix outside a training step ends with one TrainingError
message, from `kvae-studio train` and from the Train panel's session alike; the command
line records its run in studio.json as the panel does. Tiny inputs, no training: the
Trainer's loop is replaced by one that fails at once.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from kvae_studio import cli
from kvae_studio.services.run_records import read_studio_file
from kvae_studio.services.training import TrainSession
from model.config import KVAEConfig
from model.data import save_sequences
from model.run_folder import STUDIO_FILE
from model.training import Trainer, TrainingError
from model.training_options import TrainingOptions

TINY = ["--set", "batch_size=4", "--set", "dim_z=3", "--set", "K=2", "--set", "alpha_units=8"]


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("a.npz", "b.npz"):
        save_sequences(tmp_path / name, (rng.random((4, 10, 16, 16)) > 0.9).astype(np.float32))
    return tmp_path


@pytest.fixture
def singular(monkeypatch):
    def run(self):
        yield from ()
        torch.linalg.cholesky(-torch.eye(2))  # raises torch.linalg.LinAlgError

    monkeypatch.setattr(Trainer, "run", run)


def test_a_singular_matrix_is_one_message_from_both_front_ends(data, singular, capsys):
    code = cli.main(["train", str(data / "a.npz"), "--out", str(data / "cli"), *TINY])
    err = capsys.readouterr().err.strip().splitlines()[-1]  # after "training on cpu: ..."
    assert code == 1
    assert err.startswith("error: training diverged at step 1 (epoch 1)"), err
    assert "singular matrix" in err and "init_lr" in err

    options = TrainingOptions(
        train_paths=(data / "a.npz",),
        run_dir=data / "panel",
        config=KVAEConfig(frame_size=16, batch_size=4, dim_z=3, K=2, alpha_units=8),
    )
    with pytest.raises(TrainingError) as raised:
        list(TrainSession(options).run())
    assert str(raised.value) == err.removeprefix("error: ")


def test_the_command_line_records_its_run_in_studio_json(data, singular, capsys):
    files = [str(data / "a.npz"), str(data / "b.npz")]
    cli.main(["train", *files, "--out", str(data / "run"), "--seed", "7", *TINY])
    record = read_studio_file(data / "run")
    assert record == json.loads((data / "run" / STUDIO_FILE).read_text())
    assert record["train_files"] == files and record["train"] is None  # joined: no one file
    assert record["seed"] == 7 and record["test"] is None

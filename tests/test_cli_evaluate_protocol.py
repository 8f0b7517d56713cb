"""`kvae-studio evaluate --protocol paper|studio`, run as a user runs it (subprocesses).

A tiny untrained model on 40 small sequences: the point is the command's contract (the
protocol recorded in the JSON and the CSV, checks before any work), not the figures.
"""

from __future__ import annotations

import csv
import functools
import json

import pytest
import torch
from bad_input import kvae_studio

from kvae_studio import cli
from kvae_studio.sim.scenes import scene_params
from kvae_studio.sim.simulate import simulate
from model.checkpoint import save_model
from model.config import KVAEConfig
from model.data import save_sequences
from model.kvae import KVAE

evaluate = functools.partial(
    kvae_studio, "evaluate"
)  # `kvae-studio evaluate ...`, run as a user does


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("protocol")
    torch.manual_seed(0)
    config = KVAEConfig(frame_size=16, filters=(8, 8), alpha_units=8, t_init_mask=3, t_steps_mask=4)
    save_model(KVAE(config), folder / "tiny.safetensors")
    params = scene_params("box", size=16, ball_radius=5.0)
    for name, n in (("forty.npz", 40), ("few.npz", 20)):
        images, state = simulate(params, n, 10, seed=1)
        save_sequences(folder / name, images, state)
    return folder


def test_paper_protocol_json_and_sweep_csv(files):
    out = files / "sweep.csv"
    args = [str(files / "tiny.safetensors"), str(files / "forty.npz")]
    result = evaluate(*args, "--protocol", "paper", "--mask", "random", "--json",
                         "--sweep", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["protocol"] == "paper"
    assert figures["sequences"] == 32  # one whole batch of 32; the other 8 dropped
    assert figures["mask"] == {"kind": "random", "drop_prob": 0.5}
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["model", "protocol", "kind", "x", "smoothing", "filtering",
                             "generation", "baseline"]  # fmt: skip
    assert {(r["model"], r["protocol"]) for r in rows} == {("tiny.safetensors", "paper")}
    assert [r["x"] for r in rows if r["kind"] == "planning"] == ["1", "3", "5", "7"]


def test_studio_protocol_is_the_default(files, capsys):
    args = [str(files / "tiny.safetensors"), str(files / "forty.npz"), "--json"]
    assert cli.main(["evaluate", *args]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["protocol"] == "studio" and figures["sequences"] == 40


def test_bad_options_fail_before_any_work(files, capsys):
    """One clear line each, nothing written (in-process: the subprocess runs above already
    prove the command line's wiring)."""
    model = str(files / "tiny.safetensors")
    out = files / "none.csv"
    assert cli.main(["evaluate", model, str(files / "few.npz"), "--protocol", "paper",
                     "--sweep", str(out)]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "batches of 32" in err and "20" in err and err.count("\n") == 1
    assert not out.exists()
    deep = str(files / "no" / "such" / "s.csv")
    assert cli.main(["evaluate", model, str(files / "forty.npz"), "--sweep", deep]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert exit_code(["evaluate", model, str(files / "forty.npz"), "--drop-prob", "1.5"]) == 2
    assert "drop-prob" in capsys.readouterr().err
    assert exit_code(["evaluate", model, str(files / "forty.npz"), "--protocol", "tf"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def exit_code(argv: list[str]) -> int:
    """The command's exit status, whether it returns it or argparse exits with it."""
    try:
        return cli.main(argv)
    except SystemExit as stop:
        return int(stop.code)

"""`kvae-studio train` and `evaluate`, run as a user runs them: simulate, train, evaluate.

The pipeline runs once in real subprocesses (module scope); the other tests reuse its run
folder. A tiny model keeps it to seconds: the point is the commands' contract (files
written, JSON printed, resume, errors), not the model's quality.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from bad_input import kvae_studio_ok

from kvae_studio import cli

ORIGINAL_BOX = Path(__file__).resolve().parent / "data" / "original-box.npz"
TINY = ["--set", "batch_size=16", "--set", "dim_z=3", "--set", "K=2", "--set", "alpha_units=8"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """simulate two small sets (one with the legacy physics), train one epoch on both."""
    folder = tmp_path_factory.mktemp("cli")
    kvae_studio_ok(
        "simulate", "box", "--sequences", "40", "--seed", "1", "--out", str(folder / "a.npz")
    )
    kvae_studio_ok(
        "simulate", "box", "--sequences", "24", "--seed", "2", "--legacy-physics",
        "--out", str(folder / "b.npz"),
    )  # fmt: skip
    kvae_studio_ok(
        "simulate", "box", "--sequences", "16", "--seed", "3", "--out", str(folder / "t.npz")
    )
    result = kvae_studio_ok(
        "train", str(folder / "a.npz"), str(folder / "b.npz"), "--test", str(folder / "t.npz"),
        "--out", str(folder / "run"), "--epochs", "1", "--device", "cpu", *TINY,
    )  # fmt: skip
    return folder, result


def test_train_joins_the_files_and_writes_the_run(run):
    folder, result = run
    assert "64 sequences" in result.stderr  # 40 + 24
    assert "Epoch 1/1" in result.stderr and "hamming smooth" in result.stderr
    assert "completed after 1 epoch, " in result.stderr  # not "1 epochs"
    assert ": 64 sequences, 1 epoch, from epoch 1" in result.stderr
    for name in ("model.safetensors", "resume.safetensors", "log.jsonl"):
        assert (folder / "run" / name).is_file()
    epochs = [
        json.loads(line)
        for line in (folder / "run" / "log.jsonl").read_text().splitlines()
        if '"kind": "epoch"' in line
    ]
    assert [e["epoch"] for e in epochs] == [1]
    assert set(epochs[0]["hamming"]) == {"smoothing", "filtering", "generation", "baseline"}


def test_train_takes_a_shipped_model_and_test_set_by_name(run, tmp_path):
    """`--init-from box --test paper-box-test`: fine-tune the shipped box model, scored on
    the paper's test set, as the pong model was made; the run records the files."""
    folder, _ = run
    result = kvae_studio_ok(
        "train", str(folder / "a.npz"), "--init-from", "box", "--test", "paper-box-test",
        "--eval-sequences", "8", "--out", str(tmp_path / "ft"), "--epochs", "1",
        "--device", "cpu", cwd=tmp_path,
    )  # fmt: skip
    assert "test ELBO" in result.stderr
    record = json.loads((tmp_path / "ft" / "studio.json").read_text())
    assert Path(record["init_from"]).name == "box.safetensors"
    assert Path(record["test"]).name == "paper-box-test.npz"
    assert Path(record["init_from"]).is_file() and Path(record["test"]).is_file()


def test_evaluate_json_on_the_original_file(run):
    folder, _ = run
    result = kvae_studio_ok(
        "evaluate", str(folder / "run" / "model.safetensors"), str(ORIGINAL_BOX), "--json"
    )
    out = json.loads(result.stdout)
    assert out["sequences"] == 200
    assert set(out["hamming"]) >= {"smoothing", "filtering", "generation", "baseline"}
    assert set(out["nrmse_a"]) >= {"smoothing", "generation"}
    assert np.isfinite(out["test_elbo"])
    assert all(0.0 <= v <= 1.0 for v in out["hamming"].values())


def test_evaluate_random_mask_and_sweep_csv(run, capsys):
    folder, _ = run
    model = str(folder / "run" / "model.safetensors")
    data = str(folder / "t.npz")
    sweep = folder / "sweep.csv"
    args = ["--mask", "random", "--drop-prob", "0.3", "--json", "--sweep", str(sweep)]
    code = cli.main(["evaluate", model, data, *args])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mask"] == {"kind": "random", "drop_prob": 0.3}
    rows = list(csv.DictReader(sweep.open()))
    kinds = [(r["kind"], float(r["x"])) for r in rows]
    assert [x for k, x in kinds if k == "planning"] == [1, 3, 5, 7, 9, 11, 13, 15]
    assert [round(x, 1) for k, x in kinds if k == "random"] == [i / 10 for i in range(1, 11)]


def test_resume_continues_the_run(run):
    folder, _ = run
    result = kvae_studio_ok(
        "train", str(folder / "a.npz"), "--out", str(folder / "run"), "--epochs", "2",
        "--device", "cpu", "--resume", *TINY,
    )  # fmt: skip
    assert "from epoch 2" in result.stderr
    epochs = [
        json.loads(line)["epoch"]
        for line in (folder / "run" / "log.jsonl").read_text().splitlines()
        if '"kind": "epoch"' in line
    ]
    assert epochs == [1, 2]


def test_bad_inputs_are_one_line_errors(run, tmp_path, capsys):
    folder, _ = run
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a model at all")
    assert cli.main(["evaluate", str(junk), str(folder / "t.npz")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and err.count("\n") == 1 and "Traceback" not in err

    big = tmp_path / "big.npz"
    assert (
        cli.main(["simulate", "box", "--sequences", "4", "--size", "64", "--out", str(big), "-q"])
        == 0
    )
    capsys.readouterr()
    code = cli.main(["train", str(folder / "a.npz"), str(big), "--out", str(tmp_path / "r")])
    assert code == 2
    assert "differ in frames or size" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()

    assert cli.main(["simulate", "pong", "--legacy-physics", "--out", str(tmp_path / "p.npz")]) == 2
    assert "not pong" in capsys.readouterr().err


def test_the_epoch_line_leaves_out_what_was_not_measured():
    """Without a test set the line once read 'test ELBO -,, validation ...'."""
    from types import SimpleNamespace

    from kvae_studio.commands.train import epoch_line

    event = SimpleNamespace(
        epoch=3, epochs=12, phase="all", train_elbo=-6.2234, test_elbo=None, hamming=None,
        validation={"metric": "smoothing", "score": 0.01940, "best_epoch": 3}, seconds=152.4,
    )  # fmt: skip
    assert epoch_line(event) == (
        "Epoch 3/12 (all), train ELBO -6.22, validation smoothing 0.0194 (best at epoch 3), 152 s"
    )
    event.test_elbo, event.validation = -7.5, None
    event.hamming = {"smoothing": 0.01, "filtering": 0.02, "generation": 0.03, "baseline": 0.05}
    assert epoch_line(event) == (
        "Epoch 3/12 (all), train ELBO -6.22, test ELBO -7.50, hamming smooth 0.0100 "
        "filter 0.0200 gen 0.0300 base 0.0500, 152 s"
    )


def test_the_model_file_says_how_it_was_trained_and_info_shows_it(run):
    """Precision, processes, the epochs' time (summed across --resume: this runs after
    test_resume_continues_the_run) and the machine; `info` shows them."""
    from model.model_file import read_summary
    from model.precision import cpu_model

    folder, _ = run
    model = folder / "run" / "model.safetensors"
    summary = read_summary(model)
    assert summary["precision"] in ("fp32", "bf16") and summary["world_size"] == 1
    records = (folder / "run" / "log.jsonl").read_text().splitlines()
    epochs = [json.loads(x) for x in records if '"kind": "epoch"' in x]
    assert summary["epoch"] == len(epochs) == 2
    assert summary["wall_seconds"] >= round(sum(e["seconds"] for e in epochs), 1) > 0
    assert cpu_model() in summary["machine"] and " thread" in summary["machine"]
    line = next(x for x in kvae_studio_ok("info", str(model)).stdout.splitlines() if "run:" in x)
    assert summary["precision"] in line and "1 process" in line and "min of training" in line
    assert summary["machine"] in line

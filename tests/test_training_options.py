"""A training run's options are one value (model.training_options.TrainingOptions): the
command line's flags are made from its fields, studio.json is written and read by it
(records of any age), and config changes stay typed from the flag to the Trainer."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from kvae_studio.cli import build_parser
from kvae_studio.commands.train import BY_NAME
from kvae_studio.services.run_records import read_options, write_studio_file
from model.config import KVAEConfig, parse_assignments
from model.run_folder import STUDIO_FILE
from model.training_options import (
    TrainingOptions,
    default_of,
    flagged_fields,
    recorded_fields,
)


def _train_actions() -> dict[str, object]:
    parser = build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    return {action.dest: action for action in train._actions}


def test_every_flagged_field_is_an_option_of_train_with_its_flag_default_and_help():
    actions = _train_actions()
    for name, option in flagged_fields().items():
        action = actions[name]
        if option.flag.startswith("-"):
            assert action.option_strings == [option.flag], name
            assert action.default == default_of(name), name
        by_name = f" {BY_NAME[name]}" if name in BY_NAME else ""  # shipped files by name
        assert action.help == (option.help + by_name if option.help else None), name
        assert tuple(action.choices or ()) == option.choices, name


def test_a_command_line_parses_into_the_fields_of_the_same_names():
    argv = [
        "train", "a.npz", "b.npz", "--out", "run", "--test", "t.npz", "--seed", "7",
        "--epochs", "3", "--eval-sequences", "20", "--threads", "2", "--checkpoint-every", "2",
        "--keep-best", "elbo", "--validation", "v.npz", "--patience", "4", "--device", "cpu",
        "--precision", "fp32", "--init-from", "m.safetensors",
    ]  # fmt: skip
    args = build_parser().parse_args(argv)
    options = TrainingOptions(**{name: getattr(args, name) for name in flagged_fields()})
    assert options == TrainingOptions(
        train_paths=(Path("a.npz"), Path("b.npz")),
        test_path=Path("t.npz"),
        init_from=Path("m.safetensors"),
        validation_path=Path("v.npz"),
        keep_best="elbo",
        patience=4,
        run_dir=Path("run"),
        epochs=3,
        device="cpu",
        precision="fp32",
        seed=7,
        checkpoint_every=2,
        eval_sequences=20,
        threads=2,
    )


def test_studio_json_reads_back_the_options_it_recorded(tmp_path):
    options = TrainingOptions(
        train_paths=(tmp_path / "a.npz", tmp_path / "b.npz"),
        test_path=tmp_path / "t.npz",
        run_dir=tmp_path / "run",
        config=KVAEConfig(K=5),  # the model file's, not studio.json's
        seed=9,
        checkpoint_every=3,
        eval_sequences=None,
        threads=2,
        keep_best="smoothing",
        validation_path=tmp_path / "v.npz",
        patience=2,
        precision="bf16",
    )
    write_studio_file(options)
    record = json.loads((tmp_path / "run" / STUDIO_FILE).read_text())
    assert record["train"] is None and record["train_files"] == [
        str(tmp_path / "a.npz"),
        str(tmp_path / "b.npz"),
    ]  # several files joined: no one training file
    assert "updated" in record
    back = read_options(tmp_path / "run")
    for name in recorded_fields():
        assert getattr(back, name) == getattr(options, name), name


def test_studio_json_names_files_by_absolute_path(tmp_path, monkeypatch):
    """`train data.npz --out run`, read later from another folder (the window, Continue,
    a model card's scene), still finds the files."""
    monkeypatch.chdir(tmp_path)
    options = TrainingOptions(
        train_paths=(Path("a.npz"),),
        validation_path=Path("sub/../v.npz"),
        run_dir=Path("run"),
        config=KVAEConfig(),
    )
    write_studio_file(options)
    monkeypatch.chdir(tmp_path / "run")
    record = json.loads(Path(STUDIO_FILE).read_text())
    assert record["train"] == str(tmp_path / "a.npz") and record["train_files"] == [record["train"]]
    assert record["validation"] == str(tmp_path / "v.npz") and record["test"] is None
    assert read_options(".").train_paths == (tmp_path / "a.npz",)


def test_an_older_studio_json_still_reads(tmp_path):
    """As written before TrainingOptions (the Train tab's Continue reads these), and with
    keys missing or values damaged: each such option takes its default."""
    run = tmp_path / "run"
    run.mkdir()
    older = {
        "train": "/data/box-train.npz",
        "test": "/data/box-test.npz",
        "device": "auto",
        "seed": 4,
        "checkpoint_every": 2,
        "eval_sequences": 200,
        "threads": 3,
        "updated": "2026-12-01 10:00:00",
        "precision": "auto",
    }
    (run / STUDIO_FILE).write_text(json.dumps(older))
    options = read_options(run)
    assert options.train_paths == (Path("/data/box-train.npz"),)
    assert options.test_path == Path("/data/box-test.npz")
    assert (options.seed, options.checkpoint_every, options.eval_sequences) == (4, 2, 200)
    assert options.threads == 3 and options.init_from is None and options.keep_best is None
    damaged = {"train": 5, "seed": "x", "checkpoint_every": 0, "device": "gpu", "threads": True}
    (run / STUDIO_FILE).write_text(json.dumps(damaged))
    assert read_options(run) == TrainingOptions()
    (run / STUDIO_FILE).write_text("[1, 2")
    assert read_options(run) == TrainingOptions()


def test_config_changes_stay_typed_from_the_flags_to_the_config():
    """`--K 5` arrives as 5 and `--set` text is read once, by the config's own parser."""
    args = build_parser().parse_args(
        ["train", "d.npz", "--out", "r", "--K", "5", "--set", "init_lr=0.003", "--set", "K=4"]
    )
    from kvae_studio.commands.field_options import given_fields

    given = given_fields(args, "config_")
    assert given == {"K": 5}
    changes = {**parse_assignments(args.overrides), **given}  # the flag wins, as before
    assert changes == {"init_lr": 0.003, "K": 5}
    assert KVAEConfig().with_changes(changes) == dataclasses.replace(
        KVAEConfig(), K=5, init_lr=0.003
    )
    with pytest.raises(ValueError, match="known key"):
        parse_assignments(["nonsense=1"])

"""Issue 12, class 3: every option's range is checked where it is parsed.

Command-line flags (argparse types), `--set KEY=VALUE` (KVAEConfig's range table) alike:
exit 2, one line that names the option and its valid range, no traceback, nothing
written, existing files unchanged. All cases run in one interpreter (see bad_input.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from bad_input import assert_one_clear_line, digests, run_many

from model.data import save_sequences

# (name, arguments after the command's fixed ones, words the one line must hold)
SIMULATE = [
    ("negative seed", ["--seed", "-1"], ["--seed", "[0, 2147483647]", "'-1'"]),
    ("seed not a number", ["--seed", "x"], ["--seed", "whole number"]),
    ("no sequences", ["--sequences", "0"], ["--sequences", "at least 1"]),
    ("negative steps", ["--steps", "-5"], ["--steps", "at least 1"]),
    ("frame size zero", ["--size", "0"], ["size", "[8, 1024]"]),
    ("frame size huge", ["--size", "100000"], ["size", "[8, 1024]"]),
    ("negative radius", ["--ball-radius", "-1"], ["--ball-radius", "[0.1, 16]"]),
    ("not finite", ["--dt", "nan"], ["finite"]),
    (
        "more than memory",
        ["--sequences", "300000000", "--steps", "2000"],
        ["GB of memory", "--sequences"],
    ),
]
EVALUATE = [
    ("negative seed", ["--seed", "-1"], ["--seed", "[0, 2147483647]"]),
    ("drop above one", ["--drop-prob", "1.5"], ["--drop-prob", "[0, 1]"]),
    ("drop negative", ["--drop-prob", "-0.1"], ["--drop-prob", "[0, 1]"]),
    ("drop not finite", ["--drop-prob", "nan"], ["--drop-prob", "[0, 1]"]),
]
TRAIN = [
    ("negative lr", ["--set", "init_lr=-1"], ["init_lr", "(0, 1000000]"]),
    ("zero lr", ["--set", "init_lr=0"], ["init_lr", "(0, 1000000]"]),
    ("zero batch", ["--set", "batch_size=0"], ["batch_size", "[1, 100000]"]),
    ("zero epochs in config", ["--set", "num_epochs=0"], ["num_epochs", "[1, 1000000]"]),
    ("zero decay period", ["--set", "decay_epochs=0"], ["decay_epochs", "[1, 1000000]"]),
    ("decay rate above one", ["--set", "decay_rate=2"], ["decay_rate", "(0, 1]"]),
    ("zero kernel", ["--set", "kernel_size=0"], ["kernel_size", "[1, 31]"]),
    ("even kernel", ["--set", "kernel_size=4"], ["kernel_size", "odd"]),
    ("drop outside", ["--set", "train_miss_prob=1.5"], ["train_miss_prob", "[0, 1]"]),
    ("huge network", ["--set", "alpha_units=1000000000"], ["alpha_units", "[1, 4096]"]),
    ("huge frames of filters", ["--set", "filters=32,99999"], ["filters", "[1, 1024]"]),
    ("unknown key", ["--set", "learning_rate=1"], ["learning_rate", "known key"]),
    ("zero regimes as a flag", ["--K", "0"], ["--K", "K must be a whole number in [1, 256]"]),
    ("lr flag not a number", ["--init-lr", "fast"], ["--init-lr", "must be a number"]),
    ("filters flag too large", ["--filters", "32,99999"], ["--filters", "[1, 1024]"]),
    ("flag not yes or no", ["--conv", "maybe"], ["--conv", "yes or no"]),
    ("zero epochs", ["--epochs", "0"], ["--epochs", "at least 1"]),
    ("negative seed", ["--seed", "-2"], ["--seed", "[0, 2147483647]"]),
    ("zero threads", ["--threads", "0"], ["--threads", "at least 1"]),
    ("zero checkpoint period", ["--checkpoint-every", "0"], ["--checkpoint-every", "at least 1"]),
    ("zero eval sequences", ["--eval-sequences", "0"], ["--eval-sequences", "at least 1"]),
]
CASES = (
    [("simulate", *case) for case in SIMULATE]
    + [("evaluate", *case) for case in EVALUATE]
    + [("train", *case) for case in TRAIN]
)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Run every case once, in one interpreter; the files around them, before and after."""
    folder = tmp_path_factory.mktemp("options")
    rng = np.random.default_rng(0)
    save_sequences(folder / "d.npz", (rng.random((4, 6, 16, 16)) > 0.9).astype(np.float32))
    from model.checkpoint import save_model
    from model.config import KVAEConfig
    from model.kvae import KVAE

    save_model(
        KVAE(KVAEConfig(frame_size=16, filters=(4, 4), alpha_units=8)), folder / "m.safetensors"
    )
    before = digests(folder)
    fixed = {
        "simulate": ["simulate", "box", "-q", "--out", str(folder / "new.npz")],
        "evaluate": ["evaluate", str(folder / "m.safetensors"), str(folder / "d.npz")],
        "train": ["train", str(folder / "d.npz"), "--out", str(folder / "run"), "--epochs", "1"],
    }
    # --epochs given twice: argparse keeps the last, so "--epochs 0" is the one checked.
    lines = [fixed[command] + args for command, _, args, _ in CASES]
    results = run_many(lines)
    by_case = {(command, name): r for (command, name, _, _), r in zip(CASES, results, strict=True)}
    return by_case, folder, before


@pytest.mark.parametrize(
    ("command", "name", "words"),
    [(command, name, words) for command, name, _, words in CASES],
    ids=[f"{command}: {name}" for command, name, _, _ in CASES],
)
def test_a_bad_option_is_one_clear_line(outcomes, command, name, words):
    results, _, _ = outcomes
    assert_one_clear_line(results[command, name], *words)


def test_nothing_was_written_and_nothing_changed(outcomes):
    _, folder, before = outcomes
    assert digests(folder) == before  # no new.npz, no run folder, no temporary left

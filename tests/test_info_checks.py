"""Issue 26, the `info` items: a model file every loader refuses is refused by `info` too
(exit 2, one line), a folder or a data set given as a model is named for what it is, and
what a file says reaches the terminal with its control characters escaped.

All cases run as real command lines in one interpreter (bad_input.run_many); that `info`
still imports no torch is held by tests/test_cli_basic.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from bad_input import assert_one_clear_line, run_many
from safetensors.numpy import load_file, save_file

from model.model_file import read_metadata

ROOT = Path(__file__).resolve().parents[1]
PONG = ROOT / "resources" / "models" / "pong.safetensors"
ESC = "\x1b"


def rewritten(path: Path, config: dict | None = None, summary: dict | None = None) -> None:
    """pong.safetensors written at `path` with its config or summary changed."""
    meta = read_metadata(PONG)
    if config:
        meta["config"] = json.dumps({**json.loads(meta["config"]), **config})
    if summary:
        meta["summary"] = json.dumps({**json.loads(meta["summary"]), **summary})
    save_file(load_file(PONG), str(path), metadata=meta)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> tuple[Path, dict[str, dict]]:
    folder = tmp_path_factory.mktemp("info")
    data = PONG.read_bytes()
    (folder / "truncated.safetensors").write_bytes(data[: len(data) - 4096])
    rewritten(folder / "other-k.safetensors", config={"K": 4})
    rewritten(folder / "other-size.safetensors", config={"frame_size": 64})
    rewritten(folder / "escapes.safetensors", summary={"scene": f"{ESC}[2J{ESC}]0;owned\a"})
    np.savez(folder / "data.npz", images=np.zeros((2, 3, 8, 8), np.float32))
    shutil.copy(folder / "data.npz", folder / "data.safetensors")
    np.savez(folder / "keys.npz", **{"images": np.zeros((2, 3, 8, 8), np.float32),
                                     f"{ESC}[31mred": np.zeros(1)})  # fmt: skip
    (folder / "run").mkdir()
    shutil.copy(PONG, folder / "run" / "model.safetensors")
    (folder / "folder.safetensors").mkdir()
    cases = {
        "truncated": ["info", "truncated.safetensors"],
        "other K": ["info", "other-k.safetensors"],
        "other frame size": ["info", "other-size.safetensors"],
        "data set as a model": ["info", "data.safetensors"],
        "run folder": ["info", "run"],
        "folder named as a model": ["info", "folder.safetensors"],
        "escapes in a model": ["info", "escapes.safetensors"],
        "escapes in a data set": ["info", "keys.npz"],
    }
    results = run_many(list(cases.values()), cwd=folder)
    return folder, dict(zip(cases, results, strict=True))


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("truncated", ["truncated.safetensors", "truncated"]),
        ("other K", ["other-k.safetensors", "do not match its config", "A"]),
        ("other frame size", ["other-size.safetensors", "do not match its config"]),
        ("data set as a model", ["data.safetensors", "a data set", "not a model"]),
        ("run folder", ["run", "is a folder", "run/model.safetensors"]),
        ("folder named as a model", ["folder.safetensors", "is a folder"]),
    ],
)
def test_a_file_no_loader_takes_is_refused_in_one_line(outcomes, case, words):
    _, results = outcomes
    result = results[case]
    assert_one_clear_line(result, *words)
    assert result["stdout"] == ""
    assert "pickle" not in result["stderr"]


@pytest.mark.parametrize("case", ["escapes in a model", "escapes in a data set"])
def test_control_characters_from_a_file_are_escaped(outcomes, case):
    _, results = outcomes
    result = results[case]
    assert result["code"] == 0, result["stderr"]
    shown = result["stdout"] + result["stderr"]
    assert ESC not in shown and "\a" not in shown
    assert "\\x1b[" in shown  # written as repr writes it

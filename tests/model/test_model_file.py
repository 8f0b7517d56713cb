"""A model file describes itself from its header alone, in a process without torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from model.checkpoint import load_model
from model.model_file import ModelFileError, describe_model

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "resources" / "models").glob("*.safetensors"))
EXAMPLE_SCENES = {"box-mlp-alpha": "box"}
"""The shipped examples, which are not named after their scene, and the scene each learned."""


def test_there_are_shipped_models_to_describe():
    assert len(SHIPPED) >= 4


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_the_description_agrees_with_the_loaded_model(path):
    described = describe_model(path)
    model = load_model(path)
    assert described.config == model.config
    assert described.weights == sum(t.numel() for t in model.state_dict().values())
    assert described.summary.get("scene") == EXAMPLE_SCENES.get(path.stem, path.stem)


def test_describing_models_imports_neither_torch_nor_safetensors():
    code = (
        "import json, sys; from model.model_file import describe_model; "
        f"d = [describe_model(p) for p in {[str(p) for p in SHIPPED]!r}]; "
        "print(json.dumps({'K': [x.config.K for x in d], "
        "'heavy': sorted(m for m in ('torch', 'safetensors', 'numpy') if m in sys.modules)}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["heavy"] == [] and len(result["K"]) == len(SHIPPED)


@pytest.mark.parametrize(
    "content, says",
    [
        (b"\x80\x04pickled", "pickle"),
        (b"\x01\x00", "too short"),
        ((10**6).to_bytes(8, "little") + b"{}", "bad or truncated header"),
        ((2).to_bytes(8, "little") + b"[]", "not an object"),
        ((2).to_bytes(8, "little") + b"{}", "not a KVAE Studio model"),
    ],
)
def test_a_bad_file_is_one_line_as_when_loading(tmp_path, content, says):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=says) as described:
        describe_model(path)
    with pytest.raises(ModelFileError) as loaded:
        load_model(path)
    assert str(described.value) == str(loaded.value)

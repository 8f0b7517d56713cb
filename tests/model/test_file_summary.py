"""A model file's summary can change without its weights changing by one byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from model.checkpoint import load_model, save_model
from model.config import KVAEConfig
from model.file_summary import split_file, update_summary
from model.kvae import KVAE
from model.model_file import ModelFileError, read_metadata, read_summary

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def saved(tmp_path) -> Path:
    torch.manual_seed(0)
    path = tmp_path / "m.safetensors"
    save_model(KVAE(KVAEConfig(frame_size=16, filters=(4, 4), alpha_units=8, K=2)), path)
    return path


def test_the_summary_changes_and_the_tensor_bytes_do_not(saved):
    before = split_file(saved.read_bytes())[1]
    summary = update_summary(saved, scene="pong", note="a longer value " * 7)
    assert summary["scene"] == "pong"
    assert split_file(saved.read_bytes())[1] == before
    assert read_summary(saved)["scene"] == "pong"
    load_model(saved)  # and the file still loads
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]  # no temporary left


def test_a_file_that_is_no_model_is_refused_and_kept(tmp_path):
    path = tmp_path / "x.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}              ")
    with pytest.raises(ModelFileError):
        update_summary(path, scene="box")
    assert path.read_bytes().startswith(b"\x10")


def test_the_shipped_box_model_knows_its_scene():
    meta = read_metadata(ROOT / "resources" / "models" / "box.safetensors")
    assert json.loads(meta["summary"])["scene"] == "box"

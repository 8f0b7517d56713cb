"""Model files: safetensors only, rebuilt from the file alone, refused with a clear reason."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import save, save_file

from model import checkpoint
from model.checkpoint import load_model, save_model
from model.config import KVAEConfig
from model.imputation import generate, impute
from model.kvae import KVAE
from model.model_file import FORMAT, ModelFileError, read_summary

CFG = KVAEConfig(frame_size=16, filters=(4, 4), alpha_units=8, K=2)


@pytest.fixture
def model() -> KVAE:
    torch.manual_seed(0)
    m = KVAE(CFG)
    with torch.no_grad():
        for p in m.alpha_net.parameters():
            p.normal_(0, 0.5)
    return m.eval()


@pytest.fixture
def saved(model, tmp_path) -> Path:
    path = tmp_path / "model.safetensors"
    save_model(model, path, {"epoch": 3, "loss": 1.5})
    return path


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_round_trip_gives_identical_outputs(model, saved):
    loaded = load_model(saved)
    assert loaded.config == CFG
    assert read_summary(saved) == {"epoch": 3, "loss": 1.5}
    assert not hasattr(loaded, "summary"), "the file's summary is not patched onto the module"
    assert not loaded.training
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    x = (torch.rand(2, 8, 16, 16) > 0.8).float()
    mask = torch.ones(2, 8)
    mask[:, 3:6] = 0
    ours, theirs = impute(model, x, mask), impute(loaded, x, mask)
    for field in ("x_smoothed", "x_filtered", "z_smoothed_cov", "alpha", "a_encoded"):
        assert torch.equal(getattr(ours, field), getattr(theirs, field)), field
    assert torch.equal(generate(model, x, 3).x, generate(loaded, x, 3).x)
    g = lambda: torch.Generator().manual_seed(1)  # noqa: E731
    assert torch.equal(model.elbo(x, generator=g()).elbo, loaded.elbo(x, generator=g()).elbo)


def test_saves_are_atomic_and_leave_no_temp_files(model, saved):
    assert leftovers(saved.parent) == []
    save_model(model, saved)  # overwrite in place
    assert leftovers(saved.parent) == []
    load_model(saved)


def test_a_failing_save_keeps_the_old_file(model, saved, monkeypatch):
    old = saved.read_bytes()
    with torch.no_grad():
        model.A.add_(1.0)

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        save_model(model, saved)
    assert saved.read_bytes() == old
    assert leftovers(saved.parent) == []


def test_non_finite_weights_are_not_saved(model, saved):
    old = saved.read_bytes()
    with torch.no_grad():
        model.C[0, 0, 0] = float("nan")
    with pytest.raises(ModelFileError, match="non-finite weights in C"):
        save_model(model, saved)
    assert saved.read_bytes() == old
    assert leftovers(saved.parent) == []


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy-pickle"])
def test_torch_save_file_is_refused_as_pickle(model, tmp_path, legacy):
    path = tmp_path / "model.safetensors"
    torch.save(model.state_dict(), path, _use_new_zipfile_serialization=not legacy)
    with pytest.raises(ModelFileError, match="pickle"):
        load_model(path)


def test_foreign_safetensors_file_is_refused(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"weight": torch.zeros(3)}, str(path), metadata={"format": "pt"})
    with pytest.raises(ModelFileError, match="not a KVAE Studio model"):
        load_model(path)


@pytest.mark.parametrize("keep", [0, 5, 8, 40, -100, -1])
def test_truncated_file_is_refused(saved, keep):
    data = saved.read_bytes()
    saved.write_bytes(data[:keep] if keep >= 0 else data[: len(data) + keep])
    with pytest.raises(ModelFileError) as info:
        load_model(saved)
    assert saved.name in str(info.value) or "no such file" in str(info.value)


def test_garbage_and_missing_files_are_refused(tmp_path):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    with pytest.raises(ModelFileError, match="unreadable header"):
        load_model(junk)
    with pytest.raises(ModelFileError, match="no such file"):
        load_model(tmp_path / "absent.safetensors")


def test_the_summary_is_read_from_the_header_alone(model, saved, tmp_path):
    """`read_summary` returns what `save_model` stored without reading the weights: a file
    whose tensors are all wrong shapes still says its summary; a bad summary is refused."""
    assert read_summary(saved) == {"epoch": 3, "loss": 1.5}
    odd = tmp_path / "odd.safetensors"
    tiny = {"a0": torch.zeros(1)}  # not this config's network: load_model refuses it
    meta = {"format": FORMAT, "config": CFG.to_json(), "summary": '{"scene": "pong"}'}
    odd.write_bytes(save(tiny, metadata=meta))
    with pytest.raises(ModelFileError):
        load_model(odd)
    assert read_summary(odd) == {"scene": "pong"}
    odd.write_bytes(save(tiny, metadata={**meta, "summary": "[1, 2]"}))
    with pytest.raises(ModelFileError, match="not a JSON object"):
        read_summary(odd)


def write_with_config(path: Path, tensors: dict, config: KVAEConfig) -> None:
    meta = {"format": FORMAT, "config": config.to_json(), "summary": "{}"}
    path.write_bytes(save(tensors, metadata=meta))


def test_mismatched_shapes_are_refused(model, tmp_path):
    path = tmp_path / "model.safetensors"
    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    bigger = KVAEConfig(**{**json.loads(CFG.to_json()), "dim_z": 5})
    write_with_config(path, tensors, bigger)
    with pytest.raises(ModelFileError, match=r"do not match its config: .*wrong shapes A"):
        load_model(path)
    tensors.pop("a0")
    tensors["extra"] = torch.zeros(1)
    write_with_config(path, tensors, CFG)
    with pytest.raises(ModelFileError, match=r"missing a0 \| unexpected extra"):
        load_model(path)


def test_nan_weights_are_refused(model, tmp_path):
    path = tmp_path / "model.safetensors"
    tensors = {k: v.clone().contiguous() for k, v in model.state_dict().items()}
    tensors["decoder.body.0.weight"].view(-1)[3] = float("inf")
    write_with_config(path, tensors, CFG)
    with pytest.raises(ModelFileError, match="NaN or infinity"):
        load_model(path)


def test_bad_config_in_file_is_refused(model, tmp_path):
    path = tmp_path / "model.safetensors"
    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    meta = {"format": FORMAT, "config": json.dumps({"K": 0}), "summary": "{}"}
    path.write_bytes(save(tensors, metadata=meta))
    with pytest.raises(
        ModelFileError, match=r"config cannot be used.*K must be a whole number in \[1, 256\]"
    ):
        load_model(path)


def test_no_pickle_is_ever_used_to_load(saved, monkeypatch):
    import pickle

    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    load_model(saved)
    assert os.path.getsize(saved) > 0

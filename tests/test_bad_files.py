"""Issue 12, class 4: files whose headers drive allocation are checked before anything is
allocated.

An npz array's header may claim any shape: the claim is checked against the bytes the
archive really holds. A model file's metadata may ask for a network of any size: the
config is checked against its tensors' declared shapes before the network is built.
Frames that are not square, or not the model's size, get a clear message.
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from bad_input import assert_one_clear_line, digests, run_many
from safetensors.torch import save

from model.checkpoint import load_model, save_model
from model.config import KVAEConfig
from model.data import DatasetError, load_sequences, save_sequences
from model.kvae import KVAE
from model.model_file import FORMAT, ModelFileError

SMALL = KVAEConfig(frame_size=16, filters=(4, 4), alpha_units=8)


def forged_npz(path, shape, data_bytes: int, compress: bool = True) -> None:
    """An npz whose images header claims `shape` but holds `data_bytes` bytes of data."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": tuple(shape)}
    )
    mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=mode) as archive:
        archive.writestr("images.npy", header.getvalue() + b"\0" * data_bytes)


def model_with_config(path, tensors_of: KVAEConfig, config: dict) -> None:
    """A model file holding the weights of `tensors_of` and the metadata `config`."""
    tensors = {k: v.contiguous() for k, v in KVAE(tensors_of).state_dict().items()}
    meta = {"format": FORMAT, "config": json.dumps(config), "summary": "{}"}
    path.write_bytes(save(tensors, metadata=meta))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("files")
    rng = np.random.default_rng(0)
    save_sequences(folder / "good.npz", (rng.random((3, 6, 16, 16)) > 0.9).astype(np.float32))
    save_sequences(folder / "wide.npz", np.zeros((3, 6, 16, 24), np.float32))
    save_sequences(folder / "big.npz", np.zeros((3, 6, 32, 32), np.float32))
    forged_npz(folder / "huge.npz", (10**6, 10**3, 32, 32), 4096)  # 4 TB claimed
    forged_npz(folder / "short.npz", (50, 20, 16, 16), 4096, compress=False)  # fits, short
    save_model(KVAE(SMALL), folder / "model.safetensors")
    big_network = {**json.loads(SMALL.to_json()), "alpha_units": 4096, "vae_num_units": 4096}
    model_with_config(folder / "greedy.safetensors", SMALL, big_network)
    model_with_config(folder / "absurd.safetensors", SMALL, {**big_network, "K": 10**9})
    return folder


CLI = {
    "info: 4 TB claimed": (["info", "huge.npz"], ["huge.npz", "declares shape", "at most"]),
    "info: short file": (["info", "short.npz"], ["short.npz", "declares shape", "at most"]),
    "evaluate: 4 TB claimed": (
        ["evaluate", "model.safetensors", "huge.npz"],
        ["huge.npz", "declares shape"],
    ),
    "train: short file": (["train", "short.npz", "--out", "run"], ["short.npz", "declares"]),
    "evaluate: config asks for a bigger network": (
        ["evaluate", "greedy.safetensors", "good.npz"],
        ["greedy.safetensors", "do not match its config", "wrong shapes"],
    ),
    "evaluate: config out of range": (
        ["evaluate", "absurd.safetensors", "good.npz"],
        ["absurd.safetensors", "K must be a whole number in [1, 256]"],
    ),
    "evaluate: frames not square": (
        ["evaluate", "model.safetensors", "wide.npz"],
        ["wide.npz", "16×24"],
    ),
    "evaluate: frames of another size": (
        ["evaluate", "model.safetensors", "big.npz"],
        ["big.npz", "32×32", "16×16"],
    ),
    "train: frames not square": (["train", "wide.npz", "--out", "run"], ["16×24", "square"]),
}


@pytest.fixture(scope="module")
def outcomes(files):
    before = digests(files)
    results = run_many([args for args, _ in CLI.values()], cwd=files)
    return dict(zip(CLI, results, strict=True)), before


@pytest.mark.parametrize("case", list(CLI))
def test_a_file_that_would_drive_allocation_is_one_clear_line(outcomes, case):
    results, _ = outcomes
    assert_one_clear_line(results[case], *CLI[case][1])


def test_no_file_changed_and_no_run_was_started(outcomes, files):
    _, before = outcomes
    assert digests(files) == before


def test_the_npz_claim_is_refused_before_numpy_allocates(files, monkeypatch):
    def must_not_read(*args, **kwargs):
        raise AssertionError("the array was read (and allocated) before its size was checked")

    monkeypatch.setattr(np.lib.format, "read_array", must_not_read)
    for name in ("huge.npz", "short.npz"):
        with pytest.raises(DatasetError, match="declares shape"):
            load_sequences(files / name)


def test_the_model_config_is_checked_before_the_network_is_built(files, monkeypatch):
    import model.checkpoint as checkpoint

    built_on = []

    class Recording(KVAE):
        def __init__(self, config):
            super().__init__(config)
            built_on.append(next(self.parameters()).device.type)

    def must_not_load(*args, **kwargs):
        raise AssertionError("the tensors were loaded before their shapes were checked")

    monkeypatch.setattr(checkpoint, "KVAE", Recording)
    monkeypatch.setattr(checkpoint, "load_file", must_not_load)
    with pytest.raises(ModelFileError, match="do not match its config"):
        load_model(files / "greedy.safetensors")
    assert built_on == ["meta"]  # shapes only: no memory was asked for the big network


def test_checking_the_shapes_does_not_import_the_compiler(outcomes):
    """Shapes on the meta device must stay cheap: torch's meta kernels for arithmetic and
    random tensors import torch._dynamo and sympy (seconds) on first use."""
    results, _ = outcomes
    assert results["evaluate: config asks for a bigger network"]["compiler"] == []

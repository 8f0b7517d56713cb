"""The panels' device list is found without torch: the torch build's version and the
NVIDIA driver's GPU list."""

from __future__ import annotations

from importlib import metadata

from kvae_studio.services import hardware


def test_a_cpu_build_of_torch_offers_no_cuda_whatever_the_gpus(monkeypatch, tmp_path):
    gpu = tmp_path / "0000:01:00.0"
    gpu.mkdir()
    (gpu / "information").write_text("Model: \t NVIDIA H200\nIRQ: 42\n")
    monkeypatch.setattr(hardware, "NVIDIA_GPUS", tmp_path)
    monkeypatch.setattr(metadata, "version", lambda name: "2.13.0+cpu")
    assert hardware.device_choices() == [("Auto", "auto"), ("CPU", "cpu")]


def test_a_cuda_build_with_a_gpu_offers_it_by_name(monkeypatch, tmp_path):
    for bus, name in (("0000:02:00.0", "NVIDIA A100"), ("0000:01:00.0", "NVIDIA H200")):
        (tmp_path / bus).mkdir()
        (tmp_path / bus / "information").write_text(f"Model: \t {name}\n")
    monkeypatch.setattr(metadata, "version", lambda name: "2.13.0")
    assert hardware.nvidia_gpu_names(tmp_path) == ["NVIDIA H200", "NVIDIA A100"]
    monkeypatch.setattr(hardware, "NVIDIA_GPUS", tmp_path)
    assert hardware.device_choices()[-1] == ("CUDA (NVIDIA H200)", "cuda")


def test_no_driver_or_no_torch_means_no_cuda(monkeypatch, tmp_path):
    assert hardware.nvidia_gpu_names(tmp_path / "absent") == []

    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    assert not hardware.torch_has_cuda()

"""Which devices the Train and Evaluate panels offer, found without importing torch.

Why not `torch.cuda.is_available()`: importing torch takes about a second, and the
window is built before any model work starts (the model's own process imports torch
meanwhile). The installed torch's version says whether it is a CUDA build ("+cpu" is
not), and the NVIDIA driver lists its GPUs under /proc; a job started on "cuda" where
torch then finds none fails with one line (`model.training_setup`), as from the command
line.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

NVIDIA_GPUS = Path("/proc/driver/nvidia/gpus")


def torch_has_cuda() -> bool:
    """False for a CPU build of torch (its version ends in '+cpu') or none at all."""
    try:
        version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        return False
    return not version.endswith("+cpu")


def nvidia_gpu_names(root: Path | None = None) -> list[str]:
    """The GPUs the NVIDIA driver lists (under `root`, default /proc's), by model name;
    [] without the driver."""
    root = NVIDIA_GPUS if root is None else root
    names = []
    for info in sorted(root.glob("*/information")) if root.is_dir() else []:
        try:
            lines = info.read_text(errors="replace").splitlines()
        except OSError:
            continue
        models = [line.split(":", 1)[1].strip() for line in lines if line.startswith("Model:")]
        names.append(models[0] if models and models[0] else "NVIDIA GPU")
    return names


def device_choices() -> list[tuple[str, str]]:
    """(label, value) pairs: Auto and CPU always, CUDA where torch and a GPU can use it."""
    choices = [("Auto", "auto"), ("CPU", "cpu")]
    gpus = nvidia_gpu_names() if torch_has_cuda() else []
    if gpus:
        choices.append((f"CUDA ({gpus[0]})", "cuda"))
    return choices

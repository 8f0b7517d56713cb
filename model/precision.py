"""Which precision a training runs in (the fastest the hardware does natively), and
what a run ran on, for its model file.

Why a choice at run time: bf16 autocast of the encoder and decoder ran 1.91x fp32 on
the project's EPYC cores, which have `avx512_bf16` (benchmarks/bench_train.py); a CPU
without native bf16 emulates it in software, where it can be slower than fp32. So
"auto" takes bf16 where the CPU lists `avx512_bf16` or `amx_bf16` (or the CUDA device
supports bf16) and fp32 elsewhere, and says which and why. The Kalman filter and
smoother, and the codes a_t they read, stay float32 either way
(model.networks._float32); the quality check (the validation figures of bf16 runs
against the spread of fp32 seeds) is in the README.
"""

from __future__ import annotations

import functools
from pathlib import Path

import torch

NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux lists them (empty where it does not)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def resolve_precision(precision: str, device: torch.device) -> tuple[str, str]:
    """("fp32" or "bf16", why) for a requested `precision` on `device`."""
    if precision != "auto":
        return precision, "as asked"
    if device.type == "cuda":
        if torch.cuda.is_bf16_supported():
            return "bf16", "the GPU supports bf16"
        return "fp32", "the GPU has no bf16"
    native = [flag for flag in NATIVE_BF16_FLAGS if flag in cpu_flags()]
    if native:
        return "bf16", f"the CPU has {native[0]}"
    return "fp32", "the CPU has no native bf16 (avx512_bf16 or amx_bf16)"


def describe_machine(device: torch.device) -> str:
    """What a run ran on, as its model file records it: the GPU's name, or the CPU's model,
    its native bf16 flag if any, and the threads torch uses ("AMD EPYC, avx512_bf16, 2
    threads"). Virtual machines often show only the family ("AMD EPYC"), and whether the
    CPU does bf16 natively is what decides a run's speed (precision above)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    threads = torch.get_num_threads()
    native = [flag for flag in NATIVE_BF16_FLAGS if flag in cpu_flags()]
    parts = [cpu_model() or "a CPU", *native[:1], f"{threads} thread{'' if threads == 1 else 's'}"]
    return ", ".join(parts)


@functools.cache
def cpu_model() -> str:
    """The CPU's model name as Linux lists it ('' where it does not)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return ""
    for line in text.splitlines():
        if line.startswith("model name"):
            return " ".join(line.split(":", 1)[1].split())
    return ""

"""Data-parallel training over torch.distributed, for a `Trainer` launched by torchrun.

Every process holds the whole dataset and draws the same shuffle, frame masks and noise
for the whole global batch (the generators are seeded alike and advance alike); each
then takes a contiguous share of the batch's rows, the first `batch % world` processes
one row more. So N processes see exactly the batches, masks and noise that one process
would; each weights its loss by its share of the batch's observed frames, so the
gradients DistributedDataParallel averages are the one-process gradients, and a run may
resume on any number of processes. Only rank 0 writes; decisions that must agree (stop,
skip a step, patience) are taken collectively.
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

DEFAULT_TIMEOUT = 1800.0
"""Seconds a process waits in a collective for the others before the job ends: rank 0's
evaluation of the test and validation sets at the end of an epoch must fit in it."""


class LostProcess(RuntimeError):
    """Another process of the job died or stopped answering: the job cannot go on."""


@dataclass(frozen=True)
class Processes:
    """This process's place in the job: one process alone unless torchrun started several."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    timeout: float = DEFAULT_TIMEOUT

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def writer(self) -> bool:
        """Only rank 0 writes the run folder and prints."""
        return self.rank == 0

    def share(self, batch: int) -> slice:
        """This process's rows of a global batch of `batch` sequences."""
        base, extra = divmod(batch, self.world_size)
        start = self.rank * base + min(self.rank, extra)
        return slice(start, start + base + (1 if self.rank < extra else 0))

    def any(self, flag: bool) -> bool:
        """True on every process when it is true on one."""
        if not self.distributed:
            return flag
        value = torch.tensor([1.0 if flag else 0.0], device=self.device)
        with self.guard():
            dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item() > 0)

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sum over the processes (float64)."""
        if not self.distributed:
            return values
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        with self.guard():
            dist.all_reduce(tensor)
        return tensor.tolist()

    def from_writer(self, value: Any) -> Any:
        """Rank 0's `value` on every process (a small picklable object, e.g. a score)."""
        if not self.distributed:
            return value
        box = [value]
        with self.guard():
            dist.broadcast_object_list(box, src=0)
        return box[0]

    def wrap(self, model: nn.Module) -> nn.Module:
        """`model.elbo` as a module; under several processes, wrapped in DistributedDataParallel.

        DDP hands out gradients only of the parameters that required one when it was
        built: call again whenever the set of trained parameters changes (the Trainer
        does at each phase of the schedule).
        """
        module = _ELBO(model)
        if not self.distributed:
            return module
        with self.guard():
            return DistributedDataParallel(
                module,
                device_ids=[self.device] if self.device.type == "cuda" else None,
                **_NO_BUFFER_SYNC,
            )

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Turn a failed collective (a peer died, or the timeout ran out) into LostProcess."""
        if not self.distributed:
            yield
            return
        try:
            yield
        except (dist.DistError, RuntimeError) as err:
            ours = (LostProcess, torch.linalg.LinAlgError)
            if isinstance(err, ours) or not _is_collective_error(err):
                raise
            raise LostProcess(
                f"another process of the job died or stopped answering ({_gist(err)}; rank "
                f"{self.rank} of {self.world_size}, which waits {self.timeout:.0f} s at most)"
            ) from err


# The buffers (Q, R, mu0, Sigma0) are constants: no broadcast before every forward pass.
# PyTorch 2.13 renamed the option.
_NO_BUFFER_SYNC = (
    {"forward_sync_buffers": False}
    if "forward_sync_buffers" in inspect.signature(DistributedDataParallel).parameters
    else {"broadcast_buffers": False}
)


class _ELBO(nn.Module):
    """`model.elbo` as a forward pass, so DistributedDataParallel sees the call."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.model.elbo(*args, **kwargs)


def _gist(err: BaseException) -> str:
    """'Connection reset by peer' out of gloo's '[.../pair.cc:537] Read error [ip]:port:
    Connection reset by peer. This is typically caused by...'."""
    lines = str(err).strip().splitlines()
    text = re.sub(r"^\[[^\]]*\]\s*", "", lines[0]) if lines else type(err).__name__
    return text.split(". ")[0].rstrip(".")


def _is_collective_error(err: BaseException) -> bool:
    if isinstance(err, dist.DistError):
        return True
    text = str(err).lower()
    return any(
        word in text
        for word in ("gloo", "nccl", "connection", "timed out", "timeout", "peer", "socket")
    )


@contextmanager
def launched(device: torch.device, timeout: float = DEFAULT_TIMEOUT) -> Iterator[Processes]:
    """The job's processes: torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK,
    MASTER_ADDR, MASTER_PORT) with a process group initialised (NCCL on CUDA, gloo on
    CPU) and destroyed on leaving; one process alone without it. On CUDA each process
    takes the GPU of its LOCAL_RANK."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        yield Processes(device=device, timeout=timeout)
        return
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
        os.environ.setdefault("TORCH_NCCL_ASYNC_ERROR_HANDLING", "1")
    processes = Processes(rank, world, device, timeout)
    with processes.guard():
        dist.init_process_group(
            "nccl" if device.type == "cuda" else "gloo",
            timeout=timedelta(seconds=timeout),
            rank=rank,
            world_size=world,
        )
    try:
        yield processes
        # Every process leaves its last collective before any tears the group down: a
        # rank that destroyed it while another still talked to it was killed by gloo
        # ("terminate called without an active exception", SIGABRT) now and then.
        with processes.guard():
            dist.barrier()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()

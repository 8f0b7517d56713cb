"""Training throughput: sequences per second of the Trainer, fp32 and bf16, on one and on
all GPUs, beside the CPU.

    python benchmarks/bench_train.py --device cuda [--steps N] [--warmup N] [--batch-size B]
    python benchmarks/bench_train.py --device cpu [--processes N] [--threads N]

The model is the paper's box model (the default config: 32x32 frames, 20 steps, batch 32,
all three phases' parameters trained), on bouncing-ball frames. Each row times `--steps`
optimiser steps of `Trainer.run()` after `--warmup` steps: the whole step as a user runs
it (batch to the device, ELBO, backward, clipping, Adam, the step's report). Several
processes are started the way torchrun starts them (model.distributed: NCCL on CUDA,
gloo on CPU, 127.0.0.1) and share each global batch of `--batch-size` sequences, so the
schedule is the paper's whatever the number of processes; a figure is global sequences
per second. With --device cuda the CPU figure (one process, fp32) is measured too.

On the CPU it measures what `train` could default to: fp32 and bf16 autocast, each on
one thread and on torch's default, bf16 with the convolutions' weights channels-last and
with the encoder and decoder compiled (`torch.compile`, its compilation in the warm-up),
each `--repeats` times (median, min-max), and says which precision `--precision auto`
takes on this CPU and why (`model.precision`).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.multiprocessing as mp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_model import ball_frames

from model.config import KVAEConfig
from model.distributed import launched
from model.training import Trainer
from model.training_options import TrainingOptions


def throughput(
    device: str,
    precision: str,
    batch: int,
    steps: int,
    warmup: int,
    threads: int | None,
    variant: str = "plain",
) -> float:
    """Global sequences per second of this process's part of the job (rank 0's clock).
    `variant`: "plain", "channels-last" (the VAE's weights) or "compile" (encoder and
    decoder through torch.compile)."""
    if threads:
        torch.set_num_threads(threads)
    frames, _ = ball_frames(batch * (steps + warmup + 1), 20, seed=0)
    config = KVAEConfig(batch_size=batch, num_epochs=1000, only_vae_epochs=0, kf_update_steps=0)
    with launched(torch.device(device), timeout=600) as processes:
        options = TrainingOptions(config=config, device=str(processes.device), precision=precision)
        trainer = Trainer(frames, options=options, processes=processes)
        vae = (trainer.model.encoder, trainer.model.decoder)
        for part in vae:
            if variant == "channels-last":
                part.to(memory_format=torch.channels_last)
            elif variant == "compile":
                part.compile()
        events = trainer.run()
        for _ in range(warmup):
            next(events)
        start = time.perf_counter()
        for _ in range(steps):
            next(events)
        return batch * steps / (time.perf_counter() - start)


def _worker(rank: int, world: int, port: int, args: tuple, results) -> None:
    os.environ.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    speed = throughput(*args)
    if rank == 0:
        results.put(speed)


def measure(world: int, *args) -> float:
    if world == 1:
        return throughput(*args)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    results = mp.get_context("spawn").SimpleQueue()
    mp.spawn(_worker, args=(world, port, args, results), nprocs=world, join=True)
    return results.get()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=["cpu", "cuda"])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32, help="global batch (paper: 32)")
    parser.add_argument(
        "--processes", type=int, help="most processes (default: every GPU; on CPU one)"
    )
    parser.add_argument("--threads", type=int, help="torch CPU threads per process")
    parser.add_argument("--repeats", type=int, default=3, help="CPU: runs of each row")
    parser.add_argument("--no-compile", action="store_true", help="CPU: skip torch.compile")
    args = parser.parse_args()
    common = (args.batch_size, args.steps, args.warmup, args.threads)
    rows = []
    if args.device == "cuda":
        if not torch.cuda.is_available():
            print("no CUDA device: run with --device cpu", file=sys.stderr)
            return 1
        gpus = args.processes or torch.cuda.device_count()
        name = torch.cuda.get_device_name(0)
        for world in sorted({1, gpus}):
            for precision in ("fp32", "bf16"):
                speed = measure(world, "cuda", precision, *common)
                rows.append((f"cuda ({name})", world, precision, speed))
        rows.append(("cpu", 1, "fp32", measure(1, "cpu", "fp32", *common)))
    else:
        return cpu_table(args)
    print(f"torch {torch.__version__}, global batch {args.batch_size}, {args.steps} steps timed")
    print(f"{'device':32s} {'processes':>9s} {'precision':>9s} {'sequences/s':>12s}")
    for device, world, precision, speed in rows:
        print(f"{device:32s} {world:9d} {precision:>9s} {speed:12.1f}")
    return 0


def cpu_table(args: argparse.Namespace) -> int:
    """Every CPU configuration, `--repeats` times each, interleaved (a slow spell of the
    machine then touches all rows alike), as ratios to fp32 on torch's default threads."""
    from model.precision import resolve_precision

    default_threads = torch.get_num_threads()
    rows = [("fp32", None, "plain"), ("fp32", 1, "plain"), ("bf16", None, "plain"),
            ("bf16", 1, "plain"), ("bf16", None, "channels-last")]  # fmt: skip
    if not args.no_compile:
        rows.append(("bf16", None, "compile"))
    speeds: dict[tuple, list[float]] = {row: [] for row in rows}
    for _ in range(args.repeats):
        for row in rows:
            precision, threads, variant = row
            common = (args.batch_size, args.steps, args.warmup, threads or args.threads)
            speeds[row].append(measure(1, "cpu", precision, *common, variant))
    chosen, why = resolve_precision("auto", torch.device("cpu"))
    print(
        f"torch {torch.__version__}, CPU, global batch {args.batch_size}, {args.steps} "
        f"steps timed, {args.repeats} runs each; --precision auto takes {chosen}: {why}"
    )
    print(f"{'precision':>9s} {'threads':>7s} {'variant':>13s} {'seq/s median':>12s} "
          f"{'min-max':>13s} {'x fp32':>7s}")  # fmt: skip
    reference = statistics.median(speeds[rows[0]])
    for (precision, threads, variant), values in speeds.items():
        median = statistics.median(values)
        spread = f"{min(values):.1f}-{max(values):.1f}"
        shown = threads or args.threads or default_threads
        print(f"{precision:>9s} {shown:7d} {variant:>13s} {median:12.1f} {spread:>13s} "
              f"{median / reference:6.2f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

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
one thread and on torch's default, bf16 in two processes of one thread (as torchrun
would run it), bf16 with the convolutions' weights channels-last and
with the encoder and decoder compiled (`torch.compile`, its compilation in the warm-up),
each `--repeats` times (median, min-max), and says which precision `--precision auto`
takes on this CPU and why (`model.precision`). `--parts` then shows where a step's time
goes: the encoder, the Kalman pass with the ELBO's state-space terms (alpha network,
filter, smoother), the decoder with the frame likelihood, and the optimiser, each forward
and backward, in fp32 and in bf16. bf16 speeds up the first and the third only (the
filter runs in float32, as the paper's maths needs), which bounds what it can give.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import os
import socket
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.multiprocessing as mp
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_model import ball_frames

from model.config import KVAEConfig
from model.distributed import launched
from model.kvae import KVAE
from model.lgssm import StateSpace
from model.objective import elbo_terms
from model.training import Trainer
from model.training_options import TrainingOptions

TORCH_THREADS = torch.get_num_threads()  # torch's own choice, before any row changes it


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
    `variant`: "plain", "channels-last" (the VAE's weights), "compile" (encoder and
    decoder through torch.compile), or "2 processes" (plain; the caller starts them)."""
    # Every row sets its threads: a row that left them would run on the last row's.
    torch.set_num_threads(threads or TORCH_THREADS)
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
    parser.add_argument("--parts", action="store_true", help="CPU: also time each part of a step")
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
        status = cpu_table(args)
        if args.parts:
            parts_table(args)
        return status
    print(f"torch {torch.__version__}, global batch {args.batch_size}, {args.steps} steps timed")
    print(f"{'device':32s} {'processes':>9s} {'precision':>9s} {'sequences/s':>12s}")
    for device, world, precision, speed in rows:
        print(f"{device:32s} {world:9d} {precision:>9s} {speed:12.1f}")
    return 0


def cpu_table(args: argparse.Namespace) -> int:
    """Every CPU configuration, `--repeats` times each, interleaved (a slow spell of the
    machine then touches all rows alike), as ratios to fp32 on torch's default threads."""
    from model.precision import resolve_precision

    rows = [("fp32", None, "plain"), ("fp32", 1, "plain"), ("bf16", None, "plain"),
            ("bf16", 1, "plain"), ("bf16", None, "channels-last")]  # fmt: skip
    if not args.no_compile:
        rows.append(("bf16", None, "compile"))
    if (os.cpu_count() or 1) >= 2:  # as torchrun would: one process per core, one thread
        rows.append(("bf16", 1, "2 processes"))
    speeds: dict[tuple, list[float]] = {row: [] for row in rows}
    for _ in range(args.repeats):
        for row in rows:
            precision, threads, variant = row
            common = (args.batch_size, args.steps, args.warmup, threads or args.threads)
            world = 2 if variant == "2 processes" else 1
            speeds[row].append(measure(world, "cpu", precision, *common, variant))
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
        shown = threads or args.threads or TORCH_THREADS
        print(f"{precision:>9s} {shown:7d} {variant:>13s} {median:12.1f} {spread:>13s} "
              f"{median / reference:6.2f}x")  # fmt: skip
    return 0


PARTS = ("encoder", "Kalman pass + state-space terms", "decoder + likelihood", "optimiser")


def step_parts(
    model: KVAE,
    x: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    watch: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
) -> list[float]:
    """Seconds of each of PARTS, forward and backward, for one batch x, each part inside
    its own `watch()` (a FLOP counter, say). Each part starts from a detached input, so
    its backward is its own; the sum is a training step without the report and the
    schedule's bookkeeping."""
    ones = torch.ones(x.shape[:2])
    optimizer.zero_grad(set_to_none=True)
    codes: list[torch.Tensor] = []

    def encoder() -> None:
        mean, var = model.encode(x)
        (mean.sum() + var.sum()).backward()
        codes.append((mean + var.sqrt()).detach().requires_grad_())

    def kalman() -> None:
        a = codes[0]
        kp = model.kalman_pass(a, ones)
        noise = torch.randn_like(kp.smoothed_mean)
        ssm = StateSpace(kp.A, kp.C, model.Q, model.R, model.mu0, model.Sigma0, kp.offsets)
        zeros = torch.zeros(x.shape[:2])
        elbo_terms(
            zeros, zeros, a, ones, kp.smoothed_mean, kp.smoothed_cov, ssm, noise
        ).elbo.backward()

    def decoder() -> None:
        model.frame_log_likelihood(model.decode_logits(codes[0].detach()), x).sum().backward()

    def optimiser() -> None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), model.config.max_grad_norm)
        optimizer.step()

    seconds = []
    for part in (encoder, kalman, decoder, optimiser):
        with watch():
            start = time.perf_counter()
            part()
            seconds.append(time.perf_counter() - start)
    return seconds


def part_flops(model: KVAE, x: torch.Tensor) -> list[int]:
    """Floating-point operations of each of PARTS (torch's FLOP counter: matrix products
    and convolutions, forward and backward), counted on a copy of the model."""
    model = copy.deepcopy(model)
    counters: list[FlopCounterMode] = []

    def watch() -> FlopCounterMode:
        counters.append(FlopCounterMode(display=False))
        return counters[-1]

    step_parts(model, x, torch.optim.SGD(model.parameters(), lr=0.0), watch)
    return [c.get_total_flops() for c in counters]


def parts_table(args: argparse.Namespace) -> None:
    """Median milliseconds of each part of a step, fp32 and bf16 interleaved step by
    step, the FLOP rate each reached, and what bf16 could give at most were the parts it
    speeds up free."""
    torch.set_num_threads(args.threads or TORCH_THREADS)
    torch.manual_seed(0)
    frames, _ = ball_frames(args.batch_size, 20, seed=0)
    models = {}
    for precision in ("fp32", "bf16"):
        model = KVAE(KVAEConfig(batch_size=args.batch_size)).train()
        model.vae_precision = torch.bfloat16 if precision == "bf16" else None
        models[precision] = (model, torch.optim.Adam(model.parameters(), lr=1e-4))
    x = models["fp32"][0].prepare_frames(torch.as_tensor(frames))
    flops = part_flops(models["fp32"][0], x)
    seconds: dict[str, list[list[float]]] = {p: [] for p in models}
    for i in range(args.warmup + args.steps * args.repeats):
        for precision, (model, optimizer) in models.items():
            parts = step_parts(model, x, optimizer)
            if i >= args.warmup:
                seconds[precision].append(parts)
    ms = {p: [1000 * statistics.median(col) for col in zip(*rows, strict=True)]
          for p, rows in seconds.items()}  # fmt: skip
    total = {p: sum(v) for p, v in ms.items()}
    print(f"\nwhere a step's time goes ({args.steps * args.repeats} steps each, medians; "
          f"GFLOP/s from torch's FLOP counter)")  # fmt: skip
    print(f"{'part':32s} {'GFLOP':>6s} {'fp32 ms':>8s} {'share':>6s} {'GFLOP/s':>8s} "
          f"{'bf16 ms':>8s} {'share':>6s} {'GFLOP/s':>8s} {'x fp32':>7s}")  # fmt: skip
    rows = zip(PARTS, flops, ms["fp32"], ms["bf16"], strict=True)
    for name, flop, f, b in rows:
        print(f"{name:32s} {flop / 1e9:6.2f} {f:8.1f} {f / total['fp32']:6.0%} "
              f"{flop / f / 1e6:8.1f} {b:8.1f} {b / total['bf16']:6.0%} "
              f"{flop / b / 1e6:8.1f} {f / b:6.2f}x")  # fmt: skip
    ratio = total["fp32"] / total["bf16"]
    print(f"{'sum':32s} {sum(flops) / 1e9:6.2f} {total['fp32']:8.1f} {'':6s} {'':8s} "
          f"{total['bf16']:8.1f} {'':6s} {'':8s} {ratio:6.2f}x")  # fmt: skip
    untouched = ms["fp32"][1] + ms["fp32"][3]
    print(f"bf16 autocasts the encoder and the decoder only: were they free, a step would "
          f"be {total['fp32'] / untouched:.1f}x fp32 at most (Amdahl)")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())

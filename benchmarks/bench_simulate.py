"""How fast the simulator makes data sets, beside a naive reference measured in the same run.

    python benchmarks/bench_simulate.py [--sequences 2000] [--command-sequences 5000]

Prints sequences per second for each scene (32 x 32, T = 20, one process): ours (batched
pymunk spaces with substeps, vectorised numpy rasteriser) and a reference built the way the
original generator works (one pymunk step per frame, no substeps, the frame drawn one at a
time over the whole image). Then times the whole ``kvae-studio simulate box`` command,
interpreter start and file writing included.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from kvae_studio.sim import SCENES, launch_states, scene_params, simulate

STEPS = 20


def reference(name: str, sequences: int, seed: int = 0) -> np.ndarray:
    """The original's way: per sequence, per frame: draw the whole frame, then one dt step."""
    import pymunk

    params = scene_params(name)
    start, velocity = launch_states(params, sequences, seed)
    n = params.size
    px, py = np.meshgrid(np.arange(n) + 0.5, np.arange(n) + 0.5)
    walls = np.zeros((n, n), dtype=np.float32)
    images = np.empty((sequences, STEPS, n, n), dtype=np.float32)
    for s in range(sequences):
        space = pymunk.Space()
        space.gravity = params.gravity
        for a, b in params.wall_segments():
            wall = pymunk.Segment(space.static_body, tuple(a), tuple(b), 0.5)
            wall.elasticity = params.wall_elasticity
            space.add(wall)
        body = pymunk.Body(1.0, math.inf)
        body.position = tuple(start[s])
        body.velocity = tuple(velocity[s])
        ball = pymunk.Circle(body, params.ball_radius)
        ball.elasticity = params.ball_elasticity
        space.add(body, ball)
        for t in range(STEPS):
            x, y = body.position
            frame = walls.copy()
            frame[np.hypot(px - x, py - y) < params.footprint_radius()] = 1.0
            images[s, t] = frame
            space.step(params.dt)
    return images


def rate(fn, sequences: int) -> tuple[float, float]:
    """Sequences per second of wall-clock time and of CPU time (steadier on a busy machine)."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(sequences)
    return sequences / (time.perf_counter() - wall), sequences / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=2000, help="per scene, ours")
    parser.add_argument("--reference-sequences", type=int, default=300)
    parser.add_argument("--command-sequences", type=int, default=5000)
    args = parser.parse_args()

    simulate("box", 50)  # warm up imports and caches
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"sequences per second, {STEPS} frames of 32x32, one process, simulate() in memory")
    print(f"({os.cpu_count()} cores, load average {load:.1f}; cpu = per second of CPU time)")
    print(f"{'scene':<12} {'ours':>8} {'ours cpu':>9} {'reference':>10} {'ref cpu':>8}")
    for name in SCENES:
        ours = rate(lambda n, name=name: simulate(name, n, STEPS, seed=1), args.sequences)
        ref = rate(lambda n, name=name: reference(name, n, seed=1), args.reference_sequences)
        print(f"{name:<12} {ours[0]:>8.0f} {ours[1]:>9.0f} {ref[0]:>10.0f} {ref[1]:>8.0f}")
    print("reference: one pymunk space per sequence, one step per frame (no substeps: the")
    print("           ball can cross walls), the whole frame drawn per frame with numpy")

    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "box.npz")
        command = [sys.executable, "-m", "kvae_studio", "simulate", "box", "-q"]
        command += ["--sequences", str(args.command_sequences), "--out", out]
        cpu_before = _children_cpu()
        started = time.perf_counter()
        subprocess.run(command, check=True)
        seconds = time.perf_counter() - started
        cpu = _children_cpu() - cpu_before
        size = os.path.getsize(out) / 1e6
    n = args.command_sequences
    print(
        f"\nkvae-studio simulate box --sequences {n}: {seconds:.2f} s wall "
        f"({n / seconds:.0f} sequences/s), {cpu:.2f} s CPU ({n / cpu:.0f} sequences/CPU-s), "
        f"{size:.1f} MB written, interpreter start included"
    )


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()

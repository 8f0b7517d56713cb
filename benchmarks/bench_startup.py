"""How long the studio takes from launch to its first result, beside a bare torch import.

Times whole processes, alternating them so that a change in the machine's speed hits
every row alike, and prints medians and spreads in seconds and each row's ratio to the
bare `import torch` (issue 16's target: the studio at most 1.4x):

- `kvae-studio --screenshot` (offscreen): launch, shipped model, first result drawn, quit;
- `python -c "import torch"`: the reference;
- `python -c "import PySide6.QtWidgets, pyqtgraph"`: what a torch-free window would cost;
- importing the window's module (`kvae_studio.app.main_window`): today it imports torch.

With `--busy N`, N other processes spin on the CPU throughout (a training beside the
studio; issue 27's target under one busy core of two: at most 1.6x), and the rows
are timed under that load, the reference too.

    python benchmarks/bench_startup.py [--runs 5] [--busy 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def commands(screenshot: Path) -> dict[str, list[str]]:
    py = sys.executable
    return {
        "kvae-studio --screenshot (launch to first result)": [
            py, "-m", "kvae_studio", "--screenshot", str(screenshot),
        ],
        "reference: python -c 'import torch'": [py, "-c", "import torch"],
        "python -c 'import PySide6.QtWidgets, pyqtgraph'": [
            py, "-c", "import PySide6.QtWidgets, pyqtgraph",
        ],
        "import kvae_studio.app.main_window": [py, "-c", "import kvae_studio.app.main_window"],
    }  # fmt: skip


def time_once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
    return time.perf_counter() - start


@contextmanager
def busy_cores(count: int):
    """`count` processes that keep a core each busy until the block ends."""
    spin = "while True: pass"
    spinners = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(count)]
    try:
        yield
    finally:
        for process in spinners:
            process.kill()
            process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--busy", type=int, default=0, help="processes spinning meanwhile")
    args = parser.parse_args(argv)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        env["KVAE_STUDIO_HOME"] = tmp  # no user settings, no recent files
        rows = commands(Path(tmp) / "shot.png")
        for argv_ in rows.values():  # warm the file cache once, not timed
            time_once(argv_, env)
        times: dict[str, list[float]] = {name: [] for name in rows}
        with busy_cores(args.busy):
            for _ in range(args.runs):
                for name, argv_ in rows.items():
                    times[name].append(time_once(argv_, env))
    torch_median = statistics.median(times["reference: python -c 'import torch'"])
    load = f", {args.busy} busy process(es) beside" if args.busy else ""
    print(f"KVAE Studio start-up, {args.runs} alternating runs, {os.cpu_count()} CPUs{load}")
    print(f"{'process':52s} {'median s':>9s} {'min-max s':>12s} {'x torch':>8s}")
    for name, values in times.items():
        median = statistics.median(values)
        spread = f"{min(values):.2f}-{max(values):.2f}"
        print(f"{name:52s} {median:9.2f} {spread:>12s} {median / torch_median:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""How fast the Dynamics tab fills: its regime map, against one Explore `impute` call
timed in the same process in the same run.

    python benchmarks/bench_dynamics.py [--repeats N] [--data FILE] [--model FILE]

The tab's work runs in the analysis process (`services.work`, one torch thread, as the
studio starts it) with the model and the data set already loaded, as they are after the
tab's first request. Rows:
  - one `impute` of one sequence (T = 20, the planning mask), the reference;
  - the regime map's first 100 sequences (the first streamed piece reaching the parent);
  - the whole data set's regime map;
  - the ratio first-100 / impute (issue 24's target: at most 20).
Each figure is the median over repeats; the spread beside it is the inter-quartile range.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the child imports time_impute

TASKS = "kvae_studio.services.dynamics_tasks"


def time_impute(ctx, model_path: str, data_path: str, repeats: int) -> list[float]:
    """In the analysis process: seconds per `impute` of sequence 0 under the planning
    mask, after a warm-up, on the model the tasks have loaded (one torch thread)."""
    import torch

    from kvae_studio.services import dynamics_tasks
    from kvae_studio.services.dynamics import Source
    from kvae_studio.services.model_ref import model_ref_of_file
    from model.imputation import impute
    from model.masks import planning_mask

    model, images = dynamics_tasks._checked(Source(model_ref_of_file(model_path), data_path))
    x = torch.as_tensor(images[:1])
    cfg = model.config
    mask = torch.as_tensor(planning_mask(x.shape[1], cfg.t_init_mask, cfg.t_steps_mask))[None]
    for _ in range(5):
        impute(model, x, mask)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        impute(model, x, mask)
        times.append(time.perf_counter() - start)
    return times


class Listener:
    """The parent's end: when each event of a task arrived."""

    def __init__(self) -> None:
        self.events: list = []
        self.cond = threading.Condition()

    def __call__(self, event) -> None:
        with self.cond:
            self.events.append((time.perf_counter(), event))
            self.cond.notify_all()

    def run(self, process, target: str, *args):
        """(seconds to the first item, seconds to the end, the end event)."""
        from kvae_studio.services import work

        start = time.perf_counter()
        task = process.submit(target, *args)

        def ended() -> bool:
            return any(e.task == task and isinstance(e, work.ENDINGS) for _, e in self.events)

        with self.cond:
            self.cond.wait_for(ended, 600)
        mine = [(t - start, e) for t, e in self.events if e.task == task]
        items = [t for t, e in mine if isinstance(e, work.Item)]
        end_time, end = mine[-1]
        if isinstance(end, work.Failed):
            raise SystemExit(f"{target} failed: {end.message}")
        return (items[0] if items else end_time), end_time, end


def quartiles(values: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return statistics.median(values), q[2] - q[0]


def main() -> int:
    default_data = ROOT.parent / "shared" / "data" / "original-box-1000.npz"
    if not default_data.exists():
        default_data = ROOT / "tests" / "data" / "original-box.npz"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--data", default=str(default_data))
    parser.add_argument("--model", default=str(ROOT / "resources" / "models" / "box.safetensors"))
    args = parser.parse_args()

    from kvae_studio.services import work
    from kvae_studio.services.dynamics import Source
    from kvae_studio.services.model_ref import model_ref_of_file

    listener = Listener()
    process = work.WorkProcess(listener, name="kvae-analysis").start()
    try:
        source = Source(model_ref_of_file(args.model), args.data)
        *_, summary = listener.run(process, f"{TASKS}:summary", source)  # loads both
        n = summary.value.sequences
        listener.run(process, f"{TASKS}:regime_map", source)  # warm-up
        firsts, wholes = [], []
        for _ in range(args.repeats):
            first, whole, _end = listener.run(process, f"{TASKS}:regime_map", source)
            firsts.append(first)
            wholes.append(whole)
        *_, timed = listener.run(
            process, "bench_dynamics:time_impute", args.model, args.data, 3 * args.repeats
        )
        impute_times = timed.value
    finally:
        process.close()

    impute_ms, impute_iqr = (1000 * v for v in quartiles(impute_times))
    first_ms, first_iqr = (1000 * v for v in quartiles(firsts))
    whole_ms, whole_iqr = (1000 * v for v in quartiles(wholes))
    ratios = sorted(f / statistics.median(impute_times) for f in firsts)
    print(f"model {Path(args.model).name}, data {Path(args.data).name} ({n} sequences)")
    print("analysis process: one torch thread, model and data loaded")
    print(f"{'one impute (T=20, planning mask)':40s} {impute_ms:8.1f} ms  (IQR {impute_iqr:.1f})")
    print(f"{'regime map, first 100 sequences':40s} {first_ms:8.1f} ms  (IQR {first_iqr:.1f})")
    print(f"{f'regime map, all {n} sequences':40s} {whole_ms:8.1f} ms  (IQR {whole_iqr:.1f})")
    print(
        f"first 100 / one impute: {first_ms / impute_ms:.1f}x "
        f"(range over repeats {ratios[0]:.1f}-{ratios[-1]:.1f}x; target at most 20x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

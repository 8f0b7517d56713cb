"""Which epoch each selection rule would keep, from a run's validation figures alone.

A run trained with `--keep-best` on a mean score (smoothing+filtering, smoothing,
filtering) logs, per epoch, the figures the score averages (planning and random 0.5,
smoothed and filtered). This prints, for each rule, the epoch it picks and that epoch's
figures, beside the last epoch (the paper's choice), so a rule that weighs filtering can
be weighed against the one a run used without scoring anything again, and without
looking at a test file:

    python benchmarks/selection_rules.py runs/box

Epochs whose records lack the figures (runs logged before 2026-12-07) are skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

FIGURES = ("planning smoothing", "planning filtering", "random smoothing", "random filtering")


def _mean(*names: str) -> Callable[[dict[str, float]], float]:
    return lambda figures: sum(figures[n] for n in names) / len(names)


RULES: dict[str, Callable[[dict[str, float]], float]] = {
    "smoothing+filtering": _mean(*FIGURES),
    "smoothing": _mean("planning smoothing", "random smoothing"),
    "filtering": _mean("planning filtering", "random filtering"),
    "planning filtering": _mean("planning filtering"),
}
"""Each rule's score of an epoch's figures (lower is better)."""


def epoch_figures(run: Path) -> dict[int, dict[str, float]]:
    """{epoch: its four validation figures} from a run's log.jsonl."""
    figures = {}
    for line in (run / "log.jsonl").read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a killed run's half line
        logged = (record.get("validation") or {}).get("figures") or {}
        if record.get("kind") == "epoch" and all(name in logged for name in FIGURES):
            figures[int(record["epoch"])] = {name: float(logged[name]) for name in FIGURES}
    return figures


def picks(figures: dict[int, dict[str, float]]) -> dict[str, int]:
    """{rule: the epoch it keeps} (the first of equal scores, as --keep-best), and "last"."""
    chosen = {
        name: min(figures, key=lambda e, r=rule: (r(figures[e]), e)) for name, rule in RULES.items()
    }
    chosen["last"] = max(figures)
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders (with log.jsonl)")
    args = parser.parse_args()
    for run in args.runs:
        figures = epoch_figures(run)
        if not figures:
            print(f"{run}: no epoch logs its validation figures", file=sys.stderr)
            continue
        print(f"{run} ({len(figures)} epochs with figures)")
        print(f"  {'rule':22s} {'epoch':>5s}  " + "  ".join(f"{n:>18s}" for n in FIGURES))
        for rule, epoch in picks(figures).items():
            values = "  ".join(f"{figures[epoch][n]:18.5f}" for n in FIGURES)
            print(f"  {rule:22s} {epoch:5d}  {values}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

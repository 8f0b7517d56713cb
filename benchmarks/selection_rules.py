"""Which epoch each selection rule would keep, from a run's validation figures alone.

A run trained with `--keep-best` on a mean score (smoothing+filtering, smoothing,
filtering) logs, per epoch, the figures the score averages (planning and random 0.5,
smoothed and filtered). This prints, for each rule, the epoch it picks and that epoch's
figures, beside the last epoch (the paper's choice), so a rule that weighs filtering can
be weighed against the one a run used without scoring anything again, and without
looking at a test file:

    python benchmarks/selection_rules.py runs/box [--patience 8]

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


def kept(
    figures: dict[int, dict[str, float]], rule: Callable, patience: int | None = None
) -> tuple[int, int | None]:
    """(the epoch `rule` keeps, the epoch the run stops after or None), as `--keep-best`
    with `--patience` does it (model.selection.BestTracker): a strictly lower score is a
    new best; `patience` epochs in a row without one end the run."""
    best_epoch, best, since = 0, float("inf"), 0
    for epoch in sorted(figures):
        score = rule(figures[epoch])
        if score < best:
            best_epoch, best, since = epoch, score, 0
        else:
            since += 1
            if patience is not None and since >= patience:
                return best_epoch, epoch
    return best_epoch, None


def picks(figures: dict[int, dict[str, float]], patience: int | None = None) -> dict[str, int]:
    """{rule: the epoch it keeps} (the first of equal scores, as --keep-best), and "last";
    with `patience`, each rule as if the run had used it with that patience."""
    chosen = {name: kept(figures, rule, patience)[0] for name, rule in RULES.items()}
    chosen["last"] = max(figures)
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders (with log.jsonl)")
    parser.add_argument("--patience", type=int, help="each rule as in a run with this --patience")
    args = parser.parse_args()
    for run in args.runs:
        figures = epoch_figures(run)
        if not figures:
            print(f"{run}: no epoch logs its validation figures", file=sys.stderr)
            continue
        print(f"{run} ({len(figures)} epochs with figures)")
        print(f"  {'rule':22s} {'epoch':>5s}  " + "  ".join(f"{n:>18s}" for n in FIGURES))
        for rule, epoch in picks(figures, args.patience).items():
            values = "  ".join(f"{figures[epoch][n]:18.5f}" for n in FIGURES)
            print(f"  {rule:22s} {epoch:5d}  {values}")
        if args.patience is not None:
            stops = {name: kept(figures, r, args.patience)[1] for name, r in RULES.items()}
            print(f"  with --patience {args.patience}, the run stops after epoch: {stops}"
                  " (None: it would still run)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

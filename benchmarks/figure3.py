"""A box model beside the paper's Figure 3, over several seeds of the paper's protocol.

Reads sweep CSVs of one model (`kvae-studio evaluate MODEL original-box-1000.npz
--protocol paper --seed S --sweep FILE`, one file per seed) and prints, per point of the
two sweeps, the paper's figure, the mean over the seeds and their spread (min-max), and
counts the points whose mean is at or below the paper's + the tolerance (0.0002: the
figures were read off a plot):

    for s in 0 1 2 3 4; do kvae-studio evaluate box.safetensors original-box-1000.npz \\
        --protocol paper --seed $s --sweep box-seed$s.csv; done
    python benchmarks/figure3.py box-seed*.csv
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.sweep_csv import PAPER_FIGURE_3_BOX

TOLERANCE = 0.0002


def read(path: Path) -> dict[tuple[str, float, str], float]:
    """{(kind, x, estimate): Hamming distance} of one sweep CSV (its one model)."""
    out = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            for estimate in ("smoothing", "filtering"):
                out[(row["kind"], float(row["x"]), estimate)] = float(row[estimate])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweeps", nargs="+", type=Path, help="one CSV per seed")
    parser.add_argument("--markdown", action="store_true", help="as a Markdown table")
    args = parser.parse_args()
    runs = [read(p) for p in args.sweeps]
    total = {"smoothing": 0, "filtering": 0}
    counts = {"smoothing": 0, "filtering": 0}
    for kind, figure in PAPER_FIGURE_3_BOX.items():
        for estimate in ("smoothing", "filtering"):
            cells, below = [], 0
            for x, paper in zip(figure["x"], figure[estimate], strict=True):
                values = [run[(kind, float(x), estimate)] for run in runs]
                mean = statistics.fmean(values)
                ok = mean <= paper + TOLERANCE
                below += ok
                cells.append(
                    f"{mean:.4f} ({min(values):.4f}-{max(values):.4f}){'' if ok else ' *'}"
                )
            total[estimate] += len(figure["x"])
            counts[estimate] += below
            xs = ", ".join(str(x) for x in figure["x"])
            paper_row = " | ".join(f"{v:.4f}" for v in figure[estimate])
            if args.markdown:
                columns = " | ".join(str(x) for x in figure["x"])
                print(f"\n| {kind}, {estimate} | {columns} | at/below |")
                print("|---" * (len(cells) + 2) + "|")
                print(f"| Figure 3 | {paper_row} | |")
                print(f"| mean (min-max) | {' | '.join(cells)} | {below}/{len(cells)} |")
            else:
                print(f"{kind} {estimate} at x = {xs}: {below} of {len(cells)} at or below")
                print(f"  Figure 3: {paper_row}")
                print("  ours:     " + "; ".join(cells))
    print(f"\n{len(runs)} seeds; mean at or below Figure 3 (+{TOLERANCE}): smoothing "
          f"{counts['smoothing']} of {total['smoothing']}, filtering {counts['filtering']} of "
          f"{total['filtering']}  (* marks the points above)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

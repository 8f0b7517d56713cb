"""Does bf16 training keep quality? Validation curves of fp32 and bf16 runs, side by side.

Reads the epoch records of training runs made with `--keep-best` (their `log.jsonl`),
prints each run's validation score per epoch and, per epoch and variant, whether its runs
lie within the fp32 runs' spread (min-max), below it (better) or above it (worse), then
each variant's mean beside fp32's; and draws the curves as a PNG:

    for seed in 0 1; do for p in fp32 bf16; do
      kvae-studio train legacy.npz --validation val.npz --keep-best smoothing+filtering \\
          --epochs 10 --precision $p --seed $seed --out quality-$p-$seed
    done; done
    python benchmarks/precision_quality.py quality-* --png docs/precision-quality.png

A run's variant is its folder name without the seed (`quality-bf16-1`: `quality-bf16`);
a variant whose name holds `fp32` is the reference.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def validation_curve(run: Path) -> dict[int, float]:
    """{epoch: validation score} from a run's log."""
    curve = {}
    for line in (run / "log.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record.get("kind") == "epoch" and record.get("validation"):
            curve[record["epoch"]] = record["validation"]["score"]
    return curve


def draw(curves: dict[str, dict[int, float]], path: Path, metric: str) -> None:
    import pyqtgraph as pg
    from pyqtgraph.exporters import ImageExporter
    from PySide6.QtWidgets import QApplication

    _app = QApplication.instance() or QApplication([])
    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    plot = pg.PlotWidget()
    plot.resize(640, 400)
    plot.addLegend(offset=(-10, 10))
    plot.setLabel("bottom", "epoch")
    plot.setTitle(f"validation {metric} (Hamming distance, lower is better)")
    plot.getAxis("left").enableAutoSIPrefix(False)
    palette = [(255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189)]
    colours = {}
    for name, curve in sorted(curves.items()):
        kind = variant(name)
        if kind not in colours:
            colours[kind] = (31, 119, 180) if "fp32" in kind else palette[len(colours) % 4]
        style = pg.mkPen(colours[kind], width=2)
        epochs = sorted(curve)
        plot.plot(epochs, [curve[e] for e in epochs], pen=style, symbol="o", symbolSize=5,
                  symbolBrush=colours[kind], name=name)  # fmt: skip
    plot.getAxis("left").setWidth(60)
    plot.show()  # laid out (offscreen) before the export, or the axes lose their labels
    _app.processEvents()
    ImageExporter(plot.plotItem).export(str(path))


def variant(run_name: str) -> str:
    """A run's variant: its name without the trailing seed ("quality-bf16-1" -> "quality-bf16")."""
    head, _, tail = run_name.rpartition("-")
    return head if head and tail.isdigit() else run_name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--png", type=Path, help="draw the curves here")
    args = parser.parse_args()
    curves = {run.name: validation_curve(run) for run in args.runs}
    groups: dict[str, dict[str, dict[int, float]]] = {}
    for name, curve in curves.items():
        groups.setdefault(variant(name), {})[name] = curve
    reference = next((k for k in groups if "fp32" in k), None)
    if reference is None:
        print("no fp32 run to compare with", file=sys.stderr)
        return 2
    fp32 = groups.pop(reference)
    epochs = sorted(set.intersection(*(set(c) for c in curves.values())))
    names = " ".join(f"{n:>16s}" for n in curves)
    print(f"{'epoch':>5s} {names}  " + "  ".join(f"{k:>16s}" for k in groups))
    inside = {k: 0 for k in groups}
    for epoch in epochs:
        low = min(c[epoch] for c in fp32.values())
        high = max(c[epoch] for c in fp32.values())
        verdicts = []
        for kind, runs in groups.items():
            values = [c[epoch] for c in runs.values()]
            if all(low <= v <= high for v in values):
                verdicts.append("within")
                inside[kind] += 1
            else:
                verdicts.append("worse" if max(values) > high else "better")
        values = " ".join(f"{c[epoch]:16.4f}" for c in curves.values())
        print(f"{epoch:5d} {values}  " + "  ".join(f"{v:>16s}" for v in verdicts))
    last = epochs[-1]

    def mean(runs: dict[str, dict[int, float]], epoch: int) -> float:
        return statistics.fmean(c[epoch] for c in runs.values())

    ends = [c[last] for c in fp32.values()]
    print(f"fp32 ({len(fp32)} runs) at epoch {last}: mean {mean(fp32, last):.4f}, "
          f"{min(ends):.4f}-{max(ends):.4f}")  # fmt: skip
    for kind, runs in groups.items():
        gap = statistics.fmean(mean(runs, e) / mean(fp32, e) - 1 for e in epochs)
        print(f"{kind} ({len(runs)} runs): within the fp32 spread at {inside[kind]} of "
              f"{len(epochs)} epochs; at epoch {last} mean {mean(runs, last):.4f}; its mean "
              f"over the epochs is {100 * gap:+.1f} % of fp32's")  # fmt: skip
    if args.png:
        draw(curves, args.png, "smoothing+filtering")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

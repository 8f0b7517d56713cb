"""Does bf16 training keep quality? Validation curves of fp32 and bf16 runs, side by side.

Reads the epoch records of training runs made with `--keep-best` (their `log.jsonl`),
prints each run's validation score per epoch and, per epoch, whether every bf16 run lies
within the fp32 runs' spread (min-max), and draws the curves as a PNG:

    for seed in 0 1; do for p in fp32 bf16; do
      kvae-studio train legacy.npz --validation val.npz --keep-best smoothing+filtering \\
          --epochs 10 --precision $p --seed $seed --out quality-$p-$seed
    done; done
    python benchmarks/precision_quality.py quality-* --png docs/precision-quality.png

A run's precision is read from its folder name (`fp32` or `bf16` in it).
"""

from __future__ import annotations

import argparse
import json
import os
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
    colours = {"fp32": (31, 119, 180), "bf16": (255, 127, 14)}
    for name, curve in sorted(curves.items()):
        precision = "bf16" if "bf16" in name else "fp32"
        style = pg.mkPen(colours[precision], width=2)
        epochs = sorted(curve)
        plot.plot(epochs, [curve[e] for e in epochs], pen=style, symbol="o", symbolSize=5,
                  symbolBrush=colours[precision], name=name)  # fmt: skip
    plot.getAxis("left").setWidth(60)
    plot.show()  # laid out (offscreen) before the export, or the axes lose their labels
    _app.processEvents()
    ImageExporter(plot.plotItem).export(str(path))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--png", type=Path, help="draw the curves here")
    args = parser.parse_args()
    curves = {run.name: validation_curve(run) for run in args.runs}
    fp32 = {n: c for n, c in curves.items() if "bf16" not in n}
    bf16 = {n: c for n, c in curves.items() if "bf16" in n}
    epochs = sorted(set.intersection(*(set(c) for c in curves.values())))
    print(f"{'epoch':>5s} " + " ".join(f"{n:>16s}" for n in curves) + "  bf16 within fp32 spread")
    inside = 0
    for epoch in epochs:
        low = min(c[epoch] for c in fp32.values())
        high = max(c[epoch] for c in fp32.values())
        ok = all(low <= c[epoch] <= high for c in bf16.values())
        best_bf16 = min(c[epoch] for c in bf16.values())
        verdict = "yes" if ok else ("better" if best_bf16 < low else "no")
        inside += ok
        values = " ".join(f"{c[epoch]:16.4f}" for c in curves.values())
        print(f"{epoch:5d} {values}  {verdict}")
    last = epochs[-1]
    print(f"last epoch {last}: fp32 {[round(c[last], 4) for c in fp32.values()]}, "
          f"bf16 {[round(c[last], 4) for c in bf16.values()]}; "
          f"bf16 within the fp32 spread at {inside} of {len(epochs)} epochs")  # fmt: skip
    if args.png:
        draw(curves, args.png, "smoothing+filtering")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""benchmarks/selection_rules.py: the epoch each rule keeps, from a log's validation figures."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "selection_rules.py"
spec = importlib.util.spec_from_file_location("selection_rules", SCRIPT)
rules = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rules)

# Epoch 2 smooths best, epoch 3 filters best, epoch 4 (the last) is worse at both; epoch 1
# was logged before the figures were.
FIGURES = {
    2: {"planning smoothing": 0.015, "planning filtering": 0.026,
        "random smoothing": 0.006, "random filtering": 0.010},
    3: {"planning smoothing": 0.018, "planning filtering": 0.021,
        "random smoothing": 0.007, "random filtering": 0.009},
    4: {"planning smoothing": 0.019, "planning filtering": 0.027,
        "random smoothing": 0.008, "random filtering": 0.011},
}  # fmt: skip


def test_each_rule_keeps_its_epoch_and_the_last_is_listed(tmp_path):
    lines = [{"kind": "epoch", "epoch": 1, "validation": {"score": 0.02}}]
    for epoch, figures in FIGURES.items():
        lines.append({"kind": "step", "epoch": epoch, "step": 10 * epoch, "terms": {}})
        lines.append({"kind": "epoch", "epoch": epoch, "validation": {"figures": figures}})
    text = "\n".join(json.dumps(line) for line in lines) + '\n{"kind": "ep'  # a killed run
    (tmp_path / "log.jsonl").write_text(text)
    assert set(rules.epoch_figures(tmp_path)) == {2, 3, 4}
    chosen = rules.picks(rules.epoch_figures(tmp_path))
    assert chosen == {
        "smoothing+filtering": 3,  # mean 0.01375 against epoch 2's 0.01425
        "smoothing": 2,
        "filtering": 3,
        "planning filtering": 3,
        "last": 4,
    }
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, check=True
    )
    rows = {line.split()[0]: line.split()[1] for line in done.stdout.splitlines()[2:]}
    assert rows["filtering"] == "3" and rows["last"] == "4" and rows["smoothing"] == "2"


def test_patience_keeps_the_best_before_the_run_would_have_stopped():
    """As model.selection.BestTracker: a strictly lower score is a new best, `patience`
    epochs in a row without one stop the run; the best after that is never seen."""
    scores = {1: 0.5, 2: 0.4, 3: 0.4, 4: 0.45, 5: 0.3, 6: 0.2}
    figures = {e: dict.fromkeys(rules.FIGURES, v) for e, v in scores.items()}
    rule = rules.RULES["smoothing+filtering"]
    assert rules.kept(figures, rule) == (6, None)
    assert rules.kept(figures, rule, patience=3) == (6, None)  # two misses in a row: goes on
    assert rules.kept(figures, rule, patience=2) == (2, 4)  # 3 ties 2: no new best
    assert rules.picks(figures, patience=2)["smoothing"] == 2
    assert rules.picks(figures, patience=2)["last"] == 6

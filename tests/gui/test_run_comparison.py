"""Compare runs (issue 27): the workspace's runs overlaid with a legend, against epoch,
step or wall time, a readout of the values under the pointer, the curves as CSV. Driven
by keys and the mouse on the real widget."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from panel_helpers import choose, click
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from kvae_studio.app.panels.run_comparison import RunComparison
from kvae_studio.app.panels.workspace import Workspace

SCORES = {"fp32-seed0": [0.030, 0.025, 0.020], "bf16-seed0": [0.029, 0.024, 0.021]}
SECONDS = {"fp32-seed0": 60.0, "bf16-seed0": 30.0}


def write_run(root, name: str) -> None:
    run = root / "runs" / name
    run.mkdir(parents=True)
    lines = [json.dumps({"kind": "step", "step": 1, "epoch": 1, "terms": {}})]
    for i, score in enumerate(SCORES[name]):
        record = {"kind": "epoch", "epoch": i + 1, "epochs": 3, "step": 156 * (i + 1),
                  "train_elbo": -10.0 + i, "test_elbo": None, "hamming": {},
                  "seconds": SECONDS[name], "validation": {"score": score}}  # fmt: skip
        lines.append(json.dumps(record))
    (run / "log.jsonl").write_text("\n".join(lines) + "\n")


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    """A workspace holding the two runs of SCORES."""
    workspace = Workspace(tmp_path / "studio")
    for name in SCORES:
        write_run(workspace.root, name)
    return workspace


@pytest.fixture
def comparison(qtbot, qapp, workspace):
    widget = RunComparison(workspace)
    qtbot.addWidget(widget)
    widget.resize(900, 500)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def tick(widget: RunComparison, name: str) -> None:
    rows = [widget.run_list.item(i).text() for i in range(widget.run_list.count())]
    widget.run_list.setFocus()
    QTest.mouseClick(
        widget.run_list.viewport(),
        Qt.MouseButton.LeftButton,
        pos=widget.run_list.visualItemRect(widget.run_list.item(rows.index(name))).center(),
    )
    QTest.keyClick(widget.run_list, Qt.Key.Key_Space)


def test_ticked_runs_are_drawn_together_against_epoch_or_wall_time(comparison):
    assert not comparison.curves and not comparison.csv_button.isEnabled()
    tick(comparison, "fp32-seed0")
    tick(comparison, "bf16-seed0")
    assert set(comparison.curves) == set(SCORES)
    for name, scores in SCORES.items():
        assert list(comparison.curves[name].y) == scores
        assert list(comparison.curves[name].x) == [1, 2, 3]
    legend = [label.text for _, label in comparison.plot.legend.items]
    assert set(legend) == set(SCORES)
    choose(comparison.axis_combo, "wall time (minutes)")
    assert list(comparison.curves["fp32-seed0"].x) == [1.0, 2.0, 3.0]
    assert list(comparison.curves["bf16-seed0"].x) == [0.5, 1.0, 1.5]
    tick(comparison, "fp32-seed0")  # unticked: gone
    assert set(comparison.curves) == {"bf16-seed0"}


def test_the_pointer_reads_each_runs_value_at_the_nearest_epoch(qtbot, comparison):
    tick(comparison, "fp32-seed0")
    tick(comparison, "bf16-seed0")
    view = comparison.plot.vb
    qtbot.waitUntil(lambda: view.viewRange()[0][0] < 1 and view.viewRange()[0][1] > 3)  # ranged
    scene_point = view.mapViewToScene(QPointF(2.1, 0.025))
    widget_point = comparison.plot_widget.mapFromScene(scene_point)
    QTest.mouseMove(comparison.plot_widget.viewport(), widget_point)
    qtbot.waitUntil(lambda: "epoch 2" in comparison.readout.text(), timeout=10_000)
    text = comparison.readout.text()
    assert "fp32-seed0</span> 0.025" in text and "bf16-seed0</span> 0.024" in text


def test_the_figures_a_validation_score_averages_can_be_drawn_one_by_one(comparison, workspace):
    """Runs whose logs list the figures of their score (planning and random, smoothed and
    filtered) show each as a curve; an older run's log, without them, draws nothing."""
    run = workspace.root / "runs" / "fp32-seed0"
    records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    filtering = [0.040, 0.031, 0.027]
    for record in records:
        if record["kind"] == "epoch":
            record["validation"]["figures"] = {
                "planning smoothing": 0.01,
                "planning filtering": filtering[record["epoch"] - 1],
                "random smoothing": 0.005,
                "random filtering": 0.008,
            }
    (run / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    tick(comparison, "fp32-seed0")
    tick(comparison, "bf16-seed0")
    choose(comparison.figure_combo, "validation, planning mask, filtering")
    assert list(comparison.curves["fp32-seed0"].y) == filtering
    assert "bf16-seed0" not in comparison.curves  # not drawn, and the panel says why
    assert comparison.message.text() == (
        "Not in the log of bf16-seed0: validation, planning mask, filtering."
    )
    choose(comparison.figure_combo, "validation, random 0.5, smoothing")
    assert list(comparison.curves["fp32-seed0"].y) == [0.005] * 3
    choose(comparison.figure_combo, "validation score (lower is better)")
    assert set(comparison.curves) == set(SCORES) and comparison.message.text() == ""


def test_the_curves_drawn_export_as_csv(comparison, tmp_path, monkeypatch):
    tick(comparison, "bf16-seed0")
    choose(comparison.figure_combo, "seconds per epoch")
    target = tmp_path / "runs.csv"
    dialog = "kvae_studio.app.panels.run_comparison.QFileDialog.getSaveFileName"
    monkeypatch.setattr(dialog, lambda *a, **k: (str(target), ""))
    click(comparison.csv_button)
    with target.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["run", "epoch", "seconds per epoch"]
    assert [(r[0], float(r[1]), float(r[2])) for r in rows[1:]] == [
        ("bf16-seed0", e, 30.0) for e in (1.0, 2.0, 3.0)
    ]
    assert np.isfinite([float(r[2]) for r in rows[1:]]).all()


def test_the_train_panel_builds_compare_runs_when_its_tab_is_first_clicked(qtbot, qapp, workspace):
    from kvae_studio.app.panels.train_panel import TrainPanel

    panel = TrainPanel(workspace)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.comparison is None, "not built at launch"
    bar = panel.curves.tabs.tabBar()
    index = [bar.tabText(i) for i in range(bar.count())].index("Compare runs")
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert panel.curves.tabs.currentWidget() is panel.comparison is not None
    assert panel.comparison.run_list.count() == len(SCORES)


def test_a_log_is_read_again_when_it_changes_and_only_then(tmp_path, monkeypatch):
    from kvae_studio.services import run_comparison

    write_run(tmp_path, "fp32-seed0")
    run = tmp_path / "runs" / "fp32-seed0"
    reads = []
    real = run_comparison.read_log
    monkeypatch.setattr(run_comparison, "read_log", lambda p: reads.append(p) or real(p))
    figure = "validation score (lower is better)"
    assert list(run_comparison.run_curve(run, figure, "epoch").y) == SCORES["fp32-seed0"]
    run_comparison.run_curve(run, figure, "step")
    assert len(reads) == 1, "the same log is not parsed twice"
    with (run / "log.jsonl").open("a") as f:  # the run finished one more epoch
        f.write(
            json.dumps({"kind": "epoch", "epoch": 4, "step": 624, "validation": {"score": 0.019}})
            + "\n"
        )
    assert run_comparison.run_curve(run, figure, "epoch").y[-1] == 0.019
    assert len(reads) == 2

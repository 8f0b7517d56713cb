"""The panels' parts on their own: background jobs, generated forms, logs, curves."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json
import math
import sys
from dataclasses import dataclass, field

import numpy as np
import pytest

from kvae_studio.app import pyside_fix
from kvae_studio.app.panels.curves import Series, TrainingCurves
from kvae_studio.app.panels.forms import DataclassForm, FieldHint
from kvae_studio.app.panels.jobs import Job
from kvae_studio.app.panels.widgets import Estimator, format_duration
from kvae_studio.services.run_records import read_log

TIMEOUT = 10_000


# -- jobs -------------------------------------------------------------------------------------


def test_job_reports_progress_items_and_result_on_the_gui_thread(qtbot):
    import threading

    gui = threading.get_ident()
    seen = []
    job = Job("work_targets:report_and_return", 5)
    job.item.connect(lambda v: seen.append(("item", v, threading.get_ident() == gui)))
    job.progress.connect(lambda d, t: seen.append(("progress", d, t)))
    with qtbot.waitSignal(job.finished, timeout=TIMEOUT), qtbot.waitSignal(job.result) as result:
        job.start()
    assert result.args == ["done"]
    assert [v for kind, v, *_ in seen if kind == "item"] == [0, 1, 2, 3, 4]
    assert all(on_gui for kind, _, on_gui in seen if kind == "item")
    assert ("progress", 5, 5) in seen  # the last report is never dropped
    assert not job.is_running()
    assert job.process.pid != os.getpid()  # in a work process, not a thread of the window


def test_job_generator_items_and_none_payloads(qtbot):
    job = Job("work_targets:yield_nones")
    items = []
    job.item.connect(items.append)
    with qtbot.waitSignal(job.finished, timeout=TIMEOUT):
        job.start()
    assert items == [None, (None, True)]


def test_job_cancel_is_cooperative(qtbot):
    job = Job("work_targets:spin_on_progress")
    results, items = [], []
    job.result.connect(results.append)
    job.item.connect(items.append)
    job.start()
    qtbot.waitUntil(lambda: items == ["started"], timeout=TIMEOUT)
    with qtbot.waitSignal(job.cancelled, timeout=TIMEOUT):
        job.cancel()
    assert results == []


def test_jobs_of_one_function_share_a_warm_process_and_others_do_not(qtbot):
    first = Job("work_targets:report_and_return", 1)
    with qtbot.waitSignal(first.finished, timeout=TIMEOUT):
        first.start()
    again = Job("work_targets:report_and_return", 2)
    other = Job("work_targets:yield_nones")
    with qtbot.waitSignal(again.finished, timeout=TIMEOUT):
        again.start()
    with qtbot.waitSignal(other.finished, timeout=TIMEOUT):
        other.start()
    assert again.process.pid == first.process.pid != other.process.pid


def test_a_job_s_work_must_be_importable_by_name():
    def local(ctx):
        return None

    with pytest.raises(ValueError, match="module-level function"):
        Job(local)


def test_job_failure_carries_the_message(qtbot):
    job = Job("work_targets:fail", "the file is broken")
    with qtbot.waitSignal(job.failed, timeout=TIMEOUT) as failed:
        job.start()
    assert failed.args == ["the file is broken"]


def test_pyside_refcount_workaround_holds_over_many_calls(qapp):
    from PySide6.QtCore import QObject, Signal

    class Source(QObject):
        ping = Signal(int)

    pyside_fix.apply()
    src, obj = Source(), QObject()
    for i in range(20_000):  # would abort a 3.11 interpreter without the workaround
        obj.setObjectName("x")
        src.ping.emit(i)
    assert sys.getrefcount(None) > 0


# -- forms ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    count: int = 3
    rate: float = 0.007
    flag: bool = True
    mode: str = "relu"
    sizes: tuple[int, ...] = (32, 32)
    corners: tuple[tuple[float, float], ...] = ((1.0, 2.0), (3.0, 4.0))
    extra: list = field(default_factory=list, init=False)

    def __post_init__(self):
        if self.count > 10:
            raise ValueError("count must be at most 10")


def test_form_round_trips_every_kind_of_field(qtbot):
    hints = {
        "mode": FieldHint("Main", "activation", choices=("relu", "tanh")),
        "count": FieldHint("Main"),
    }
    form = DataclassForm(Example, hints, order=("Main",))
    qtbot.addWidget(form)
    assert form.build() == Example()
    assert form.names() == ["count", "mode", "rate", "flag", "sizes", "corners"]
    form.set_values(
        {
            "count": 5,
            "rate": 1e-3,
            "flag": False,
            "mode": "tanh",
            "sizes": (8,),
            "corners": ((0.5, 1.5),),
        }
    )
    assert form.build() == Example(5, 1e-3, False, "tanh", (8,), ((0.5, 1.5),))
    assert form._labels["count"].font().bold()  # changed from the default
    form.editor("rate").setText("fast")
    with pytest.raises(ValueError, match="rate"):
        form.values()
    form.reset()
    assert form.build() == Example()
    assert not form._labels["count"].font().bold()
    form.editor("count").setValue(11)
    with pytest.raises(ValueError, match="at most 10"):
        form.build()


def test_config_form_has_every_kvae_option(qtbot):
    from kvae_studio.app.panels.config_fields import CONFIG_HINTS, config_hint
    from model.config import KVAEConfig

    form = DataclassForm(KVAEConfig, config_hint)
    qtbot.addWidget(form)
    fields = set(KVAEConfig.__dataclass_fields__)
    assert set(form.names()) == fields
    assert set(CONFIG_HINTS) == fields  # every option has a group and a tooltip
    assert form.build() == KVAEConfig()


# -- logs and curves --------------------------------------------------------------------------


def _step(step, elbo=-100.0):
    return {
        "kind": "step",
        "step": step,
        "epoch": 1,
        "terms": {"elbo": elbo},
        "lr": 0.007,
        "grad_norm": 1.0,
        "sequences_per_second": 30.0,
    }


def test_read_log_keeps_the_later_copy_of_replayed_steps(tmp_path):
    lines = [
        _step(1),
        _step(2),
        _step(3, elbo=-1.0),
        _step(2, elbo=-7.0),
        _step(3, elbo=-8.0),
        {"kind": "epoch", "step": 3, "epoch": 1},
    ]
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n")
    steps, epochs = read_log(path)
    assert [s["step"] for s in steps] == [1, 2, 3]
    assert [s["terms"]["elbo"] for s in steps] == [-100.0, -7.0, -8.0]
    assert len(epochs) == 1
    steps, _ = read_log(path, upto_step=2)
    assert [s["step"] for s in steps] == [1, 2]


def test_series_moving_average_is_debiased_and_skips_gaps():
    s = Series(capacity=2)
    for i, y in enumerate([10.0, math.nan, 10.0, 20.0]):
        s.append(i, y, 0.5)
    x, smooth = s.smoothed()
    assert list(x) == [0, 1, 2, 3]
    assert smooth[0] == pytest.approx(10.0) and smooth[2] == pytest.approx(10.0)
    assert 10.0 < smooth[3] < 20.0
    s.resmooth(0.0, max_x=2)
    assert s.n == 3 and s.smoothed()[1][2] == 10.0


def test_curves_take_steps_and_epochs_and_truncate(qtbot):
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.add_steps(_step(i, -100.0 + i) for i in range(1, 11))
    curves.add_epoch(
        {
            "step": 10,
            "train_elbo": -95.0,
            "test_elbo": -96.0,
            "hamming": {"smoothing": 0.1, "filtering": 0.2, "generation": 0.3, "baseline": 0.05},
        }
    )
    curves.flush()
    assert curves.step_count() == 10 and curves.epoch_count() == 1
    assert curves.epoch_series["log_px"].n == 1  # the terms' epoch means
    curves.truncate(6)
    assert curves.step_count() == 6 and curves.epoch_count() == 0
    for i in range(curves.tabs.count()):
        curves.tabs.setCurrentIndex(i)  # every tab draws without error
    assert curves.last_step() == 6
    curves.set_smoothing(0.0)
    assert np.allclose(curves.steps["elbo"].smoothed()[1], curves.steps["elbo"].data()[1])


def test_the_validation_tab_draws_the_score_and_the_figures_it_averages(qtbot):
    """--keep-best runs: the score and its four figures per epoch, in a tab chosen by a
    click; an ELBO score (higher is better, negative) stays off this plot."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.resize(800, 500)
    curves.show()
    qtbot.waitExposed(curves)
    figures = {"planning smoothing": 0.02, "planning filtering": 0.03,
               "random smoothing": 0.008, "random filtering": 0.012}  # fmt: skip
    for epoch in (1, 2):
        scaled = {k: v / epoch for k, v in figures.items()}
        validation = {"metric": "smoothing+filtering", "score": sum(scaled.values()) / 4,
                      "figures": scaled}  # fmt: skip
        curves.add_epoch({"step": 10 * epoch, "train_elbo": -9.0, "validation": validation})
    curves.add_epoch({"step": 30, "train_elbo": -8.0,
                      "validation": {"metric": "elbo", "score": -7.5}})  # fmt: skip
    bar = curves.tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == "Validation")
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert curves.tabs.currentWidget() is curves.validation_plot
    curves.flush()
    drawn = {item.name(): list(item.getData()[1]) for item, _, _ in curves._curves[str(index)]}
    assert drawn["score"] == pytest.approx([0.0175, 0.00875])  # the ELBO score left out
    assert drawn["filtering, planning"] == pytest.approx([0.03, 0.015])
    assert drawn["smoothing, random 0.5"] == pytest.approx([0.008, 0.004])
    assert len(drawn) == 5


def test_time_estimates():
    assert format_duration(7.4) == "7 s"
    assert format_duration(125) == "2:05"
    assert format_duration(3725) == "1:02:05"
    est = Estimator()
    assert est.update(0, 10) is None


def test_the_sweep_plot_keeps_filtering_visible_over_generation_and_its_key_off_the_data(qtbot):
    from kvae_studio.app.panels.sweep_plot import METRICS, SweepPlot

    plot = SweepPlot()
    qtbot.addWidget(plot)
    rows = [
        {"kind": "planning", "x": x, "smoothing": 0.01, "filtering": 0.02, "generation": 0.02,
         "baseline": 0.05}
        for x in (1, 3, 5)
    ]  # fmt: skip
    plot.set_result("m.safetensors", rows)
    item = plot.plots["planning"].getPlotItem()
    names = [d.name() for d in item.listDataItems()]
    assert names.index("filtering") > names.index("generation"), "filtering is drawn on top"
    widths = {d.name(): d.opts["pen"].widthF() for d in item.listDataItems()}
    assert widths["generation"] > widths["filtering"], "generation shows around it"
    assert item.legend is None, "no legend box over the data"
    key = plot.key.text()
    assert all(m in key for m in METRICS) and "filtering equals generation" in key

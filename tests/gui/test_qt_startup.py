"""Qt's start-up is one explicit call; the panels package loads nothing, fails loudly and
stops every job it started."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from kvae_studio.app import panels
from kvae_studio.app.panels.jobs import Job
from kvae_studio.app.panels.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]

_FRESH = """
import json, sys
import kvae_studio.app.panels
from kvae_studio.services import evaluation, scene_work, training, work
qt_free = sorted({"PySide6", "pyqtgraph"} & {m.split(".")[0] for m in sys.modules})
import kvae_studio.app.explore.time_plots, kvae_studio.app.panels.curves
from kvae_studio.app import pyside_fix, qtsetup
import pyqtgraph as pg
before = (pg.getConfigOption("imageAxisOrder"), pyside_fix._applied)
qtsetup.start()
after = (pg.getConfigOption("imageAxisOrder"), pyside_fix._applied)
print(json.dumps({"qt_free": qt_free, "before": before, "after": after}))
"""


def test_importing_changes_nothing_until_start_is_called():
    """The panels package and its work modules import no Qt; importing Qt modules sets no
    pyqtgraph option and applies no workaround; `qtsetup.start()` does both."""
    result = subprocess.run(
        [sys.executable, "-c", _FRESH], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["qt_free"] == []
    assert seen["before"] == ["col-major", False]  # pyqtgraph's default, nothing applied
    needs_fix = sys.version_info < (3, 12)  # PySide6 6.12's leak, see pyside_fix
    assert seen["after"] == ["row-major", needs_fix]


def test_build_panels_says_what_is_missing_instead_of_dropping_the_tabs(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "kvae_studio.app.panels.train_panel", None)  # unloadable
    with pytest.raises(panels.PanelsUnavailable, match="train_panel") as raised:
        panels.build_panels(None, Workspace(tmp_path / "ws"))
    assert not isinstance(raised.value, ImportError)  # no `except ImportError` can hide it


def test_shutdown_stops_the_panels_work_and_any_job_left(qtbot, tmp_path):
    tabs = panels.build_panels(None, Workspace(tmp_path / "ws"))
    for _, panel in tabs:
        qtbot.addWidget(panel)
    job = Job("work_targets:wait_for_cancel")
    items = []
    job.item.connect(items.append)
    job.start()  # a job no panel tracks
    qtbot.waitUntil(lambda: len(items) == 1, timeout=60_000)
    pid = job.process.pid
    panels.shutdown(tabs)
    assert not job.process.is_open(job._task.id)  # it ended before shutdown returned
    assert not job.process.alive and pid is not None
    qtbot.waitUntil(lambda: not job.is_running())
    panels.shutdown(tabs)  # again (window closed twice): nothing left to do, no error


def test_start_collects_garbage_on_the_gui_thread_only(qapp, qtbot):
    """A job's thread that allocates never runs a collection (one there destroyed window
    objects on the wrong thread and hung the studio); the GUI thread's timer collects a
    cycle that holds a QObject."""
    import gc
    import weakref

    from PySide6.QtCore import QObject

    from kvae_studio.app import qtsetup

    qtsetup.collect_garbage_anywhere()
    qtsetup.start(qapp, dark_theme=False)
    assert not gc.isenabled()
    collected_on: list[int] = []

    def note(phase: str, info: dict) -> None:
        if phase == "start":
            collected_on.append(threading.get_ident())

    gc.callbacks.append(note)
    try:
        job = threading.Thread(target=lambda: [[[] for _ in range(20)] for _ in range(20_000)])
        job.start()
        job.join()
        assert collected_on == []  # Python's own collection would have run there
        cycle: list = [QObject()]
        cycle.append(cycle)
        gone = weakref.ref(cycle[0])
        del cycle
        ballast = [[] for _ in range(5_000)]  # enough new objects for the timer to collect
        qtbot.waitUntil(lambda: gone() is None, timeout=5000)
        del ballast
        assert set(collected_on) == {threading.get_ident()}
    finally:
        gc.callbacks.remove(note)

"""Helpers shared by the studio window tests (a module of its own: `conftest` is not
importable by name once several test folders have one)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from kvae_studio.services.inference import InferenceRequest

RESULT_TIMEOUT_MS = 30_000
ROOT = Path(__file__).resolve().parents[2]


def wait_idle(qtbot, win) -> None:
    """Until the newest request's result is on screen: frames, plots and metrics."""
    explore = win.explore
    qtbot.waitUntil(
        lambda: (
            not explore.busy
            and explore.shown is not None
            and explore.shown is explore.result
            and explore.shown.seq == explore.runner.latest_seq
        ),
        timeout=RESULT_TIMEOUT_MS,
    )


def hidden_planning() -> np.ndarray:
    hidden = np.zeros(20, bool)
    hidden[4:16] = True
    return hidden


def request(model, images, visible, pixels=None, seq=1) -> InferenceRequest:
    """One inference request, as the window would make it."""
    return InferenceRequest(seq, model, images, np.asarray(visible, np.float32), pixels)


CHECK_TIMEOUT_MS = 120_000


def open_checked(qtbot, win, path, how: str = "open_model") -> None:
    """Open a user's model (or a file naming one) and wait until it is open: the window
    loads a user's model whole in a process of its own first, behind a modal dialog."""
    with qtbot.waitSignal(win.modelOpened, timeout=CHECK_TIMEOUT_MS):
        assert getattr(win, how)(str(path))


def refused_after_check(qtbot, win, path) -> None:
    """Open a user's model whose check fails; wait for the check's verdict."""
    with qtbot.waitSignal(win.model_checks.checked, timeout=CHECK_TIMEOUT_MS) as verdict:
        assert win.open_model(str(path)), "the check is under way"
    assert verdict.args[1] is False


def first_launch_window(qtbot, model, path, settings):
    """The studio without its panels as at first launch (box scene, seed 0, planning
    mask), shown, active, its first result in: `model` (and the file it came from, or
    None) opened with `settings`."""
    from kvae_studio.app.main_window import MainWindow

    path = None if path is None else str(path)
    win = MainWindow(model, path, settings=settings, panels=False, restore_layout=False)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    with qtbot.waitSignal(win.explore.resultShown, timeout=RESULT_TIMEOUT_MS):
        win.explore.new_sequence("box", 0, steps=20)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(lambda: win.isActiveWindow())
    wait_idle(qtbot, win)
    return win


def drag(canvas, points, button=None) -> None:
    """Press at the first image point of Explore's canvas, move through the rest, release
    at the last (the left button unless another is given)."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    button = Qt.MouseButton.LeftButton if button is None else button
    none = Qt.KeyboardModifier.NoModifier
    viewport = canvas.viewport()
    pos = [canvas.widget_position(x, y).toPoint() for x, y in points]
    QTest.mousePress(viewport, button, none, pos[0])
    for p in pos[1:]:
        QTest.mouseMove(viewport, p)
    QTest.mouseRelease(viewport, button, none, pos[-1])


_SCRIPT_HEAD = """
import json, os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
APP = None


def open_window(scene):
    \"\"\"The studio's window on `scene`'s shipped model, started as `kvae-studio` starts
    it (not shown): (window, model, scene).\"\"\"
    global APP
    from PySide6.QtWidgets import QApplication
    from kvae_studio.app import qtsetup
    from kvae_studio.app.main import start_model
    from kvae_studio.app.main_window import MainWindow
    from kvae_studio.app.settings import AppSettings
    APP = QApplication([])
    qtsetup.start(APP, dark_theme=False)
    model, path, scene, _ = start_model(scene, None, use_last=False)
    window = MainWindow(model, path, settings=AppSettings(None), restore_layout=False)
    return window, model, scene


def wait_for(signal, timeout_ms):
    \"\"\"Run the event loop until `signal` fires, or `timeout_ms` has passed.\"\"\"
    from PySide6.QtCore import QEventLoop, QTimer
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
"""

_SCRIPT_TAIL = """

if __name__ == "__main__":
    main()
"""


def window_script_report(tmp_path, main: str, *args: str, timeout: float) -> dict:
    """Run `main` (the source of a `def main():` that may call `open_window(scene)` and
    `wait_for(signal, timeout_ms)`, and prints a JSON line last) as a script in a fresh
    interpreter with `args`; it must exit 0. Returns what its last line printed."""
    script = tmp_path / "window_script.py"
    script.write_text(_SCRIPT_HEAD + main + _SCRIPT_TAIL)
    done = subprocess.run(
        [sys.executable, str(script), *args], cwd=ROOT, capture_output=True, text=True,
        timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])

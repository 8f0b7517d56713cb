"""Helpers shared by the studio window tests (a module of its own: `conftest` is not
importable by name once several test folders have one)."""

from __future__ import annotations

import numpy as np

from kvae_studio.services.inference import InferenceRequest

RESULT_TIMEOUT_MS = 30_000


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

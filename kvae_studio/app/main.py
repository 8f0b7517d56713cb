"""Start the studio: `run_app()` opens the window; `--screenshot PATH` saves it and quits.

First launch shows something at once: the trained model for the scene (or, when none is
installed, an untrained one, which the status bar says), a freshly simulated sequence of
that scene, and the paper's planning mask (4 frames seen, 12 hidden), so the user sees
the model impute a hidden stretch before touching anything.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from kvae_studio.window_options import SCREENSHOT_SIZE, TABS, WindowOptions

FIRST_RESULT_TIMEOUT_MS = 120_000


def start_model(scene: str | None, settings=None, use_last: bool = True):
    """(model, path or None, scene, note) to open with.

    With a scene asked for (`--scene`), that scene's shipped model comes first; without,
    the last model used, whose scene the first sequence then follows. Then the shipped
    model of the scene (box when none asked), else an untrained model, as the note says.
    """
    from kvae_studio.document import opening
    from kvae_studio.services.model_card import model_scene
    from kvae_studio.services.resources import default_model_path, scene_title, shipped_model
    from kvae_studio.sim.scenes import SCENES
    from model.model_file import read_summary

    candidates = []
    if scene is not None and (own := shipped_model(scene)) is not None:
        candidates.append(own)
    last = settings.last_model() if use_last and settings is not None else None
    if last:
        candidates.append(Path(last))
    fallback_path = default_model_path(scene or "box")
    candidates.append(fallback_path)
    problems = []
    for path in candidates:
        if not path.is_file():
            continue
        try:
            model = opening.open_model(path)
        except opening.OpenError as err:
            problems.append(str(err))
            if last and path == Path(last):
                _forget_last_model(settings, err)
            continue
        learned = model_scene(read_summary(path))  # read by open_model just now
        shown = scene or (learned if learned in SCENES else "box")
        note = ""
        if scene is not None and learned not in (None, scene):
            title = scene_title(scene)
            note = f"No model trained on {title} ships with the studio: showing {path.name}"
        return model, str(path.resolve()), shown, note
    note = f"No trained model at {fallback_path}: showing an untrained model"
    if problems:
        note = f"{problems[-1]}: showing an untrained model"
    return opening.fresh_model_ref(), None, scene or "box", note


def _forget_last_model(settings, err: Exception) -> None:
    """A remembered last model that cannot be opened is skipped, said once in the window
    (`settings.notes`) and forgotten, so the next start does not stumble on it again; the
    file is the user's and stays as it is."""
    settings.set_last_model(None)
    settings.notes.append(
        f"The model used last cannot be opened ({err}); the studio starts without it "
        "and the file is left as it is."
    )


def run_app(options: WindowOptions | None = None) -> int:
    """Open the studio (blocking until it closes); with `options.screenshot`, save a PNG
    of the window at `options.size` and quit. Without a scene, the first sequence is of
    the scene of the model opened. The command line checked the options
    (`kvae_studio.window_options`)."""
    options = options or WindowOptions()
    screenshot, scene, seed, size, tab = (
        options.screenshot, options.scene, options.seed, options.size, options.tab
    )  # fmt: skip
    if screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from kvae_studio.app.platform_check import xcb_problem

    if problem := xcb_problem():  # Qt would abort with a misleading message
        print(f"kvae-studio: {problem}", file=sys.stderr)
        return 1
    from kvae_studio.services.inference_process import preload_spare, start_spare

    start_spare()  # the model's process imports torch while this one imports Qt

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from kvae_studio.app import qtsetup
    from kvae_studio.app.main_window import MainWindow
    from kvae_studio.app.settings import APPLICATION, ORGANIZATION, AppSettings
    from kvae_studio.sim import SCENES

    if scene is not None and scene not in SCENES:
        print(
            f"kvae-studio: unknown scene {scene!r}; choose from {', '.join(SCENES)}",
            file=sys.stderr,
        )
        return 2
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    qtsetup.start(app)  # workaround, pyqtgraph's options, theme: before any widget

    if screenshot:  # first launch: no remembered layout or model, user settings untouched
        import tempfile

        tmp = tempfile.TemporaryDirectory()
        qsettings = QSettings(str(Path(tmp.name) / "s.ini"), QSettings.Format.IniFormat)
    else:
        qsettings = None
    settings = AppSettings(qsettings)
    model, path, scene, note = start_model(scene, settings, use_last=not screenshot)
    preload_spare(model)  # the model's process loads it while the window is built
    window = MainWindow(model, path, settings=settings, restore_layout=not screenshot)
    window.explore.new_sequence(scene, seed, steps=20)
    window.explore.focus_hidden()
    if note:
        window.statusBar().showMessage(note)
    if tab is not None:
        window.tabs.setCurrentIndex(TABS.index(tab))
    if screenshot:
        return _screenshot(app, window, screenshot, size)
    window.show()
    return int(app.exec())


def _screenshot(app, window, path: str, size: tuple[int, int] = SCREENSHOT_SIZE) -> int:
    """Show the window offscreen at `size`, wait for the first result, save it, close."""
    from PySide6.QtCore import QEventLoop, QTimer

    window.resize(*size)
    window.show()
    loop = QEventLoop()
    if window.tabs.currentWidget() is window.dynamics:
        controller = window.dynamics.controller
        if controller.busy:
            controller.finished.connect(loop.quit)
            QTimer.singleShot(FIRST_RESULT_TIMEOUT_MS, loop.quit)
            loop.exec()
    elif window.explore.result is None:
        window.explore.resultShown.connect(loop.quit)
        QTimer.singleShot(FIRST_RESULT_TIMEOUT_MS, loop.quit)
        loop.exec()
    for _ in range(3):  # let layouts settle and items repaint
        app.processEvents()
    if (window.width(), window.height()) != tuple(size):
        print(
            f"kvae-studio: the window cannot be {size[0]}x{size[1]}; "
            f"saved it at {window.width()}x{window.height()}",
            file=sys.stderr,
        )
    ok = window.grab().save(path, "PNG")
    got_result = window.explore.result is not None
    window.close()
    if not ok:
        print(f"kvae-studio: cannot write {path}", file=sys.stderr)
        return 1
    if not got_result:
        print(
            "kvae-studio: the model did not answer in time; saved the window anyway",
            file=sys.stderr,
        )
    return 0

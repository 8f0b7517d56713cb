"""Scene, Train and Evaluate: simulate datasets, train a KVAE and sweep its imputations.

The main window calls `build_panels(window)` and adds the returned tabs; it connects
each panel's `modelReady(str)` and `datasetReady(str)` signals to Explore. The three
panels share one `Workspace` (where datasets and runs live).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from kvae_studio.app.panels import pyside_fix

pyside_fix.apply()  # before any widget exists: see the module's docstring

from kvae_studio.app.panels import plotting  # noqa: E402,F401  (pyqtgraph options)


def build_panels(window: object | None = None, workspace: object | None = None) -> list:
    """[("Scene", ScenePanel), ("Train", TrainPanel), ("Evaluate", EvaluatePanel)].

    `window` may be None (standalone use, tests); if it has `current_model_path`, the
    Evaluate panel offers that model too.
    """
    from kvae_studio.app.panels.evaluate_panel import EvaluatePanel
    from kvae_studio.app.panels.scene_panel import ScenePanel
    from kvae_studio.app.panels.train_panel import TrainPanel
    from kvae_studio.app.panels.workspace import Workspace

    ws = workspace if workspace is not None else Workspace()
    scene = ScenePanel(ws)
    train = TrainPanel(ws)
    evaluate = EvaluatePanel(ws, current_model=lambda: getattr(window, "current_model_path", None))
    panels = [scene, train, evaluate]
    app = QCoreApplication.instance()
    if app is not None:
        # A running training run is stopped with a checkpoint, so it can be continued later.
        app.aboutToQuit.connect(lambda: [panel.shutdown() for panel in panels])
    return [("Scene", scene), ("Train", train), ("Evaluate", evaluate)]

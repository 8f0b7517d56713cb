"""Scene, Train and Evaluate: simulate datasets, train a KVAE and sweep its imputations.

The main window calls `build_panels(window)` and adds the returned tabs; it connects
each panel's `modelReady(str)` and `datasetReady(str)` signals to Explore, and calls
`shutdown(panels)` when it closes. The three panels share one `Workspace` (where
datasets and runs live).

Importing this package imports nothing (no Qt): its Qt-free modules (`scene_work`,
`evaluation`, `training`) stay usable without a display, and Qt's
start-up is `kvae_studio.app.qtsetup.start`, called once by the application.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class PanelsUnavailable(RuntimeError):
    """The panels cannot be built (a module or library is missing): said, never skipped."""


def build_panels(window: object | None = None, workspace: object | None = None) -> list:
    """[("Scene", ScenePanel), ("Train", TrainPanel), ("Evaluate", EvaluatePanel)].

    `window` may be None (standalone use, tests); if it has `current_model_path`, the
    Evaluate panel offers that model too. Raises `PanelsUnavailable` (not ImportError, so
    no caller can mistake it for an optional feature) if the panels' modules cannot load.
    """
    try:
        from kvae_studio.app.panels.evaluate_panel import EvaluatePanel
        from kvae_studio.app.panels.scene_panel import ScenePanel
        from kvae_studio.app.panels.train_panel import TrainPanel
        from kvae_studio.app.panels.workspace import Workspace
    except ImportError as err:
        raise PanelsUnavailable(
            f"The Scene, Train and Evaluate tabs cannot load: {err}. "
            "Reinstall the studio (pip install -e .) to restore them."
        ) from err

    ws = workspace if workspace is not None else Workspace()
    scene = ScenePanel(ws, settings=getattr(window, "settings", None))
    train = TrainPanel(ws)
    evaluate = EvaluatePanel(ws, current_model=lambda: getattr(window, "current_model_path", None))
    return [("Scene", scene), ("Train", train), ("Evaluate", evaluate)]


def shutdown(panels: Iterable[tuple[str, Any]]) -> None:
    """Stop the panels' background work and wait for it: the window is closing.

    `panels` is what `build_panels` returned. Each panel stops its own work first (a
    training run stops with a checkpoint, so it can be continued later; simulations and
    sweeps are cancelled); then any job still running is cancelled and waited for, so no
    thread outlives the window. Calling it again does nothing more.
    """
    for _title, panel in panels:
        panel.shutdown()
    from kvae_studio.app.panels import jobs

    jobs.stop_all()


__all__ = ["PanelsUnavailable", "build_panels", "shutdown"]

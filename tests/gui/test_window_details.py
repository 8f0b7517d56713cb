"""Smaller promises of the window: tooltips, shortcuts, settings, layers, frame sizes."""

from __future__ import annotations

import subprocess
import sys

import torch
from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QSlider
from window_helpers import open_checked, wait_idle

from model.checkpoint import save_model
from model.config import KVAEConfig
from model.kvae import KVAE

# Every Qt-free package of the studio, imported in a fresh interpreter (the import-linter
# contracts check the same statically; this checks what really ends up in sys.modules).
QT_FREE = ("kvae_studio.document.explore", "kvae_studio.document.opening",
           "kvae_studio.services.inference_process", "kvae_studio.services.paper_videos",
           "kvae_studio.services.evaluation", "kvae_studio.services.training",
           "kvae_studio.services.scene_work", "kvae_studio.commands.train",
           "kvae_studio.colors", "kvae_studio.app", "kvae_studio.app.panels")  # fmt: skip


def test_every_control_of_explore_has_a_tooltip(window):
    controls = [
        w
        for kind in (QAbstractButton, QAbstractSpinBox, QComboBox, QSlider)
        for w in window.explore.findChildren(kind)
        if w.isVisibleTo(window) and w.parent() is not None
        and type(w.parent()).__name__ not in ("QSpinBox", "QDoubleSpinBox", "QComboBox")
    ]  # fmt: skip
    assert len(controls) > 20
    missing = [
        f"{type(w).__name__} {w.text() if hasattr(w, 'text') else ''}"
        for w in controls
        if not (w.toolTip() or (hasattr(w, "defaultAction") and w.defaultAction()
                                and w.defaultAction().toolTip()))
    ]  # fmt: skip
    assert not missing


def test_shortcut_table_lists_the_standard_keys(window):
    table = dict(window.shortcut_table())
    assert table["Undo"] == "Ctrl+Z"
    assert table["Redo"] == "Ctrl+Shift+Z, Ctrl+Y"
    assert table["Play"] == "Space"
    for name in ("Open Model", "Save Session", "Export Video", "Quit", "Next frame"):
        assert name in table


def test_layout_and_recent_files_persist_in_the_given_settings(qtbot, model, qsettings, tmp_path):
    from kvae_studio.app.main_window import MainWindow

    path = tmp_path / "m.safetensors"
    save_model(model, path)
    first = MainWindow(model, None, settings=qsettings, panels=False)
    qtbot.addWidget(first)
    first.explore.new_sequence("box", 1)
    first.show()
    open_checked(qtbot, first, path)
    wait_idle(qtbot, first)
    first.close()
    saved = first.explore.splitter.saveState()

    second = MainWindow(model, None, settings=qsettings, panels=False)
    qtbot.addWidget(second)
    assert second.settings.layout("geometry") is not None
    # Sizes are restored in pixels, then fitted into the (clamped) window: compare states.
    assert second.settings.layout("explore_splitter") == saved
    recent = [a.text() for a in second.recent_menu.actions()]
    assert "m.safetensors" in recent and second.settings.last_model() == str(path.resolve())
    second.explore.shutdown()


def test_a_model_of_another_frame_size_resimulates_the_scene(qtbot, window, tmp_path):
    torch.manual_seed(1)
    big = KVAE(KVAEConfig(frame_size=64))
    path = tmp_path / "big.safetensors"
    save_model(big, path)
    open_checked(qtbot, window, path)
    wait_idle(qtbot, window)
    explore = window.explore
    assert explore.images.shape == (20, 64, 64)
    assert explore.source.scene == "box" and explore.result.x_smoothed.shape == (20, 64, 64)
    assert explore.mask.occluded.shape == (20, 64, 64)


def test_the_models_of_the_window_import_no_qt():
    imports = "; ".join(f"import {name}" for name in QT_FREE)
    code = (
        f"import sys; {imports}; "
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr

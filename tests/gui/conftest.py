"""Fixtures of the studio window tests: an untrained model, a window, isolated settings.

Nothing here needs the trained model file: the window gets a freshly initialised KVAE
(seeded, so the pictures are the same every run) and QSettings in a temporary file.
"""

from __future__ import annotations

import gc
import os

import numpy as np
import pytest
import torch

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from window_helpers import first_launch_window

from kvae_studio.app import qtsetup
from model.config import KVAEConfig
from model.kvae import KVAE


@pytest.fixture(scope="session", autouse=True)
def qt_started():
    """Qt's start-up as the studio does it (workaround, pyqtgraph's options), before any
    widget of any test; Qt's own style is kept, so no test depends on the theme."""
    qtsetup.start(dark_theme=False)


@pytest.fixture(autouse=True)
def garbage_collected_on_the_gui_thread(qapp):
    """As in the studio (`qtsetup.start(app)`): cycles are collected by the GUI thread
    only, never by a job's thread, during each test; between tests, the test's windows
    are collected here, and the tests of other folders get Python's own collection."""
    qtsetup.collect_garbage_on_gui_thread()
    yield
    qtsetup.collect_garbage_anywhere()
    gc.collect()


@pytest.fixture
def one_torch_thread():
    """Tiny models run fastest on one thread, and the test machine is shared. (Not
    autouse: the panels' tests in this folder train models and choose for themselves.)"""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def model(one_torch_thread) -> KVAE:
    torch.manual_seed(0)
    return KVAE(KVAEConfig()).eval()


@pytest.fixture(scope="session")
def images() -> np.ndarray:
    """A sparse random sequence (20, 32, 32) for the Qt-free inference tests."""
    rng = np.random.default_rng(0)
    return (rng.random((20, 32, 32)) > 0.9).astype(np.float32)


@pytest.fixture
def qsettings(tmp_path):
    from PySide6.QtCore import QSettings

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    # Windows close at the end of every test: no "save your edits?" question then (the
    # question's own test turns it back on).
    settings.setValue("ask/save_on_quit", False)
    return settings


@pytest.fixture
def window(qtbot, model, qsettings):
    """The studio as at first launch (box scene, seed 0, planning mask), first result in."""
    win = first_launch_window(qtbot, model, None, qsettings)
    yield win
    win.close()

"""File, Export Masks and Import Masks in the real window (offscreen): the File menu's
entries write the masks on screen and put a saved set back as one undo step, and a set
of another shape is refused with one message and nothing changed. The file dialogs are
answered by the test (QFileDialog's static functions), everything else is real."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog
from window_helpers import RESULT_TIMEOUT_MS, wait_idle

from kvae_studio.document.mask_file import save_masks
from kvae_studio.services.file_names import MASK_PNG_FILTER, MASKS_FILTER


def file_action(window, text: str):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)


def answer_save(monkeypatch, path, chosen_filter=MASKS_FILTER) -> None:
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(path), chosen_filter)
    )


def answer_open(monkeypatch, path) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(path), ""))


def test_export_then_import_puts_the_masks_back_as_one_undo_step(
    qtbot, window, tmp_path, monkeypatch
):
    explore = window.explore
    QTest.mouseClick(explore.mask_controls.band_button, Qt.MouseButton.LeftButton)
    hidden, occluded = explore.mask.hidden.copy(), explore.mask.occluded.copy()
    assert occluded.any() and hidden.any()

    answer_save(monkeypatch, tmp_path / "walls")  # typed without a suffix
    file_action(window, "Export Masks…").trigger()
    saved = tmp_path / "walls.masks.npz"
    with np.load(saved, allow_pickle=False) as plain:
        assert np.array_equal(plain["occluded"], occluded)
        assert np.array_equal(plain["hidden"], hidden)

    QTest.keyClick(window, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)  # clear all
    assert not explore.mask.occluded.any()
    wait_idle(qtbot, window)
    answer_open(monkeypatch, saved)
    with qtbot.waitSignal(explore.resultShown, timeout=RESULT_TIMEOUT_MS):
        file_action(window, "Import Masks…").trigger()
    assert np.array_equal(explore.mask.occluded, occluded)
    assert np.array_equal(explore.mask.hidden, hidden)
    assert explore.result.pixel_visible is not None, "the model looked with the masks"
    assert "Imported the masks of walls.masks.npz" in window.statusBar().currentMessage()

    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not explore.mask.occluded.any() and not explore.mask.hidden.any()
    wait_idle(qtbot, window)


def test_masks_of_another_shape_are_refused_with_one_message(qtbot, window, tmp_path, monkeypatch):
    explore = window.explore
    short = tmp_path / "short.masks.npz"
    save_masks(short, np.zeros(12, bool), np.ones((12, 32, 32), bool))
    hidden, occluded = explore.mask.hidden.copy(), explore.mask.occluded.copy()
    requests = explore.requests
    answer_open(monkeypatch, short)
    file_action(window, "Import Masks…").trigger()
    assert window.errors == [
        "short.masks.npz: its masks are for 12 frames of 32×32 pixels, "
        "the sequence on screen has 20 frames of 32×32 pixels"
    ]
    assert window.error_box.isVisible() and window.error_box.windowTitle() == "Cannot import masks"
    assert np.array_equal(explore.mask.hidden, hidden)
    assert np.array_equal(explore.mask.occluded, occluded)
    assert explore.requests == requests, "nothing changed, nothing to compute"
    window.error_box.close()


def test_export_as_a_png_stack_writes_one_picture_a_frame(window, tmp_path, monkeypatch):
    pytest.importorskip("cv2")
    explore = window.explore
    folder = tmp_path / "stack"
    folder.mkdir()
    answer_save(monkeypatch, folder / "planning", MASK_PNG_FILTER)
    file_action(window, "Export Masks…").trigger()
    written = sorted(p.name for p in folder.iterdir())
    assert written == [f"planning-{t:03d}.png" for t in range(20)]
    answer_open(monkeypatch, folder / "planning-007.png")
    QTest.keyClick(window, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    assert not explore.mask.hidden.any()
    file_action(window, "Import Masks…").trigger()
    hidden = np.zeros(20, bool)
    hidden[4:16] = True
    assert np.array_equal(explore.mask.hidden, hidden), "the planning mask came back"

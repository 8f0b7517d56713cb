"""Explore's left column keeps its width whatever the model text says, so the buttons a
user is about to click do not move under the pointer when another model opens."""

from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication

LONG_FOLDER = "a_run_folder_whose_name_is_much_longer_than_the_column_" * 3
LONG_SUMMARY = "<br>".join(
    ["Box, radius 3, gravity 0, rotation marker, trained 80 epochs in bf16 " * 4] * 6
)


def _button_places(win) -> dict[str, QPoint]:
    controls = win.explore.sequence_controls
    buttons = {"new sequence": controls.new_button, "dice": controls.dice}
    return {name: button.mapTo(win, QPoint(0, 0)) for name, button in buttons.items()}


def test_a_long_model_text_neither_widens_the_column_nor_moves_its_buttons(qtbot, window):
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.width() == 1024)
    column = window.explore.controls_scroll
    width, places = column.width(), _button_places(window)
    viewport = column.viewport().width()

    controls = window.explore.sequence_controls
    controls.show_model(f"/tmp/{LONG_FOLDER}/model.safetensors", LONG_SUMMARY)
    QApplication.processEvents()  # the layout requests the new text posted
    assert "much_longer" in controls.model_label.text()

    assert column.width() == width
    assert _button_places(window) == places
    # The text wraps inside the column instead of running under its edge.
    assert controls.model_label.width() <= viewport
    controls.show_model(None, "short")
    QApplication.processEvents()
    assert column.width() == width
    assert _button_places(window) == places

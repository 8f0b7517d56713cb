"""The Dynamics tab in the window, by real events: a click on its tab computes every view
in the analysis process for the model in Explore and its scene's test set; hovering a
point names it; a click on it opens that sequence in Explore at that frame; the window
still imports no torch with the tab open."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from window_helpers import window_script_report

from kvae_studio.app.main_window import MainWindow
from kvae_studio.document import opening
from kvae_studio.services.resources import default_model_path, shipped_test_set

TIMEOUT_MS = 180_000


@pytest.fixture
def box_window(qtbot, qsettings):
    path = default_model_path("box")
    win = MainWindow(
        opening.open_model(path), str(path), settings=qsettings, panels=False, restore_layout=False
    )
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()


def click_tab(qtbot, win, title: str) -> None:
    bar = win.tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == title)
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    qtbot.waitUntil(lambda: win.tabs.currentIndex() == index)


def test_the_tab_computes_hovers_and_opens_a_point_in_explore(qtbot, box_window):
    win = box_window
    click_tab(qtbot, win, "Dynamics")
    controller = win.dynamics.controller
    qtbot.waitUntil(lambda: controller.computed_for is not None and not controller.busy,
                    timeout=TIMEOUT_MS)  # fmt: skip
    panel = win.dynamics.panel
    data_path = shipped_test_set("box")
    assert Path(controller.computed_for.data_path) == data_path
    assert panel.message.text() == ""
    cloud = panel.regime_map.cloud
    assert cloud.codes.shape == (200 * 20, 2)  # every code of the test set
    assert panel.regimes.data is not None and panel.error.data is not None
    assert panel.imagination.data.mean_frames.shape[:2] == (16, 80)

    # the LSTM's alpha map at another step, by a key on the slider
    alpha = panel.alpha_map
    assert alpha.step_row.isVisible() and alpha.data.step == 0
    alpha.slider.setFocus()
    explore_frame = win.document.frame
    QTest.keyClick(alpha.slider, Qt.Key.Key_Right)  # not Explore's next-frame key here
    qtbot.waitUntil(lambda: alpha.data.step == 1, timeout=TIMEOUT_MS)
    assert win.document.frame == explore_frame
    # the error curves under random drop, chosen in the view
    assert panel.error.data.mask == "planning"
    panel.tabs.setCurrentWidget(panel.error)
    panel.error.mask.setFocus()
    QTest.keyClick(panel.error.mask, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: panel.error.data.mask == "random", timeout=TIMEOUT_MS)
    panel.tabs.setCurrentIndex(0)

    # hover a point of the map: it names a sequence and frame whose code is there
    plot = panel.regime_map.plot
    target = 7 * 20 + 5  # sequence 7, frame 5
    x, y = cloud.codes[target]
    where = plot.mapFromScene(plot.getPlotItem().getViewBox().mapViewToScene(QPointF(x, y)))
    QTest.mouseMove(plot.viewport(), where)
    qtbot.waitUntil(lambda: panel.regime_map.hover_text().startswith("sequence"))
    words = panel.regime_map.hover_text().split(",")
    sequence = int(words[0].split()[1])
    frame = int(words[1].split()[1])
    hovered = cloud.codes[sequence * 20 + frame]
    assert np.abs(hovered - cloud.codes[target]).max() < 0.05 * np.ptp(cloud.codes)

    # a click there opens that sequence in Explore at that frame
    QTest.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.waitUntil(lambda: win.tabs.currentWidget() is win.explore)
    assert Path(win.document.dataset_path) == data_path
    assert win.document.source.index == sequence
    assert win.document.frame == frame


_OPEN_TAB = """
def main():
    window, _, _ = open_window("box")
    window.show()
    window.tabs.setCurrentWidget(window.dynamics)
    wait_for(window.dynamics.controller.finished, 120000)
    print(json.dumps({
        "points": int(len(window.dynamics.panel.regime_map.cloud.codes)),
        "torch": "torch" in sys.modules,
    }))
    window.shutdown()
"""


def test_the_window_imports_no_torch_with_the_tab_open(tmp_path):
    report = window_script_report(tmp_path, _OPEN_TAB, timeout=300)
    assert report == {"points": 4000, "torch": False}

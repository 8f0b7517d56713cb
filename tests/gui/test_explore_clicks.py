"""Explore's plots answer a click (issue 27, friction): a click on the z_t or α_t plot, or
on a frame's point in the a-space, shows that frame; F1 says what the mouse does, Space
over the frame panning included. Real clicks and key presses."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox
from window_helpers import first_launch_window


def click_at(widget, plot_item, x: float, y: float) -> None:
    """A left click where data point (x, y) of `plot_item` lies in `widget`."""
    scene = plot_item.getViewBox().mapViewToScene(QPointF(x, y))
    where: QPoint = widget.mapFromScene(scene)
    QTest.mouseClick(widget.viewport(), Qt.MouseButton.LeftButton, pos=where)


def test_a_click_on_the_time_plots_shows_that_frame(qtbot, window):
    explore, plots = window.explore, window.explore.time_plots
    assert explore.timeline.frame != 13
    y = float(np.mean(plots.z_plot.getViewBox().viewRange()[1]))
    click_at(plots, plots.z_plot, 13.2, y)
    qtbot.waitUntil(lambda: explore.timeline.frame == 13)
    assert window.document.frame == 13
    click_at(plots, plots.alpha_plot, 2.4, 0.5)
    qtbot.waitUntil(lambda: explore.timeline.frame == 2)
    assert plots.markers[0].value() == 2


@pytest.fixture
def trained(qtbot, qsettings, one_torch_thread):
    """The window with the shipped box model: its codes spread over the a-space (an
    untrained model's lie within a pixel of each other)."""
    from kvae_studio.services.resources import default_model_path
    from model.checkpoint import load_model

    path = default_model_path("box")
    win = first_launch_window(qtbot, load_model(path), path, qsettings)
    yield win
    win.close()


def test_a_click_on_a_point_of_the_a_space_shows_its_frame(qtbot, trained):
    window = trained
    explore, plot = window.explore, window.explore.a_plot
    a = explore.shown.a_smoothed
    box = plot.getPlotItem().getViewBox()
    pixels = np.array([(p.x(), p.y()) for p in (box.mapViewToScene(QPointF(*v)) for v in
                       np.concatenate([a, explore.shown.a_encoded])[:, :2].tolist())])  # fmt: skip
    apart = [np.delete(np.hypot(*(pixels - pixels[t]).T), [t, t + len(a)]).min() for t in
             range(len(a))]  # fmt: skip
    frame = int(np.argmax(apart))  # the point farthest from any other frame's
    assert apart[frame] > 3 and frame != explore.timeline.frame
    click_at(plot, plot.getPlotItem(), float(a[frame, 0]), float(a[frame, 1]))
    qtbot.waitUntil(lambda: explore.timeline.frame == frame)
    # Far from every point: nothing changes.
    (x0, x1), (y0, y1) = plot.getPlotItem().getViewBox().viewRange()
    codes = np.concatenate([a[:, :2], explore.shown.a_encoded[:, :2]])
    corners = [(x, y) for x in (x0, x1) for y in (y0, y1)]
    far = max(corners, key=lambda c: np.min(np.hypot(*(codes - c).T)))
    inset = (far[0] + 0.05 * (x0 + x1 - 2 * far[0]), far[1] + 0.05 * (y0 + y1 - 2 * far[1]))
    click_at(plot, plot.getPlotItem(), *inset)
    QApplication.processEvents()
    assert explore.timeline.frame == frame


def test_f1_says_what_the_mouse_does_and_that_space_pans_the_frame(qtbot, window):
    QTest.keyClick(window, Qt.Key.Key_F1)

    def box() -> QMessageBox | None:
        boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]
        return next((b for b in boxes if b.isVisible()), None)

    qtbot.waitUntil(lambda: box() is not None)
    text = box().text()
    assert "Space + left drag" in text and "Pan the frame" in text
    assert "Click the z_t or α_t plot" in text
    box().close()

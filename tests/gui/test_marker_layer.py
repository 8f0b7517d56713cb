"""The a-space plot's marker layer: markers land on their data points, keep their pixel
size whatever the zoom, skip non-finite points, and stack in the order they were added."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor

from kvae_studio.app.explore.marker_layer import MarkerLayer
from kvae_studio.app.qtsetup import pg

RED, BLUE = "#ff0000", "#0000ff"


def make_plot(qtbot) -> tuple[pg.PlotWidget, MarkerLayer]:
    plot = pg.PlotWidget(background="#000000")
    qtbot.addWidget(plot)
    layer = MarkerLayer()
    plot.getPlotItem().addItem(layer)
    plot.getPlotItem().hideAxis("left")
    plot.getPlotItem().hideAxis("bottom")
    plot.resize(300, 300)
    plot.show()
    qtbot.waitExposed(plot)
    plot.getViewBox().setRange(xRange=(0, 10), yRange=(0, 10), padding=0)
    return plot, layer


def colour_at(plot: pg.PlotWidget, x: float, y: float, dx: int = 0, dy: int = 0) -> QColor:
    """The grabbed widget's colour at data point (x, y), offset by (dx, dy) pixels."""
    scene_point = plot.getViewBox().mapViewToScene(QPointF(x, y))
    widget_point = plot.mapFromScene(scene_point)
    image = plot.grab().toImage()
    return QColor(image.pixel(widget_point.x() + dx, widget_point.y() + dy))


def test_markers_sit_on_their_points_at_their_pixel_size(qtbot):
    plot, layer = make_plot(qtbot)
    dots = layer.add(12, None, RED, "o")
    dots.setData([2.0, 7.0], [3.0, 8.0])
    for x, y in ((2.0, 3.0), (7.0, 8.0)):
        assert colour_at(plot, x, y).name() == RED
        assert colour_at(plot, x, y, dx=4).name() == RED  # inside the 6-pixel radius
        assert colour_at(plot, x, y, dx=9).name() == "#000000"  # outside it
    assert colour_at(plot, 5.0, 5.0).name() == "#000000"
    plot.getViewBox().setRange(xRange=(0, 100), yRange=(0, 100), padding=0)  # zoom out
    assert colour_at(plot, 2.0, 3.0, dx=4).name() == RED  # still 12 pixels across
    assert dots.getData()[0].tolist() == [2.0, 7.0]


def test_hollow_squares_non_finite_points_and_stacking(qtbot):
    plot, layer = make_plot(qtbot)
    squares = layer.add(14, pg.mkPen(RED, width=2), None, "s")
    squares.setData([5.0, np.nan], [5.0, 1.0])  # the NaN point is left out, not drawn at 0
    assert colour_at(plot, 5.0, 5.0).name() == "#000000"  # hollow
    assert colour_at(plot, 5.0, 5.0, dx=7).name() == RED  # its outline
    top = layer.add(8, None, BLUE, "o")
    top.setData([5.0], [5.0])
    assert colour_at(plot, 5.0, 5.0).name() == BLUE  # added later: drawn above
    left, right = layer.dataBounds(0)
    assert (left, right) == (5.0, 5.0)
    assert layer.boundingRect().contains(QPointF(5.0, 5.0))
    squares.setData([], [])
    top.setData([], [])
    assert layer.dataBounds(0) == (None, None)
    assert colour_at(plot, 5.0, 5.0, dx=7).name() == "#000000"

"""The a-space plot fits its widget (issue 27, bug 5): at 1024 and 1400 pixels wide the
plot, its axes and its key lay inside the widget, with a border on the right and room
for the last tick's label, after a real resize of the window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QImage, QPainter
from window_helpers import wait_idle


def drawn_labels(axis) -> list[tuple[QRectF, str]]:
    """The tick labels `axis` draws now, as (rectangle in the scene, text)."""
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    painter.setFont(axis.style["tickFont"] or axis.font())
    try:
        _, _, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [(axis.mapRectToScene(rect), text) for rect, _, text in texts]


@pytest.mark.parametrize("size", [(1024, 700), (1400, 900)])
def test_the_a_space_plot_lies_inside_its_widget_with_a_right_border(qtbot, window, size):
    plot = window.explore.a_plot
    window.resize(*size)
    qtbot.waitUntil(lambda: window.size() == QSize(*size))
    item = plot.getPlotItem()
    view = plot.viewport().rect()
    # Laid out for the widget's new size (the height always follows it).
    qtbot.waitUntil(lambda: round(item.geometry().height()) == view.height())
    wait_idle(qtbot, window)

    inside = QRectF(view)
    assert inside.contains(item.sceneBoundingRect()), (item.sceneBoundingRect(), view)
    box = item.getViewBox().sceneBoundingRect()
    assert box.right() <= view.width() - 8, "a margin right of the plot"
    right = item.getAxis("right")
    assert right.isVisible() and right.sceneBoundingRect().right() <= view.width()
    for name in ("bottom", "left", "top"):
        axis = item.getAxis(name)
        assert inside.contains(axis.mapRectToScene(axis.boundingRect())), name
    labels = drawn_labels(item.getAxis("bottom"))
    assert labels, "the a₁ axis shows its values"
    for rect, text in labels:
        assert inside.contains(rect), f"tick {text!r} at {rect} outside {view}"
    # The rightmost of the labelled ticks (the two coarsest levels) has its label.
    low, high = item.getViewBox().viewRange()[0]
    levels = item.getAxis("bottom").tickValues(low, high, box.width())[:2]
    last = max(v for _, values in levels for v in values if low <= v <= high)
    assert any(float(text) == pytest.approx(last) for _, text in labels), (last, labels)
    assert inside.contains(item.titleLabel.sceneBoundingRect()), "the key"

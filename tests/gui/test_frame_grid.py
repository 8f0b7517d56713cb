"""The frame grid: crisp frames at fixed grey levels, titles with a suffix, cell tooltips."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QColor, QHelpEvent, QImage
from PySide6.QtWidgets import QApplication, QToolTip

from kvae_studio.app.explore.filmstrip import grey_qimages, to_qimage
from kvae_studio.app.explore.frame_grid import FrameGrid


def make_grid(qtbot) -> FrameGrid:
    grid = FrameGrid()
    qtbot.addWidget(grid)
    grid.add("a", "Truth", "the true frame", 0, 0)
    grid.add("b", "Smoothed", "the model's frame", 0, 1)
    grid.resize(400, 220)
    grid.show()
    qtbot.waitExposed(grid)
    return grid


def test_frames_are_drawn_nearest_neighbour_with_fixed_levels(qtbot):
    grid = make_grid(qtbot)
    frame = np.zeros((4, 4), np.float32)
    frame[0, 0] = 1.0  # one white pixel in a black frame: no autoscaling, no blur
    frame[3, 3] = 0.5
    grid.show_frame("a", frame)
    image = grid.grab().toImage()
    rect = grid.frame_rect("a")
    cell = rect.width() / 4
    at = lambda r, c: QColor(  # noqa: E731
        image.pixel(int(rect.left() + (c + 0.5) * cell), int(rect.top() + (r + 0.5) * cell))
    )
    assert at(0, 0).lightness() == 255
    assert at(0, 1).lightness() == 0 and at(1, 0).lightness() == 0
    assert abs(at(3, 3).lightness() - 127) <= 1
    edge = QColor(image.pixel(int(rect.left() + cell - 2), int(rect.top() + cell / 2)))
    assert edge.lightness() == 255, "a pixel's block stays solid up to its edge"
    assert np.array_equal(grid.image("a"), frame)
    grid.show_frame("a", None)
    assert grid.image("a") is None


def test_titles_take_a_suffix_and_each_cell_its_own_tooltip(qtbot):
    grid = make_grid(qtbot)
    grid.set_title("b", "not seen", "#e5484d")
    assert grid.title("b") == "Smoothed  ·  not seen" and grid.title("a") == "Truth"
    centre = grid.frame_rect("b").center()
    event = QHelpEvent(QEvent.Type.ToolTip, centre, grid.mapToGlobal(centre))
    QApplication.sendEvent(grid, event)
    qtbot.waitUntil(QToolTip.isVisible)
    assert QToolTip.text() == "the model's frame\nClick to show it large."
    assert grid.cell_at(QPoint(-5, -5)) is None


def test_grey_images_keep_each_frames_levels(qapp):
    frames = np.random.default_rng(0).random((3, 5, 7)).astype(np.float32)
    frames[1, 2, 3] = 1.5  # clipped to white
    images = grey_qimages(frames)
    assert len(images) == 3
    for frame, image in zip(np.clip(frames, 0, 1), images, strict=True):
        assert (image.width(), image.height()) == (7, 5)
        levels = [[QColor(image.pixel(c, r)).getRgb()[:3] for c in range(7)] for r in range(5)]
        expected = (frame * 255).astype(int)
        assert np.array_equal(np.array(levels), np.repeat(expected[..., None], 3, axis=-1))


def test_colour_frames_become_the_same_pixels_as_an_rgb888_image(qapp):
    rgb = np.random.default_rng(1).random((5, 7, 3)).astype(np.float32)
    rgb[0, 0] = (1.2, -0.1, 0.5)  # clipped
    levels = np.ascontiguousarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8))
    reference = QImage(levels.data, 7, 5, 21, QImage.Format.Format_RGB888)
    assert to_qimage(rgb) == reference.convertToFormat(QImage.Format.Format_RGB32)


def test_a_frame_shown_again_unchanged_is_not_repainted(qtbot):
    grid = make_grid(qtbot)
    frame = np.zeros((4, 4))
    painted = []
    grid.paintEvent = lambda ev: painted.append(ev.rect())  # a probe: what gets painted
    grid.show_frame("a", frame)
    qtbot.waitUntil(lambda: len(painted) >= 1)  # the first picture is painted
    qtbot.wait(20)
    painted.clear()
    grid.show_frame("a", frame.copy())
    qtbot.wait(50)
    assert painted == []
    frame[1, 1] = 1.0  # the caller's array changed in place: a new picture all the same
    grid.show_frame("a", frame)
    qtbot.waitUntil(lambda: len(painted) >= 1)
    qtbot.wait(20)
    assert len(painted) == 1
    assert grid.image("a")[1, 1] == 1.0

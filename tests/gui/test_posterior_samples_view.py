"""Explore's samples view by real events: the Samples button adds two tiles that show,
for the frame on screen, the share of joint posterior samples drawing the object at each
pixel and four of the samples; S is the user's; the view follows the frame and goes away
with the button."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from kvae_studio.app.explore.posterior_samples import mosaic, probability_rgb

TIMEOUT_MS = 120_000


def test_samples_tiles_follow_the_frame_and_the_count(qtbot, window):
    explore = window.explore
    controls = explore.samples_controls
    assert "probability" not in explore.grid.cells
    with qtbot.waitSignal(explore.posterior.shown, timeout=TIMEOUT_MS) as drawn:
        qtbot.mouseClick(controls.toggle, Qt.MouseButton.LeftButton)
    samples = drawn.args[0]
    assert samples.z.shape == (64, 20, 4)  # the default S, T steps, dim_z
    t = explore.current_frame
    np.testing.assert_array_equal(
        explore.grid.image("probability"), probability_rgb(samples.object_probability[t])
    )
    np.testing.assert_array_equal(explore.grid.image("samples"), mosaic(samples.frames[:4, t]))

    # another frame shows that frame's map
    other = (t + 3) % 20
    explore.document.set_frame(other)
    np.testing.assert_array_equal(
        explore.grid.image("probability"), probability_rgb(samples.object_probability[other])
    )

    # a new S, typed in the button's menu: that many samples
    controls.menu.popup(controls.toggle.mapToGlobal(controls.toggle.rect().bottomLeft()))
    qtbot.waitUntil(controls.count.isVisible)
    controls.count.setFocus()
    controls.count.lineEdit().selectAll()
    with qtbot.waitSignal(explore.posterior.shown, timeout=TIMEOUT_MS) as drawn:
        QTest.keyClicks(controls.count, "16")
        QTest.keyClick(controls.count, Qt.Key.Key_Return)
    controls.menu.close()
    assert drawn.args[0].z.shape[0] == 16
    assert "S = 16" in explore.grid.title("probability")

    # off: the tiles go
    qtbot.mouseClick(controls.toggle, Qt.MouseButton.LeftButton)
    assert "probability" not in explore.grid.cells and "samples" not in explore.grid.cells


def test_probability_colours_and_mosaic():
    p = np.array([[0.0, 0.5, 1.0]], np.float32)
    rgb = probability_rgb(p)
    assert np.allclose(rgb[0, 0], 0) and np.allclose(rgb[0, 2], 1)
    assert rgb[0, 1].max() > 0.5  # the smoothed estimate's colour at one half
    frames = np.arange(4 * 2 * 2, dtype=np.float32).reshape(4, 2, 2) / 16
    out = mosaic(frames)
    assert out.shape == (5, 5)
    np.testing.assert_array_equal(out[3:5, 3:5], frames[3])

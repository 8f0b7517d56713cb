"""The Scene tab refuses parameters evenly (issue 27, bug 4): every refused value outlines
its field (and only the fields to blame), the message says why in the words and units the
form shows, never the dataclass's names, and the preview clears rather than play frames
of values that are no longer in the form. Typed with real key presses."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import re

import pytest
from panel_helpers import TIMEOUT, choose, click, type_into

from kvae_studio.app.panels.workspace import Workspace
from kvae_studio.sim import SCENES

NAMES = {name for cls in SCENES.values() for name in cls.__dataclass_fields__}


@pytest.fixture
def panel(qtbot, tmp_path, qapp):
    from kvae_studio.app.panels.scene_panel import ScenePanel

    panel = ScenePanel(Workspace(tmp_path / "studio"))
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.preview.sequences is not None, timeout=TIMEOUT)
    yield panel
    panel.shutdown()


def outlined(panel) -> set[str]:
    names = {n for n in panel.form.names() if panel.form.editor(n).property("invalid")}
    for name in names:
        assert "border" in panel.form.editor(name).styleSheet(), name
    return names


def refused(qtbot, panel, field: str, text: str) -> str:
    """Type `text` into `field`; wait until it is refused; the message shown."""
    type_into(panel.form.editor(field), text)
    qtbot.waitUntil(lambda: panel.param_message.is_error, timeout=TIMEOUT)
    message = panel.param_message.text()
    internal = {w for w in re.findall(r"[a-z_]+", message) if "_" in w and w in NAMES}
    assert not internal, f"{message!r} names {internal}"
    # No frames of other values: the preview is empty and says why.
    assert panel.preview.sequences is None
    assert "no preview" in panel.preview.caption.text().lower()
    return message


def accepted(qtbot, panel, field: str, text: str) -> None:
    type_into(panel.form.editor(field), text)
    qtbot.waitUntil(lambda: not panel.param_message.is_error, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: panel.preview.sequences is not None, timeout=TIMEOUT)
    assert outlined(panel) == set()


def test_a_ball_too_large_is_outlined_said_in_pixels_and_clears_the_preview(qtbot, panel):
    message = refused(qtbot, panel, "ball_radius", "50")
    assert outlined(panel) == {"ball_radius"}
    assert "ball radius (px)" in message and "16" in message and "50" in message
    accepted(qtbot, panel, "ball_radius", "3")


def test_a_ball_that_does_not_fit_outlines_the_radius_and_the_walls(qtbot, panel):
    message = refused(qtbot, panel, "inset", "15")
    assert outlined(panel) == {"ball_radius", "inset"}
    assert "does not fit" in message and "wall inset" in message
    accepted(qtbot, panel, "inset", "2")


def test_lowest_speed_above_highest_names_both_in_words(qtbot, panel):
    message = refused(qtbot, panel, "speed_min", "20")
    assert outlined(panel) == {"speed_min", "speed_max"}
    assert "lowest speed (20)" in message and "highest speed (15)" in message
    accepted(qtbot, panel, "speed_max", "25")  # fixed from the other end


def test_text_that_is_no_number_names_its_label(qtbot, panel):
    message = refused(qtbot, panel, "dt", "fast")
    assert outlined(panel) == {"dt"}
    assert message.startswith("time per frame: 'fast'")
    accepted(qtbot, panel, "dt", "0.2")


def test_pong_floor_below_roof_is_outlined_in_words(qtbot, panel):
    choose(panel.scene_combo, "Pong")
    qtbot.waitUntil(lambda: panel.preview.sequences is not None, timeout=TIMEOUT)
    message = refused(qtbot, panel, "floor_row", "32")  # the roof's row
    assert {"floor_row", "roof_row"} <= outlined(panel)
    assert "floor row" in message


def test_a_preview_made_before_a_refused_edit_is_not_shown(qtbot, panel):
    """A preview still being simulated when the form turns invalid must not appear."""
    before = panel.preview_job
    type_into(panel.form.editor("ball_radius"), "2")
    qtbot.waitUntil(lambda: panel.preview_job is not before, timeout=TIMEOUT)  # started
    running = panel.preview_job
    refused(qtbot, panel, "ball_radius", "50")
    qtbot.waitUntil(lambda: not running.is_running(), timeout=TIMEOUT)
    assert panel.preview.sequences is None
    assert outlined(panel) == {"ball_radius"}


def test_generate_with_refused_values_says_it_in_words(qtbot, panel):
    type_into(panel.form.editor("speed_min"), "20")
    click(panel.generate_button)  # before the preview's debounce has fired
    assert panel.message.is_error
    assert "lowest speed (20)" in panel.message.text()
    assert outlined(panel) == {"speed_min", "speed_max"}

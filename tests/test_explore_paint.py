"""Explore's rules without Qt or torch: the paint tool the document owns, what a press, a
drag and a release do with it, when an edit asks the model, and the newest result.

The window only forwards the pointer and sends a request when the document asks
(tests/gui/test_paint_tools.py drives the same rules with real mouse and key events);
here the pointer is replayed into the document, as napari tests its labels layer. The
document holds a `ModelRef`, as the window does, so no torch is needed.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from kvae_studio.document.explore import ExploreDocument
from kvae_studio.document.opening import fresh_model_ref
from kvae_studio.document.paint_tool import DEFAULT_SIZE, MAX_SIZE, MIN_SIZE, TOOLS, PaintTool
from kvae_studio.document.shapes import fill_region
from kvae_studio.services.model_ref import ExploredModel, ModelRef


@pytest.fixture
def doc() -> ExploreDocument:
    document = ExploreDocument(fresh_model_ref())
    document.new_sequence("box", 0, steps=20)
    document.mask.clear_all()
    document.mask.reset(document.mask.hidden, document.mask.occluded)  # no history
    return document


@pytest.fixture
def asks(doc) -> list[str]:
    """What the document says, in order: "ask" for each time it asks the model."""
    said: list[str] = []
    doc.inference_wanted.connect(lambda: said.append("ask"))
    doc.mask_changed.connect(lambda e: said.append("mask" if e.committed else "stroke"))
    doc.swapped.connect(lambda _change: said.append("swapped"))
    return said


def drag(doc: ExploreDocument, points, other_button: bool = False) -> None:
    (x, y), *rest = points
    doc.press(x, y, other_button)
    for x, y in rest:
        doc.drag_to(x, y)
    doc.release()


# The paint tool.
def test_the_paint_tool_starts_as_the_controls_did_and_keeps_its_values_in_range():
    tool = PaintTool()
    assert (tool.tool, tool.size, tool.eraser, tool.all_frames) == (
        "brush", DEFAULT_SIZE, False, False,
    )  # fmt: skip
    assert TOOLS == ("brush", "rectangle", "lasso", "fill")
    tool.size = 99
    assert tool.size == MAX_SIZE
    tool.step_size(-100)
    assert tool.size == MIN_SIZE
    tool.step_size(2)
    assert tool.size == MIN_SIZE + 2
    with pytest.raises(ValueError, match="unknown tool 'spray'"):
        tool.tool = "spray"
    assert tool.tool == "brush"


def test_the_paint_tool_announces_only_real_changes():
    tool = PaintTool()
    said: list = []
    for name in ("tool_changed", "size_changed", "eraser_changed", "all_frames_changed"):
        getattr(tool, name).connect(lambda value, name=name: said.append((name, value)))
    tool.tool = "brush"
    tool.size = DEFAULT_SIZE
    tool.eraser = False
    tool.all_frames = False
    tool.size = MAX_SIZE + 5
    tool.step_size(1)  # at the largest already
    assert said == [("size_changed", MAX_SIZE)]
    tool.tool = "lasso"
    tool.eraser = True
    tool.all_frames = True
    assert said[1:] == [
        ("tool_changed", "lasso"), ("eraser_changed", True), ("all_frames_changed", True),
    ]  # fmt: skip
    assert not tool.has_size, "only the brush has a size"


@pytest.mark.parametrize(
    ("eraser", "other_button", "paints"),
    [(False, False, True), (False, True, False), (True, False, False), (True, True, True)],
)
def test_the_right_button_does_the_other_thing_than_the_eraser_says(eraser, other_button, paints):
    assert PaintTool(eraser=eraser).paints(other_button) is paints


def test_the_document_owns_one_paint_tool_that_outlives_its_swaps(doc):
    tool = doc.paint
    tool.tool, tool.size = "rectangle", 9
    doc.new_sequence("pong", 3)
    assert doc.paint is tool and (tool.tool, tool.size) == ("rectangle", 9)


# What the pointer does with it.
def test_a_brush_stroke_paints_the_current_frame_with_the_tools_size_in_one_undo_step(doc):
    doc.set_frame(5)
    doc.paint.size = 1
    drag(doc, [(0.5, 0.5), (31.5, 31.5)])
    painted = doc.mask.occluded
    assert painted[5][np.arange(32), np.arange(32)].all() and painted[5].sum() < 32 * 3
    assert not np.delete(painted, 5, axis=0).any()
    assert doc.mask.history_length == 1

    doc.paint.size = 8
    drag(doc, [(16.0, 16.0)])
    assert doc.mask.occluded[5].sum() > 40, "the wider brush"
    doc.mask.undo()
    doc.mask.undo()
    assert not doc.mask.occluded.any()


def test_the_eraser_and_the_right_button_erase_and_all_frames_paints_every_frame(doc):
    doc.paint.all_frames = True
    doc.paint.tool = "rectangle"
    drag(doc, [(2.5, 2.5), (11.5, 11.5)])
    assert doc.mask.occluded[:, 2:12, 2:12].all() and doc.mask.occluded.sum() == 20 * 100

    doc.paint.all_frames = False
    doc.set_frame(3)
    drag(doc, [(2.5, 2.5), (6.5, 11.5)], other_button=True)
    assert not doc.mask.occluded[3, 2:12, 2:7].any() and doc.mask.occluded[3, 2:12, 7:12].all()
    assert doc.mask.occluded[4, 2:12, 2:12].all(), "only the current frame"

    doc.paint.eraser = True
    drag(doc, [(7.5, 2.5), (11.5, 11.5)])
    assert not doc.mask.occluded[3].any()
    drag(doc, [(2.5, 20.5), (3.5, 21.5)], other_button=True)
    assert doc.mask.occluded[3, 20:22, 2:4].all(), "with the eraser, the right button paints"


def test_the_fill_covers_the_clicked_region_at_the_press_and_ignores_the_rest_of_the_drag(
    doc, asks
):
    doc.set_frame(6)
    rows, cols = np.nonzero(doc.images[6] >= 0.5)
    ball = (cols[0] + 0.5, rows[0] + 0.5)
    doc.paint.tool = "fill"
    asks.clear()
    doc.press(*ball)
    assert np.array_equal(doc.mask.occluded[6], fill_region(doc.images[6], ball))
    assert asks == ["ask", "mask"], "one edit, asked at once"
    doc.drag_to(1.0, 1.0)
    doc.release()
    assert asks == ["ask", "mask"] and doc.mask.history_length == 1


def test_a_cancelled_drag_leaves_the_mask_as_it_was(doc):
    doc.paint.tool = "lasso"
    doc.press(4.0, 4.0)
    doc.drag_to(28.0, 4.0)
    doc.drag_to(28.0, 28.0)
    assert doc.mask.occluded[0].any(), "the lasso shows what it covers as it goes"
    doc.cancel()
    assert not doc.mask.occluded.any() and not doc.mask.can_undo


# When the document asks the model.
def test_a_drag_asks_the_model_once_at_its_release_never_while_a_box_is_dragged(doc, asks):
    doc.paint.tool = "rectangle"
    doc.press(3.5, 5.5)
    doc.drag_to(26.5, 20.5)
    doc.drag_to(12.5, 10.5)
    assert "ask" not in asks and asks.count("stroke") >= 2, "shown, not asked"
    doc.release()
    assert asks[-2:] == ["ask", "mask"], "the request leaves before the window draws"
    assert asks.count("ask") == 1


def test_every_committed_edit_asks_the_model_and_a_frame_change_does_not(doc, asks):
    doc.mask.toggle_hidden(2)
    doc.apply_planning(4, 12)
    doc.apply_band("vertical", 16, 4)
    doc.mask.undo()
    doc.mask.redo()
    doc.mask.clear_frame(2)
    assert asks.count("ask") == 6 and asks.count("mask") == 6
    doc.set_frame(7)
    doc.apply_planning(4, 12)  # nothing changes: nothing to ask
    steps = doc.mask.history_length
    for _ in range(steps + 2):  # the last two have nothing left to undo
        doc.mask.undo()
    assert asks.count("ask") == 6 + steps


def test_a_swap_asks_the_model_once_after_announcing_itself(doc, asks):
    doc.new_sequence("pong", 4)
    assert asks == ["swapped", "ask"], "the masks carried over say nothing of their own"
    doc.set_model(ModelRef(doc.model.config, seed=1), None)
    assert asks[2:] == ["swapped", "ask"]


# The newest result.
def test_the_newest_result_is_kept_until_the_sequence_changes(doc):
    results: list = []
    doc.result_changed.connect(results.append)
    assert doc.result is None
    first, second = object(), object()
    doc.set_result(first)
    doc.set_result(second)
    assert doc.result is second and results == [first, second]
    doc.mask.toggle_hidden(3)
    doc.set_model(ModelRef(doc.model.config, seed=2), None)
    assert doc.result is second, "kept until the new model's result replaces it"
    doc.new_sequence("box", 9)
    assert doc.result is None, "another sequence's result is never shown on this one"


def test_the_model_is_a_typed_reference_and_the_document_stays_torch_free():
    ref: ExploredModel = fresh_model_ref()
    assert ExploreDocument(ref).model is ref, "held as it is: no eval() to call"
    assert not hasattr(ModelRef, "eval"), "a reference does not pretend to be a module"
    code = (
        "import sys\n"
        "from kvae_studio.document.explore import ExploreDocument\n"
        "from kvae_studio.document.opening import fresh_model_ref\n"
        "doc = ExploreDocument(fresh_model_ref()); doc.new_sequence('box', 0)\n"
        "doc.paint.tool = 'rectangle'; doc.press(2, 2); doc.drag_to(9, 9); doc.release()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

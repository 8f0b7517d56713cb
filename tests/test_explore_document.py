"""The Explore document without Qt: open, save, new sequence, mask edits, failed opens.

What the Explore tab does to its state is tested here with no display and no widget:
the document is the source of truth, and the view only draws it.
"""

from __future__ import annotations

import subprocess
import sys

import hostile_files as hostile
import numpy as np
import pytest
import torch

from kvae_studio.document.explore import ExploreDocument, Swap
from kvae_studio.document.mask_presets import planning_hidden
from kvae_studio.document.masking import MaskEvent
from kvae_studio.document.opening import OpenError
from kvae_studio.document.sources import (
    DatasetSource,
    OtherSource,
    SceneSource,
    source_from_dict,
    source_to_dict,
)
from model.checkpoint import save_model
from model.config import KVAEConfig
from model.kvae import KVAE


def tiny_model(frame_size: int = 32, seed: int = 0) -> KVAE:
    torch.manual_seed(seed)
    return KVAE(KVAEConfig(frame_size=frame_size)).eval()


@pytest.fixture
def doc() -> ExploreDocument:
    document = ExploreDocument(tiny_model())
    document.new_sequence("box", 0, steps=20)
    return document


@pytest.fixture
def events(doc):
    seen: list = []
    doc.swapped.connect(lambda change: seen.append(("swapped", change)))
    doc.mask_changed.connect(lambda event: seen.append(("mask", event)))
    doc.frame_changed.connect(lambda frame: seen.append(("frame", frame)))
    return seen


def state_of(doc: ExploreDocument) -> tuple:
    return (
        doc.model,
        doc.model_path,
        doc.images.copy(),
        doc.source,
        doc.mask.hidden.copy(),
        doc.mask.occluded.copy(),
        doc.frame,
        doc.dataset,
    )


def assert_same(doc: ExploreDocument, before: tuple) -> None:
    model, path, images, source, hidden, occluded, frame, dataset = before
    assert doc.model is model and doc.model_path == path and doc.source == source
    assert np.array_equal(doc.images, images)
    assert np.array_equal(doc.mask.hidden, hidden)
    assert np.array_equal(doc.mask.occluded, occluded)
    assert doc.frame == frame and doc.dataset is dataset


def test_the_document_imports_no_qt():
    code = (
        "import sys, kvae_studio.document.explore, kvae_studio.document.sources;"
        "print([m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_new_sequence_is_simulated_with_the_planning_mask_and_announced_once(doc, events):
    doc.set_frame(7)
    doc.new_sequence("polygon", 3, marker=True)
    assert doc.source == SceneSource("polygon", 3, True) and doc.sequence_scene == "polygon"
    assert doc.images.shape == (20, 32, 32) and doc.state.shape == (20, 4)
    cfg = doc.model.config
    planning = planning_hidden(20, cfg.t_init_mask, cfg.t_steps_mask)
    assert planning.any() and np.array_equal(doc.mask.hidden, planning)
    assert doc.frame == 0
    swaps = [e for e in events if e[0] == "swapped"]
    assert swaps == [("swapped", Swap(model=False, sequence=True))]
    assert not [e for e in events if e[0] == "mask"], "a swap announces itself once"


def test_the_same_seed_gives_the_same_frames_and_another_seed_others(doc):
    first = doc.images.copy()
    doc.new_sequence("box", 0)
    assert np.array_equal(doc.images, first)
    doc.new_sequence("box", 1)
    assert not np.array_equal(doc.images, first)


def test_mask_edits_are_events_with_undo_and_make_the_edits_unsaved(doc, events):
    assert not doc.unsaved_edits
    doc.mask.toggle_hidden(0)
    doc.apply_band("vertical", 16, 4)
    assert doc.mask.hidden[0] and doc.mask.occluded[:, :, 16].all()
    assert [e[1].committed for e in events if e[0] == "mask"] == [True, True]
    assert all(isinstance(e[1], MaskEvent) for e in events if e[0] == "mask")
    assert doc.unsaved_edits
    doc.mask.undo()
    doc.mask.undo()
    assert not doc.mask.hidden[0] and not doc.mask.occluded.any() and not doc.unsaved_edits


def test_frames_are_clipped_and_only_changes_are_announced(doc, events):
    doc.set_frame(99)
    doc.set_frame(19)
    doc.set_frame(-5)
    assert [e for e in events if e[0] == "frame"] == [("frame", 19), ("frame", 0)]
    assert doc.frame == 0


def test_save_and_open_a_session_puts_everything_back(doc, tmp_path):
    doc.new_sequence("pong", 4)
    doc.apply_random(0.5, 1, 2)
    doc.mask.begin_stroke(3, paint=True, size=5)
    doc.mask.stroke_to(10, 10)
    doc.mask.end_stroke()
    doc.set_frame(9)
    saved = state_of(doc)
    path = tmp_path / "mine.session.npz"
    doc.save_session(path)
    assert not doc.unsaved_edits

    doc.new_sequence("box", 8)
    doc.mask.clear_all()
    assert doc.open_session(path) == ""
    model, model_path, images, source, hidden, occluded, frame, _ = saved
    assert doc.model is model and doc.model_path == model_path
    assert doc.source == source == SceneSource("pong", 4, False)
    assert np.array_equal(doc.images, images) and np.array_equal(doc.mask.hidden, hidden)
    assert np.array_equal(doc.mask.occluded, occluded) and doc.frame == frame == 9
    assert not doc.mask.can_undo and not doc.unsaved_edits


def test_open_a_model_keeps_the_sequence_masks_and_undo_history(doc, tmp_path, events):
    path = tmp_path / "other.safetensors"
    save_model(tiny_model(seed=1), path)
    doc.mask.toggle_hidden(2)
    images, hidden = doc.images.copy(), doc.mask.hidden.copy()
    doc.open_model(path)
    assert doc.model_path == str(path.resolve())
    assert np.array_equal(doc.images, images) and np.array_equal(doc.mask.hidden, hidden)
    assert doc.mask.can_undo and doc.unsaved_edits
    assert events[-1] == ("swapped", Swap(model=True, sequence=False))


def test_a_model_of_another_frame_size_resimulates_a_scene_but_refuses_a_dataset(doc, tmp_path):
    path = tmp_path / "big.safetensors"
    save_model(tiny_model(frame_size=64), path)
    doc.open_model(path)
    assert doc.images.shape == (20, 64, 64) and doc.source == SceneSource("box", 0, False)

    data = tmp_path / "small.npz"
    np.savez(data, images=np.zeros((2, 20, 32, 32), np.float32))
    before = state_of(doc)
    with pytest.raises(OpenError, match=r"small\.npz: frames are 32×32 px, the model expects 64"):
        doc.open_dataset(data)
    assert_same(doc, before)


def test_open_a_dataset_and_move_through_its_sequences(doc, tmp_path):
    rng = np.random.default_rng(0)
    images = (rng.random((3, 20, 32, 32)) > 0.9).astype(np.float32)
    path = tmp_path / "three.npz"
    np.savez(path, images=images)
    data = doc.open_dataset(path, index=1)
    assert data.num_sequences == 3 and doc.source == DatasetSource(str(path.resolve()), 1)
    assert np.array_equal(doc.images, images[1])
    doc.show_dataset_sequence(2)
    assert np.array_equal(doc.images, images[2]) and doc.source.index == 2
    doc.show_dataset_sequence(9)
    assert doc.source.index == 2, "an index past the end is the last sequence"


@pytest.mark.parametrize(("name", "content", "opener"), hostile.BROKEN_FILES)
def test_a_failed_open_leaves_the_document_unchanged(doc, events, tmp_path, name, content, opener):
    doc.mask.toggle_hidden(5)
    doc.set_frame(4)
    events.clear()
    before = state_of(doc)
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(OpenError) as err:
        getattr(doc, opener)(path)
    assert name in str(err.value) and "\n" not in str(err.value)
    assert_same(doc, before)
    assert doc.mask.can_undo and events == []


def test_an_observer_that_fails_during_a_swap_puts_the_old_state_back(doc, tmp_path):
    before = state_of(doc)
    calls: list = []

    def breaks_once(change):
        calls.append(change)
        if len(calls) == 1:
            raise RuntimeError("a view broke while redrawing")

    doc.swapped.connect(breaks_once)
    with pytest.raises(OpenError, match="a view broke while redrawing"):
        doc.new_sequence("pong", 5)
    assert_same(doc, before)
    assert len(calls) == 2, "observers hear of the way back too"
    doc.new_sequence("pong", 5)  # works next time
    assert doc.source == SceneSource("pong", 5, False)


def test_saving_where_nothing_can_be_written_is_one_line_and_keeps_the_edits(doc, tmp_path):
    doc.mask.toggle_hidden(1)
    with pytest.raises(OpenError) as err:
        doc.save_session(tmp_path / "no-such-folder" / "x.session.npz")
    assert "x.session.npz" in str(err.value) and doc.unsaved_edits


@pytest.mark.parametrize(
    "source",
    [SceneSource("box", 3, True), DatasetSource("/d/box.npz", 2), OtherSource("script")],
)
def test_sources_round_trip_through_the_session_json(source):
    assert source_from_dict(source_to_dict(source)) == source


@pytest.mark.parametrize(
    "data", [None, [], {"kind": "scene"}, {"kind": "scene", "scene": "box", "seed": "x"}, {}]
)
def test_an_unreadable_source_is_shown_as_other_not_an_error(data):
    assert isinstance(source_from_dict(data), OtherSource)

"""Masks saved on their own and loaded onto another sequence, without Qt: the .npz and
the PNG stack round trip, load without pickle, are written atomically, refuse what is
not theirs in one line; the document puts them on as one undo step, or refuses a shape
that does not fit and changes nothing."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import torch

from kvae_studio.document import mask_file
from kvae_studio.document.explore import ExploreDocument
from kvae_studio.document.mask_file import MaskFileError, load_masks, save_mask_pngs, save_masks
from kvae_studio.document.opening import OpenError
from kvae_studio.document.session import Session, save_session
from model.config import KVAEConfig
from model.kvae import KVAE


def some_masks(steps=6, height=8, width=10, seed=0):
    rng = np.random.default_rng(seed)
    hidden = rng.random(steps) < 0.4
    occluded = rng.random((steps, height, width)) < 0.3
    return hidden, occluded


def test_the_npz_round_trips_and_loads_with_numpy_alone_without_pickle(tmp_path):
    hidden, occluded = some_masks()
    path = tmp_path / "walls.masks.npz"
    save_masks(path, hidden, occluded)
    back_hidden, back_occluded = load_masks(path)
    assert np.array_equal(back_hidden, hidden) and np.array_equal(back_occluded, occluded)
    with np.load(path, allow_pickle=False) as plain:  # any numpy reads it
        assert plain["hidden"].dtype == bool and plain["occluded"].shape == (6, 8, 10)
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temporary file is left"


def test_a_write_that_fails_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "walls.masks.npz"
    save_masks(path, *some_masks(seed=1))
    before = path.read_bytes()

    def no_room(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("model.temp_files.os.replace", no_room)
    with pytest.raises(MaskFileError, match=r"^walls.masks.npz: cannot write the masks \(No sp"):
        save_masks(path, *some_masks(seed=2))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_sessions_masks_load_the_same_way(tmp_path):
    hidden, occluded = some_masks()
    images = np.zeros(occluded.shape, np.float32)
    save_session(tmp_path / "s.session.npz", Session(images, hidden, occluded))
    back = load_masks(tmp_path / "s.session.npz")
    assert np.array_equal(back[0], hidden) and np.array_equal(back[1], occluded)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"images": np.zeros((2, 3, 3))}, "holds no masks (no hidden or occluded array)"),
        ({"hidden": np.zeros(2), "occluded": np.full((2, 3, 3), 7)}, "values other than 0 and 1"),
        ({"hidden": np.zeros(3, bool), "occluded": np.zeros((2, 3, 3), bool)}, "do not fit"),
        (
            {"hidden": np.array([None, 1], object), "occluded": np.zeros((2, 3, 3), bool)},
            "object array, which needs pickle",
        ),
    ],
)
def test_what_is_not_a_mask_file_is_refused_in_one_line(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(MaskFileError, match=r"^bad\.npz: ") as err:
        load_masks(path)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_foreign_or_broken_file_is_refused_in_one_line(tmp_path):
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(MaskFileError, match=r"^text\.npz: not a readable mask file"):
        load_masks(tmp_path / "text.npz")
    with zipfile.ZipFile(tmp_path / "other.npz", "w") as archive:
        archive.writestr("masks.npy", b"\x93NUMPY garbage")
        archive.writestr("hidden.npy", b"")
        archive.writestr("occluded.npy", b"")
    with pytest.raises(MaskFileError, match=r"^other\.npz: "):
        load_masks(tmp_path / "other.npz")


def test_the_png_stack_round_trips_one_white_picture_per_hidden_frame(tmp_path):
    cv2 = pytest.importorskip("cv2")
    hidden, occluded = some_masks(steps=4)
    hidden[:] = [False, True, False, False]
    occluded[3] = False
    written = save_mask_pngs(tmp_path / "walls.png", hidden, occluded)
    assert [p.name for p in written] == [f"walls-{t:03d}.png" for t in range(4)]
    pictures = [cv2.imread(str(p), cv2.IMREAD_UNCHANGED) for p in written]
    assert all(p.dtype == np.uint8 and p.shape == (8, 10) for p in pictures)
    assert (pictures[1] == 255).all() and np.array_equal(pictures[0] == 255, occluded[0])
    back_hidden, back_occluded = load_masks(written[2])  # any picture of the stack
    assert np.array_equal(back_hidden, hidden)
    want = occluded.copy()
    want[1] = False  # under a hidden frame the paint is not kept: the frame is all white
    assert np.array_equal(back_occluded, want)

    # A shorter stack written over it takes the longer one's place entirely.
    save_mask_pngs(tmp_path / "walls", hidden[:2], occluded[:2])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walls-000.png", "walls-001.png"]
    assert load_masks(tmp_path / "walls-001.png")[1].shape == (2, 8, 10)


def test_a_png_that_is_not_a_stacks_picture_is_refused(tmp_path):
    pytest.importorskip("cv2")
    (tmp_path / "photo.png").write_bytes(b"\x89PNG")
    with pytest.raises(MaskFileError, match=r"^photo.png: not a picture of a mask stack"):
        load_masks(tmp_path / "photo.png")
    (tmp_path / "x-001.png").write_bytes(b"\x89PNG")
    with pytest.raises(MaskFileError, match=r"^x-001.png: its stack has no first picture"):
        load_masks(tmp_path / "x-001.png")
    (tmp_path / "x-000.png").write_bytes(b"not a png at all")
    with pytest.raises(MaskFileError, match=r"^x-000.png: not a readable PNG"):
        load_masks(tmp_path / "x-001.png")
    assert mask_file.describe((20, 32, 32)) == "20 frames of 32×32 pixels"


# The document.
@pytest.fixture
def doc() -> ExploreDocument:
    torch.manual_seed(0)
    document = ExploreDocument(KVAE(KVAEConfig(frame_size=32)).eval())
    document.new_sequence("box", 0, steps=20)
    return document


def test_masks_saved_on_one_sequence_go_onto_another_as_one_undo_step(doc, tmp_path):
    doc.apply_band("vertical", 10, 4)
    doc.mask.toggle_hidden(17)
    hidden, occluded = doc.mask.hidden.copy(), doc.mask.occluded.copy()
    path = tmp_path / "wall.masks.npz"
    assert doc.export_masks(path) == [path]

    doc.new_sequence("box", 5, steps=20)
    doc.mask.clear_all()
    history = doc.mask.history_length
    events = []
    doc.mask_changed.connect(events.append)
    assert doc.import_masks(path)
    assert np.array_equal(doc.mask.hidden, hidden) and np.array_equal(doc.mask.occluded, occluded)
    assert doc.mask.history_length == history + 1 and events[-1].committed
    doc.mask.undo()
    assert not doc.mask.hidden.any() and not doc.mask.occluded.any()
    doc.mask.redo()
    assert np.array_equal(doc.mask.occluded, occluded)
    assert not doc.import_masks(path), "the same masks again: no undo step"
    assert doc.mask.history_length == history + 1


def test_masks_of_another_shape_are_refused_and_nothing_changes(doc, tmp_path):
    save_masks(tmp_path / "short.masks.npz", *some_masks(steps=12, height=32, width=32))
    save_masks(tmp_path / "small.masks.npz", *some_masks(steps=20, height=16, width=16))
    hidden, occluded = doc.mask.hidden.copy(), doc.mask.occluded.copy()
    history = doc.mask.history_length
    with pytest.raises(OpenError) as err:
        doc.import_masks(tmp_path / "short.masks.npz")
    assert str(err.value) == (
        "short.masks.npz: its masks are for 12 frames of 32×32 pixels, "
        "the sequence on screen has 20 frames of 32×32 pixels"
    )
    with pytest.raises(OpenError, match="16×16 pixels, the sequence on screen has 20 frames"):
        doc.import_masks(tmp_path / "small.masks.npz")
    assert np.array_equal(doc.mask.hidden, hidden) and np.array_equal(doc.mask.occluded, occluded)
    assert doc.mask.history_length == history


def test_the_png_stack_goes_through_the_document_too(doc, tmp_path):
    pytest.importorskip("cv2")
    doc.apply_band("horizontal", 5, 3)
    written = doc.export_masks(tmp_path / "band.png", png_stack=True)
    assert len(written) == 20
    want = doc.mask.occluded.copy(), doc.mask.hidden.copy()
    doc.mask.clear_all()
    assert doc.import_masks(written[0])
    assert np.array_equal(doc.mask.occluded[~want[1]], want[0][~want[1]])
    assert np.array_equal(doc.mask.hidden, want[1])

"""The sequence file format: round trips, the original files, and every kind of bad file."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from model.data import (
    DatasetError,
    SequenceWriter,
    list_arrays,
    load_sequences,
    save_sequences,
)

ORIGINALS = Path(__file__).resolve().parent / "data"  # the original generator's files


def _frames(n=3, t=4, size=8, seed=0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = (rng.random((n, t, size, size)) > 0.7).astype(np.float32) * rng.random(
        (n, t, size, size), dtype=np.float32
    )
    state = rng.normal(size=(n, t, 4)).astype(np.float32)
    return images, state


def _npz(path: Path, **arrays) -> Path:
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def test_round_trip(tmp_path):
    images, state = _frames()
    save_sequences(tmp_path / "a.npz", images, state)
    data = load_sequences(tmp_path / "a.npz")
    np.testing.assert_array_equal(data.images, images)
    np.testing.assert_array_equal(data.state, state)
    assert data.images.dtype == np.float32 and data.state.dtype == np.float32
    assert data.notes == ()
    assert (data.num_sequences, data.num_steps, data.frame_shape) == (3, 4, (8, 8))
    # readable by plain numpy, without pickle
    with np.load(tmp_path / "a.npz", allow_pickle=False) as plain:
        assert sorted(plain.files) == ["images", "state"]
        np.testing.assert_array_equal(plain["images"], images)


def test_round_trip_without_state(tmp_path):
    images, _ = _frames()
    save_sequences(tmp_path / "a.npz", images)
    data = load_sequences(tmp_path / "a.npz")
    assert data.state is None
    assert [a.name for a in list_arrays(tmp_path / "a.npz")] == ["images"]


def test_same_arrays_give_the_same_bytes(tmp_path):
    images, state = _frames()
    save_sequences(tmp_path / "a.npz", images, state)
    os.utime(tmp_path, (0, 0))  # a different moment must not matter
    save_sequences(tmp_path / "b.npz", images, state)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_streamed_batches_equal_one_save(tmp_path):
    images, state = _frames(n=7)
    save_sequences(tmp_path / "one.npz", images, state)
    with SequenceWriter(tmp_path / "batched.npz", images.shape) as writer:
        for lo in range(0, 7, 3):
            writer.write(images[lo : lo + 3])
        writer.finish(state)
    assert (tmp_path / "one.npz").read_bytes() == (tmp_path / "batched.npz").read_bytes()


def test_failed_write_leaves_nothing_and_keeps_the_old_file(tmp_path):
    images, state = _frames()
    target = tmp_path / "a.npz"
    save_sequences(target, images, state)
    before = target.read_bytes()
    with pytest.raises(DatasetError, match="state has shape"):
        save_sequences(target, images, state[:, :2])
    with pytest.raises(DatasetError, match=r"must lie in \[0, 1\]"):
        save_sequences(target, images * 3, state)
    with pytest.raises(RuntimeError), SequenceWriter(target, images.shape) as writer:
        writer.write(images[:1])
        raise RuntimeError("cancelled")
    with (
        pytest.raises(DatasetError, match="wrote 1 of 3"),
        SequenceWriter(target, images.shape) as writer,
    ):
        writer.write(images[:1])
        writer.finish(state)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz"]


def test_write_into_a_missing_folder_is_a_clear_error(tmp_path):
    images, _ = _frames()
    with pytest.raises(DatasetError, match="cannot write"):
        save_sequences(tmp_path / "no" / "such" / "a.npz", images)


@pytest.mark.parametrize("name", ["box", "box-gravity", "polygon", "pong"])
def test_the_original_files_load(name):
    path = ORIGINALS / f"original-{name}.npz"
    data = load_sequences(path)
    assert data.images.shape == (200, 20, 32, 32)
    assert data.images.dtype == np.float32
    assert data.images.min() == 0 and data.images.max() == 1
    if name == "pong":
        assert data.state is None
        assert any("'controls'" in note and "pickle" in note for note in data.notes)
        assert any("65793" in note for note in data.notes)
        # the packed colours become the same values as in the other original files
        values = np.unique(data.images).astype(np.float64)
        np.testing.assert_allclose(values, [0.0, 0.17282583, 0.90350705, 1.0], atol=1e-6)
    else:
        assert data.state.shape == (200, 20, 4)
        assert data.notes == ()


def test_pickle_is_never_run(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.npz"
    images, _ = _frames()
    buffer = io.BytesIO()
    np.save(buffer, np.array([Evil()], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("images.npy", buffer.getvalue())
        zf.writestr("controls.npy", buffer.getvalue())
    with pytest.raises(DatasetError, match="needs pickle"):
        load_sequences(path)
    assert not marker.exists()
    # an object array beside good images is skipped and reported
    good = tmp_path / "good.npz"
    with zipfile.ZipFile(good, "w") as zf:
        out = io.BytesIO()
        np.save(out, images)
        zf.writestr("images.npy", out.getvalue())
        zf.writestr("controls.npy", buffer.getvalue())
    data = load_sequences(good)
    assert data.notes == ("skipped key 'controls': object array needs pickle",)
    assert not marker.exists()


def test_lenient_reading_is_reported(tmp_path):
    images, state = _frames(n=1)
    # 3-D images: one sequence
    data = load_sequences(_npz(tmp_path / "3d.npz", images=images[0], state=state[0]))
    assert data.images.shape == (1, 4, 8, 8) and data.state.shape == (1, 4, 4)
    assert any("one sequence" in n for n in data.notes)
    # 8-bit images are scaled
    data = load_sequences(_npz(tmp_path / "u8.npz", images=(images * 255).astype(np.uint8)))
    assert data.images.max() <= 1 and any("255" in n for n in data.notes)
    # a trailing channel axis is dropped; unknown keys are reported
    data = load_sequences(_npz(tmp_path / "c.npz", images=images[..., None], extra=np.arange(3)))
    assert data.images.shape == (1, 4, 8, 8)
    assert any("channel" in n for n in data.notes)
    assert any("ignored key 'extra'" in n for n in data.notes)
    # float64 becomes float32
    data = load_sequences(_npz(tmp_path / "f64.npz", images=images.astype(np.float64)))
    assert data.images.dtype == np.float32 and any("float64" in n for n in data.notes)


def _bad_files(tmp: Path) -> dict[str, tuple[Path, str]]:
    images, state = _frames()
    good = tmp / "good.npz"
    save_sequences(good, images, state)
    blob = good.read_bytes()
    nan = images.copy()
    nan[0, 0, 0, 0] = np.nan
    (tmp / "text.npz").write_text("hello, not a zip\n")
    (tmp / "empty.npz").write_bytes(b"")
    (tmp / "truncated.npz").write_bytes(blob[: len(blob) // 2])
    (tmp / "folder.npz").mkdir()
    np.save(tmp / "single.npy", images)
    corrupt = bytearray(blob)
    corrupt[200:260] = b"\x00" * 60  # inside the compressed images
    (tmp / "corrupt.npz").write_bytes(bytes(corrupt))
    return {
        "not a zip": (tmp / "text.npz", "not an .npz file"),
        "empty": (tmp / "empty.npz", "empty file"),
        "truncated": (tmp / "truncated.npz", "truncated or corrupt"),
        "corrupt": (tmp / "corrupt.npz", "truncated or corrupt"),
        "missing": (tmp / "nothere.npz", "no such file"),
        "folder": (tmp / "folder.npz", "is a folder"),
        "npy": (tmp / "single.npy", "single .npy array"),
        "no images": (_npz(tmp / "noimages.npz", state=state), "no 'images' array"),
        "rank": (_npz(tmp / "rank.npz", images=images[0, 0]), "must be 4-D"),
        "no sequences": (_npz(tmp / "zero.npz", images=images[:0]), "no sequences"),
        "nan": (_npz(tmp / "nan.npz", images=nan), "NaN or infinite"),
        "negative": (_npz(tmp / "neg.npz", images=images - 1), "negative values"),
        "state shape": (_npz(tmp / "st.npz", images=images, state=state[:2]), "'state' has shape"),
        "text images": (_npz(tmp / "str.npz", images=np.array(["a", "b"])), "must"),
    }


def test_every_bad_file_gives_one_clear_line(tmp_path):
    for label, (path, message) in _bad_files(tmp_path).items():
        with pytest.raises(DatasetError) as caught:
            load_sequences(path)
        text = str(caught.value)
        assert message in text, f"{label}: {text}"
        assert "\n" not in text and str(path) in text, label
        assert isinstance(caught.value, ValueError)


def test_bad_files_through_the_command_line(tmp_path):
    bad = _bad_files(tmp_path)
    paths = [str(path) for path, _ in bad.values()]
    result = subprocess.run(
        [sys.executable, "-m", "kvae_studio", "info", *paths],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(bad)
    for line, (path, message) in zip(lines, bad.values(), strict=True):
        assert line.startswith("error: ") and message in line and str(path) in line

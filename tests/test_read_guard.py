"""Issue 26: one reading guard for every file the studio opens (`model.read_guard`).

Each exception class that once escaped a reader as a traceback (RuntimeError from an
encrypted zip entry, TypeError from a structured dtype, RecursionError from nested JSON,
OverflowError from 1e999, MemoryError from a forged array header, LinAlgError from
weights the Kalman filter cannot use) now ends as the file type's own one-line error:
exit code 2 on the command line, nothing written. The window's Open path is tested in
`tests/gui/test_open_guard.py` with the same files (`hostile_files`).
"""

from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path

import hostile_files as hostile
import numpy as np
import pytest
from bad_input import assert_one_clear_line, digests, run_many

from model.checkpoint import save_model
from model.data import save_sequences
from model.kvae import KVAE
from model.read_guard import UNREADABLE, parse_json, reading

EVALUATE = ["evaluate", "m.safetensors"]
EXPORT = ["--sequence", "0", "--out", "v.gif"]

# (command line, words its one line must hold), by the exception class each case raised
CASES = {
    "RuntimeError: a data set's entry flagged encrypted (info)": (
        ["info", "enc.npz"],
        ["enc.npz", "encrypted"],
    ),
    "RuntimeError: a data set's entry flagged encrypted (evaluate)": (
        [*EVALUATE, "enc.npz"],
        ["enc.npz", "encrypted"],
    ),
    "RuntimeError: a session's entry flagged encrypted (info)": (
        ["info", "enc.session.npz"],
        ["enc.session.npz", "encrypted"],
    ),
    "TypeError: a data set of records (info)": (
        ["info", "records.npz"],
        ["records.npz", "structured array"],
    ),
    "TypeError: a data set of records (evaluate)": (
        [*EVALUATE, "records.npz"],
        ["records.npz", "structured array"],
    ),
    "TypeError: a session of records (info)": (
        ["info", "records.session.npz"],
        ["records.session.npz", "structured array"],
    ),
    "TokenError: an array header with a bracket never closed (info)": (
        ["info", "unclosed.npz"],
        ["unclosed.npz", "header"],
    ),
    "TokenError: an array header with a bracket never closed (evaluate)": (
        [*EVALUATE, "unclosed.npz"],
        ["unclosed.npz", "header"],
    ),
    "RecursionError: a model's header nested (info)": (
        ["info", "header_nested.safetensors"],
        ["header_nested.safetensors", "nested too deeply"],
    ),
    "RecursionError: a model's config nested (evaluate)": (
        ["evaluate", "config_nested.safetensors", "d.npz"],
        ["config_nested.safetensors", "config", "nested too deeply"],
    ),
    "RecursionError: a model's summary nested (info)": (
        ["info", "summary_nested.safetensors"],
        ["summary_nested.safetensors", "summary", "nested too deeply"],
    ),
    "RecursionError: a model's summary nested (export)": (
        ["export", "summary_nested.safetensors", "d.npz", *EXPORT],
        ["summary_nested.safetensors", "nested too deeply"],
    ),
    "RecursionError: a session's record nested (info)": (
        ["info", "nested.session.npz"],
        ["nested.session.npz", "nested too deeply"],
    ),
    "OverflowError: 1e999 filters (info)": (
        ["info", "filters.safetensors"],
        ["filters.safetensors", "config", "1e999"],
    ),
    "OverflowError: 1e999 filters (evaluate)": (
        ["evaluate", "filters.safetensors", "d.npz"],
        ["filters.safetensors", "config", "1e999"],
    ),
    "OverflowError: a session's frame 1e999 (info)": (
        ["info", "frame.session.npz"],
        ["frame.session.npz", "1e999"],
    ),
    "MemoryError: a session's header declaring petabytes (info)": (
        ["info", "huge.session.npz"],
        ["huge.session.npz", "session file", "(99999999, 99999, 99)"],
    ),
    "LinAlgError: all-zero weights (evaluate)": (
        ["evaluate", "zero.safetensors", "d.npz"],
        ["zero.safetensors", "not positive definite"],
    ),
    "LinAlgError: all-zero weights (export)": (
        ["export", "zero.safetensors", "d.npz", *EXPORT],
        ["zero.safetensors", "not positive definite"],
    ),
    "LinAlgError: huge weights (evaluate)": (
        ["evaluate", "huge.safetensors", "d.npz"],
        ["huge.safetensors", "cannot be used on these sequences"],
    ),
    "LinAlgError: huge weights (evaluate --sweep)": (
        ["evaluate", "huge.safetensors", "d.npz", "--sweep", "s.csv"],
        ["huge.safetensors", "cannot be used on these sequences"],
    ),
    "LinAlgError: huge weights (export)": (
        ["export", "huge.safetensors", "d.npz", *EXPORT],
        ["huge.safetensors", "cannot be used on these sequences"],
    ),
}


def make_files(folder: Path) -> None:
    save_sequences(folder / "d.npz", hostile.sequences())
    save_model(KVAE(hostile.TINY), folder / "m.safetensors")
    hostile.encrypted_dataset(folder / "enc.npz")
    hostile.structured_dataset(folder / "records.npz")
    hostile.dataset_with_unclosed_header(folder / "unclosed.npz")
    hostile.encrypted_session(folder / "enc.session.npz")
    records = np.zeros((20, 16, 16), dtype=[("a", "f4"), ("b", "f4")])
    hostile.session_file(folder / "records.session.npz", images=records)
    hostile.model_file(folder / "header_nested.safetensors", header=hostile.DEEP.encode())
    hostile.model_file(folder / "config_nested.safetensors", config=hostile.DEEP)
    hostile.model_file(folder / "summary_nested.safetensors", summary=hostile.DEEP)
    hostile.session_file(folder / "nested.session.npz", meta=hostile.DEEP)
    hostile.model_file(folder / "filters.safetensors", config=hostile.config_with_huge_filters())
    hostile.session_with_frame(folder / "frame.session.npz", "1e999")
    hostile.session_declaring_terabytes(folder / "huge.session.npz")
    hostile.model_file(folder / "zero.safetensors", scale=0.0)
    hostile.model_file(folder / "huge.safetensors", scale=1e30)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    make_files(folder)
    return folder


CLASSES = sorted({case.split(":")[0] for case in CASES})


@pytest.mark.parametrize("raised", CLASSES)
def test_each_exception_class_is_one_line_and_exit_2(folder, raised):
    """Every case that raised `raised`, as real command lines in one interpreter."""
    cases = {case: value for case, value in CASES.items() if case.startswith(f"{raised}:")}
    before = digests(folder)
    results = run_many([args for args, _ in cases.values()], cwd=folder)
    failures = []
    for (case, (_, words)), result in zip(cases.items(), results, strict=True):
        try:
            assert_one_clear_line(result, *words)
            assert result["stdout"] == "", result["stdout"]
        except AssertionError as err:
            failures.append(f"{case}: {err}")
    assert not failures, "\n".join(failures)
    assert digests(folder) == before  # nothing written: no sweep CSV, no video


def test_a_scene_record_nested_too_deeply_is_a_note_not_an_error(tmp_path):
    """A data set's optional `scene` entry is skipped with a note, as any that is not
    JSON is; the sequences still read."""
    np.savez(tmp_path / "d.npz", images=hostile.sequences(), scene=np.array(hostile.DEEP))
    [result] = run_many([["info", "d.npz"]], cwd=tmp_path)
    assert result["code"] == 0 and "Traceback" not in result["stderr"], result["stderr"]
    assert "ignored key 'scene': not JSON" in result["stdout"]


def test_info_describes_a_good_session(tmp_path):
    hostile.session_file(tmp_path / "ok.session.npz")
    [result] = run_many([["info", "ok.session.npz"]], cwd=tmp_path)
    assert result["code"] == 0, result["stderr"]
    assert "session: 20 frames of 16x16 px, frame 0 shown" in result["stdout"]


@pytest.mark.parametrize(
    "raised",
    [
        RuntimeError("File 'images.npy' is encrypted, password required for extraction"),
        TypeError("data type \"[('a', '<f4')]\" not understood"),
        RecursionError("maximum recursion depth exceeded"),
        OverflowError("cannot convert float infinity to integer"),
        MemoryError(),
        np.linalg.LinAlgError("Singular matrix"),
        UnicodeDecodeError("utf-8", b"\xe9", 0, 1, "invalid continuation byte"),
        zipfile.BadZipFile("File is not a zip file"),
        zlib.error("Error -3 while decompressing data"),
        EOFError(),
        KeyError("images"),
    ],
    ids=lambda err: type(err).__name__,
)
def test_the_guard_turns_each_class_into_the_files_error_in_one_line(raised):
    class FileError(ValueError):
        pass

    assert isinstance(raised, UNREADABLE)
    with pytest.raises(FileError) as caught, reading("x.npz", FileError):
        raise raised
    text = str(caught.value)
    assert text.startswith("x.npz: cannot be read (") and "\n" not in text
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_the_guard_lets_the_files_own_error_through_unchanged():
    class FileError(ValueError):
        pass

    with pytest.raises(FileError, match=r"^x\.npz: no 'images' array$"), reading("x", FileError):
        raise FileError("x.npz: no 'images' array")


def test_json_nested_too_deeply_is_a_value_error():
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_json(hostile.DEEP)
    assert parse_json(json.dumps({"a": [1]})) == {"a": [1]}

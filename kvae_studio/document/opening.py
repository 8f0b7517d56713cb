"""Open and save what the studio works on, turning every failure into one readable line.

Why separate from the window: each loader has its own exception type (ModelFileError,
DatasetError, SessionError, OSError...), and the window should handle exactly one:
`OpenError`, whose message goes into the error dialog as is. Nothing here changes the
session; the window applies a loaded document only once it is known to be usable.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kvae_studio.services import model_ref
from model.config import KVAEConfig
from model.model_file import ModelFileError
from model.read_guard import UNREADABLE, reason

MODEL_SUFFIXES = (".safetensors",)
DATA_SUFFIXES = (".npz",)


class OpenError(Exception):
    """A file the studio cannot use; the message is one line for the user."""


def one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


ModelCheck = Callable[[str], None]
"""Loads a model file whole somewhere with torch and raises (ModelFileError, ValueError,
OSError) if its weights cannot be used; the window runs it in a job's process."""


def open_model(path: str | os.PathLike, check: ModelCheck | None = None) -> Any:
    """The model to explore in `path`, as a reference the model's process loads: its
    header is read here; a user's file is also loaded whole by `check` first (a shipped
    one is not: the test suite checks every shipped file), so that a file whose weights
    are bad is refused before anything changes. No torch in this process either way."""
    from kvae_studio.services.resources import is_shipped

    ref = describe_model_file(path)
    if check is not None and not is_shipped(path):
        try:
            check(str(Path(path).resolve()))
        except ModelFileError as err:
            raise OpenError(one_line(err)) from None
        except UNREADABLE as err:
            name = Path(path).name
            raise OpenError(f"{name}: cannot be read as a model ({reason(err)})") from None
    return ref


def describe_model_file(path: str | os.PathLike) -> model_ref.ModelRef:
    """A reference to the model in `path`, from its header alone: no torch, no weights
    (the model's process loads them, and says so if they cannot be read)."""
    path = Path(path)
    if path.suffix.lower() not in MODEL_SUFFIXES:
        raise OpenError(f"{path.name}: models are .safetensors files")
    try:
        return model_ref.model_ref_of_file(path)
    except ModelFileError as err:
        raise OpenError(one_line(err)) from None
    except UNREADABLE as err:
        raise OpenError(f"{path.name}: cannot be read as a model ({reason(err)})") from None


def fresh_model_ref(config: KVAEConfig | None = None, seed: int = 0) -> model_ref.ModelRef:
    """The untrained model, built by the model's process (no torch here)."""
    return model_ref.ModelRef(config or KVAEConfig(), None, seed)


def open_dataset_file(path: str | os.PathLike):
    """`model.data.SequenceData` of an .npz sequence file."""
    from model.data import DatasetError, load_sequences

    path = Path(path)
    try:
        return load_sequences(path)
    except DatasetError as err:
        raise OpenError(one_line(err)) from None
    except UNREADABLE as err:
        raise OpenError(f"{path.name}: cannot be read as a dataset ({reason(err)})") from None


def open_session_file(path: str | os.PathLike):
    """`session.Session` of a saved session."""
    from kvae_studio.document.session import SessionError, load_session

    try:
        return load_session(path)
    except SessionError as err:
        raise OpenError(one_line(err)) from None
    except UNREADABLE as err:
        name = Path(path).name
        raise OpenError(f"{name}: cannot be read as a session ({reason(err)})") from None


def kind_of(path: str | os.PathLike) -> str:
    """'model', 'session', 'dataset' or 'unknown', by suffix (and contents for .npz)."""
    from kvae_studio.document.session import is_session_file

    suffix = Path(path).suffix.lower()
    if suffix in MODEL_SUFFIXES:
        return "model"
    if suffix in DATA_SUFFIXES:
        return "session" if is_session_file(path) else "dataset"
    return "unknown"

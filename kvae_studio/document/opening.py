"""Open and save what the studio works on, turning every failure into one readable line.

Why separate from the window: each loader has its own exception type (ModelFileError,
DatasetError, SessionError, OSError...), and the window should handle exactly one:
`OpenError`, whose message goes into the error dialog as is. Nothing here changes the
session; the window applies a loaded document only once it is known to be usable.
"""

from __future__ import annotations

import os
from pathlib import Path

from kvae_studio.services.model_names import display_name  # noqa: F401  (the one rule)
from model.checkpoint import ModelFileError, load_model
from model.config import KVAEConfig
from model.kvae import KVAE

MODEL_SUFFIXES = (".safetensors",)
DATA_SUFFIXES = (".npz",)


class OpenError(Exception):
    """A file the studio cannot use; the message is one line for the user."""


def one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def open_model_file(path: str | os.PathLike) -> KVAE:
    """A model rebuilt from its file, in eval mode."""
    path = Path(path)
    if path.suffix.lower() not in MODEL_SUFFIXES:
        raise OpenError(f"{path.name}: models are .safetensors files")
    try:
        return load_model(path).eval()
    except ModelFileError as err:
        raise OpenError(one_line(err)) from None
    except (OSError, RuntimeError, ValueError) as err:
        raise OpenError(f"{path.name}: cannot be read as a model ({one_line(err)})") from None


def fresh_model(config: KVAEConfig | None = None, seed: int = 0) -> KVAE:
    """An untrained model (the fallback when no trained file is available)."""
    import torch

    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)  # the same untrained model every time: stable screenshots
        return KVAE(config or KVAEConfig()).eval()
    finally:
        torch.random.set_rng_state(generator_state)


def open_dataset_file(path: str | os.PathLike):
    """`model.data.SequenceData` of an .npz sequence file."""
    from model.data import DatasetError, load_sequences

    path = Path(path)
    try:
        return load_sequences(path)
    except DatasetError as err:
        raise OpenError(one_line(err)) from None
    except (OSError, ValueError, MemoryError) as err:
        raise OpenError(f"{path.name}: cannot be read as a dataset ({one_line(err)})") from None


def open_session_file(path: str | os.PathLike):
    """`session.Session` of a saved session."""
    from kvae_studio.document.session import SessionError, load_session

    try:
        return load_session(path)
    except SessionError as err:
        raise OpenError(one_line(err)) from None


def kind_of(path: str | os.PathLike) -> str:
    """'model', 'session', 'dataset' or 'unknown', by suffix (and contents for .npz)."""
    from kvae_studio.document.session import is_session_file

    suffix = Path(path).suffix.lower()
    if suffix in MODEL_SUFFIXES:
        return "model"
    if suffix in DATA_SUFFIXES:
        return "session" if is_session_file(path) else "dataset"
    return "unknown"

"""Models built from what names them (`services.model_ref`), in a process with torch:
the model's process, a job's process, the command line and the tests."""

from __future__ import annotations

from typing import Any

from kvae_studio.services.model_ref import ModelRef
from model.config import KVAEConfig


def load(model: Any) -> Any:
    """The model a `ModelRef` names, or `model` itself when it is one already."""
    if not isinstance(model, ModelRef):
        return model
    if model.path is not None:
        from model.checkpoint import load_model

        return load_model(model.path).eval()
    return fresh_model(model.config, model.seed)


def fresh_model(config: KVAEConfig | None = None, seed: int = 0) -> Any:
    """An untrained KVAE, the same for the same config and seed in every process (the
    global random state is left as it was)."""
    import torch

    from model.kvae import KVAE

    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)  # the same untrained model every time: stable screenshots
        return KVAE(config or KVAEConfig()).eval()
    finally:
        torch.random.set_rng_state(generator_state)


def model_from_message(message: tuple) -> Any:
    """The model a ("model_file", path) or ("model_fresh", config JSON, seed) message names."""
    if message[0] == "model_file":
        from model.checkpoint import load_model

        return load_model(message[1]).eval()
    return fresh_model(KVAEConfig.from_json(message[1]), int(message[2]))


def check_model_file(path: str) -> None:
    """Load the model in `path` whole and drop it: raises ModelFileError (or OSError,
    ValueError) when its weights cannot be used (`document.opening.open_model`)."""
    from model.checkpoint import load_model

    load_model(path)


def check_model_job(ctx: Any, path: str) -> None:
    """`check_model_file` as a job (the window runs it in a process of its own)."""
    check_model_file(path)

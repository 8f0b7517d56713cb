"""A model the window shows without holding its weights: the model's process loads it.

Why: torch takes about a second to import, longer than Qt and pyqtgraph together. The
window needs a model's config (frame size, dimensions), its summary and its size, all of
which the file's header says (`model.model_file.describe_model`); only the model's
process needs the weights. A `ModelRef` names the file to load (or, for the untrained
model, its config and seed); `services.model_loading` builds the model it names, in a
process that has torch.

`ExploredModel` is what the window and the document hold: a `ModelRef`, or (tests,
benchmarks) a loaded `model.kvae.KVAE`, which the model's process is sent as its bytes.
Both are read for their config only, so the type needs no torch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from model.config import KVAEConfig


class ExploredModel(Protocol):
    """A model the window shows: anything with a `KVAEConfig`, i.e. a `ModelRef` or a
    `model.kvae.KVAE` (in eval mode, as `services.model_loading` builds them)."""

    @property
    def config(self) -> KVAEConfig: ...


@dataclass(frozen=True, eq=False)  # compared by identity, as model objects are
class ModelRef:
    """The model in `path`, or an untrained model of `config` seeded with `seed`."""

    config: KVAEConfig
    path: str | None = None
    seed: int = 0
    weights: int = 0  # how many, from the header (0 for the untrained model: not built)
    summary: dict[str, Any] = field(default_factory=dict)

    def message(self) -> tuple:
        """What the model's process is sent to build this model (no weights travel)."""
        if self.path is not None:
            return ("model_file", self.path)
        return ("model_fresh", self.config.to_json(), self.seed)


def model_ref_of_file(path: str | os.PathLike) -> ModelRef:
    """A reference to the model in `path`, from its header (raises ModelFileError)."""
    from model.model_file import describe_model

    described = describe_model(path)
    resolved = str(Path(path).resolve())
    return ModelRef(described.config, resolved, 0, described.weights, described.summary)

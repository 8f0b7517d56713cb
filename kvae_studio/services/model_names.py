"""What a model file is called wherever the studio names one: lists, titles, the sweep CSV.

One rule, so the command line's CSV and the window's lists name a model alike: a shipped
model by its scene ("Pong (shipped)"), a run's model by its run folder ("tiny-box" for
runs/tiny-box/model.safetensors), any other file by its name.
"""

from __future__ import annotations

import os
from pathlib import Path

from kvae_studio.services.resources import (
    EXAMPLE_MODELS,
    scene_title,
    shipped_examples,
    shipped_scene,
)
from model.run_folder import MODEL_FILE


def display_name(path: str | os.PathLike) -> str:
    """'Pong (shipped)', a shipped example's name, a run's folder name, or the file name."""
    if scene := shipped_scene(path):
        return f"{scene_title(scene)} (shipped)"
    p = Path(path)
    example = shipped_examples().get(p.stem)
    if example is not None and example.resolve() == p.resolve():
        return EXAMPLE_MODELS[p.stem]
    return p.parent.name if p.name == MODEL_FILE and p.parent.name else p.name

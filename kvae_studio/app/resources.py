"""Where the studio's bundled files live: the one place that knows the repository layout.

Why a helper: the default model is looked up from several places (start-up, the
screenshot, tests that check the fallback), and the path must not be spelled twice.
"""

from __future__ import annotations

from pathlib import Path


def resources_dir() -> Path:
    """The repository's `resources/` folder (it may not exist in a bare checkout)."""
    return Path(__file__).resolve().parents[2] / "resources"


def default_model_path(scene: str = "box") -> Path:
    """The trained model shipped for `scene` (`resources/models/<scene>.safetensors`).

    Falls back to the box model when the scene has none; the returned path may not
    exist, and the caller then starts from an untrained model.
    """
    models = resources_dir() / "models"
    own = models / f"{scene}.safetensors"
    return own if own.is_file() else models / "box.safetensors"

"""Where the studio's bundled files live: the one place that knows the repository layout.

Why a helper: the default model is looked up from several places (start-up, the
screenshot, tests that check the fallback), and the path must not be spelled twice.
"""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """The repository's `resources/` folder, or its installed copy when installed from a
    wheel (`<prefix>/share/kvae-studio`); it may not exist in a bare checkout."""
    checkout = Path(__file__).resolve().parents[2] / "resources"
    installed = Path(sys.prefix) / "share" / "kvae-studio"
    return installed if not checkout.is_dir() and installed.is_dir() else checkout


def default_model_path(scene: str = "box") -> Path:
    """The trained model shipped for `scene` (`resources/models/<scene>.safetensors`).

    Falls back to the box model when the scene has none; the returned path may not
    exist, and the caller then starts from an untrained model.
    """
    models = resources_dir() / "models"
    own = models / f"{scene}.safetensors"
    return own if own.is_file() else models / "box.safetensors"


def shipped_datasets() -> list[Path]:
    """Datasets that ship with the studio (`resources/datasets/*.npz`), sorted by name.

    The paper's own box test sequences are among them, so the Evaluate panel can set the
    shipped model beside the paper's figures at first launch, before anything is simulated.
    """
    folder = resources_dir() / "datasets"
    return sorted(folder.glob("*.npz")) if folder.is_dir() else []

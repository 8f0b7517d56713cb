"""Where the studio's bundled files live: the one place that knows the repository layout.

Why a helper: the default model is looked up from several places (start-up, the
screenshot, tests that check the fallback), and the path must not be spelled twice.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kvae_studio.services.file_names import evaluation_name, paper_test_set_name


def resources_dir() -> Path:
    """The repository's `resources/` folder, or its installed copy when installed from a
    wheel (`<prefix>/share/kvae-studio`); it may not exist in a bare checkout."""
    checkout = Path(__file__).resolve().parents[2] / "resources"
    installed = Path(sys.prefix) / "share" / "kvae-studio"
    return installed if not checkout.is_dir() and installed.is_dir() else checkout


def is_installed(path: str | Path) -> bool:
    """Whether `path` lies in the studio's own bundled files (`resources_dir()`): a folder
    the file dialogs should never start in, where a user's session does not belong."""
    try:
        Path(path).resolve().relative_to(resources_dir().resolve())
    except (OSError, ValueError):
        return False
    return True


def default_model_path(scene: str = "box") -> Path:
    """The trained model shipped for `scene` (`resources/models/<scene>.safetensors`).

    Falls back to the box model when the scene has none; the returned path may not
    exist, and the caller then starts from an untrained model.
    """
    models = resources_dir() / "models"
    own = models / f"{scene}.safetensors"
    return own if own.is_file() else models / "box.safetensors"


def shipped_models() -> dict[str, Path]:
    """The trained model shipped for each scene that has one, in the simulator's order.

    Every model list of the studio shows these beside the user's runs, by scene.
    """
    from kvae_studio.sim.scenes import SCENES

    folder = resources_dir() / "models"
    return {
        s: folder / f"{s}.safetensors" for s in SCENES if (folder / f"{s}.safetensors").is_file()
    }


EXAMPLE_MODELS = {
    "box-mlp-alpha": "Box, alpha of a_t-1 (shipped example)",
}
"""Models shipped to show something rather than to be each scene's best: the file's stem
and the name the studio gives it. box-mlp-alpha has the original's non-recurrent
dynamics network (alpha_rnn = False, fifo_size = 1), whose weights the Dynamics tab can
draw over a-space without a state, as the original's img_alpha_nn did."""


def shipped_examples() -> dict[str, Path]:
    """The example models that are installed, by stem (`EXAMPLE_MODELS`)."""
    folder = resources_dir() / "models"
    paths = {stem: folder / f"{stem}.safetensors" for stem in EXAMPLE_MODELS}
    return {stem: path for stem, path in paths.items() if path.is_file()}


def scene_title(scene: str | None) -> str:
    """'Box with gravity' for 'box_gravity': the name the studio shows for a scene."""
    from kvae_studio.sim.scenes import SCENES

    cls = SCENES.get(scene or "")
    return (cls.title or scene) if cls is not None else (scene or "unknown scene")


def shipped_model(scene: str | None) -> Path | None:
    """The model shipped for `scene`, or None (no fallback to another scene's)."""
    return shipped_models().get(scene) if scene else None


def shipped_scene(path: str | Path | None) -> str | None:
    """The scene whose shipped model `path` is, or None for any other file."""
    if not path:
        return None
    wanted = Path(path).resolve()
    return next((s for s, p in shipped_models().items() if p.resolve() == wanted), None)


def is_shipped(path: str | Path | None) -> bool:
    """A model the studio ships (a scene's or an example), which the tests load whole."""
    if not path:
        return False
    wanted = Path(path).resolve()
    return shipped_scene(path) is not None or any(
        p.resolve() == wanted for p in shipped_examples().values()
    )


def shipped_test_set(scene: str | None) -> Path | None:
    """The paper's test file of `scene` (`resources/datasets/paper-<scene>-test.npz`)."""
    path = resources_dir() / "datasets" / paper_test_set_name(scene or "")
    return path if scene and path.is_file() else None


def shipped_evaluation(scene: str | None) -> Path | None:
    """`<scene>-evaluation.json` beside the shipped model: its figures on the paper's file."""
    path = resources_dir() / "models" / evaluation_name(scene or "")
    return path if scene and path.is_file() else None


def shipped_files(suffix: str) -> dict[str, Path]:
    """Every bundled model ('.safetensors') or data set ('.npz'), by stem, sorted: the
    names the command line takes for them. Unlike `shipped_models`, no scene list is
    read (importing the simulator costs every command about 0.1 s)."""
    folder = resources_dir() / ("models" if suffix == ".safetensors" else "datasets")
    files = folder.glob(f"*{suffix}") if folder.is_dir() else []
    return {path.stem: path for path in sorted(files, key=lambda path: path.stem)}


def shipped_datasets() -> list[Path]:
    """Datasets that ship with the studio (`resources/datasets/*.npz`), sorted by name.

    The paper's test sequences of each scene are among them, so the Evaluate panel can set
    a shipped model beside the paper's figures at first launch, before anything is simulated.
    """
    folder = resources_dir() / "datasets"
    return sorted(folder.glob("*.npz")) if folder.is_dir() else []

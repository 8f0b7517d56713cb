"""How the studio names its files, in one place: data set splits, the shipped files,
sessions, and what a file name says of its scene.

Why one module: the Scene tab writes `<name>-train.npz` and `<name>-test.npz`, and the
Train and Evaluate tabs pair and prefer them by those names; the shipped models'
evaluation and sweeps sit beside them under names the model card, the Evaluate tab and
the sweep store all read. Spelt once here, a rename is one edit. (A run folder's own
files, `model.safetensors`, `log.jsonl`..., are the model layer's: `model.run_folder`.)
"""

from __future__ import annotations

from pathlib import Path

TRAIN_SUFFIX = "-train.npz"
TEST_SUFFIX = "-test.npz"
PAPER_PREFIX = "paper-"
SESSION_SUFFIX = ".session.npz"
SWEEP_PROTOCOL_SUFFIX = {"studio": "", "paper": "-paper"}

DATA_FILTER = "Sequence files (*.npz)"
MODEL_FILTER = "KVAE models (*.safetensors)"
SESSION_FILTER = f"KVAE Studio sessions (*{SESSION_SUFFIX})"
VIDEO_FILTER = "MP4 video (*.mp4);;Animated GIF (*.gif)"


def split_files(folder: Path, name: str) -> tuple[Path, Path]:
    """(training file, test file) of a data set called `name` in `folder`."""
    return folder / f"{name}{TRAIN_SUFFIX}", folder / f"{name}{TEST_SUFFIX}"


def test_partner(train: Path) -> Path | None:
    """The test file made with a training file (`x-train.npz` -> `x-test.npz`), if its
    name says it has one; whether it exists is the caller's question."""
    if not train.name.endswith(TRAIN_SUFFIX):
        return None
    return train.with_name(train.name[: -len(TRAIN_SUFFIX)] + TEST_SUFFIX)


def paper_test_set_name(scene: str) -> str:
    """The shipped paper test file of `scene`: `paper-<scene>-test.npz`."""
    return f"{PAPER_PREFIX}{scene}{TEST_SUFFIX}"


def is_paper_test_set(path: Path | None) -> bool:
    return path is not None and path.name.startswith(PAPER_PREFIX)


def evaluation_name(scene: str) -> str:
    """A shipped model's figures on its paper file: `<scene>-evaluation.json`."""
    return f"{scene}-evaluation.json"


def sweep_name(scene: str, protocol: str) -> str:
    """A shipped model's sweeps on its paper file: `<scene>-sweep-original[-paper].csv`."""
    return f"{scene}-sweep-original{SWEEP_PROTOCOL_SUFFIX[protocol]}.csv"


def scene_in_name(name: str, scenes: list[str] | tuple[str, ...]) -> str | None:
    """The scene a data file's name says, the way the studio and the original name them:
    `paper-<scene>-test.npz`, `original-<scene>.npz` (box-gravity spelt either way), the
    Scene tab's `<scene>-<time>-train.npz`; None when it says none of `scenes`."""
    name = name.lower().replace("-", "_")
    for prefix in ("paper_", "original_"):
        name = name.removeprefix(prefix)
    for scene in sorted(scenes, key=len, reverse=True):  # box_gravity before box
        if name == scene or name.startswith((f"{scene}_", f"{scene}.")):
            return scene
    return None

"""How the studio names its files, in one place: data set splits, the shipped files,
sessions, masks, and what a file name says of its scene.

Why one module: the Scene tab writes `<name>-train.npz` and `<name>-test.npz`, and the
Train and Evaluate tabs pair and prefer them by those names; the shipped models'
evaluation and sweeps sit beside them under names the model card, the Evaluate tab and
the sweep store all read. Spelt once here, a rename is one edit. (A run folder's own
files, `model.safetensors`, `log.jsonl`..., are the model layer's: `model.run_folder`.)
"""

from __future__ import annotations

import re
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


def data_set_name(train: Path) -> str:
    """The name a data set was made under: `box` for box-train.npz, else the file's stem."""
    name = train.name
    return name.removesuffix(TRAIN_SUFFIX) if name.endswith(TRAIN_SUFFIX) else train.stem


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


# A sequence's masks on their own (document/mask_file.py), to reuse them elsewhere.
MASKS_SUFFIX = ".masks.npz"
MASKS_FILTER = f"Masks (*{MASKS_SUFFIX})"
MASK_PNG_FILTER = "PNG stack, one picture a frame (*.png)"
MASK_OPEN_FILTER = (
    f"Masks, sessions or a PNG stack's picture (*{MASKS_SUFFIX} *{SESSION_SUFFIX} *.png)"
)
_MASK_PNG = re.compile(r"^(?P<stem>.*)-(?P<index>\d{3,})\.png$", re.IGNORECASE)


def masks_file_name(path: str) -> str:
    """`x.masks.npz` of a name typed as `x`, `x.npz` or `x.masks.npz`."""
    if path.endswith(MASKS_SUFFIX):
        return path
    return path.removesuffix(".npz") + MASKS_SUFFIX


def mask_png_names(path: Path, steps: int) -> list[Path]:
    """The pictures of a PNG stack of `steps` frames named after `path` (`x.png` or `x`):
    `x-000.png`, `x-001.png`..."""
    stem = path.name[: -len(".png")] if path.name.lower().endswith(".png") else path.name
    return [path.with_name(f"{stem}-{t:03d}.png") for t in range(steps)]


def mask_png_stack(path: Path) -> list[Path] | None:
    """The pictures of the PNG stack that `path` (`x-007.png`) is one of: `x-000.png`
    up, without a gap, those on disk; None when its name is not a stack's picture's."""
    match = _MASK_PNG.match(path.name)
    if match is None:
        return None
    stem, digits = match.group("stem"), len(match.group("index"))
    names: list[Path] = []
    while (name := path.with_name(f"{stem}-{len(names):0{digits}d}.png")).is_file():
        names.append(name)
    return names

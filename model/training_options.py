"""The options of a training run as one value: what `kvae-studio train` parses, what the
Train tab's fields show, what the run folder's studio.json records and what the `Trainer`
takes.

Why one dataclass with metadata: the same options were spelled out five times (the
command line's flags, the Train form, the services' request, studio.json and the
Trainer's keywords), and each new option had to be added to all five. Each field's
`Option` says its help, its label in words, its flag, its values and its key in
studio.json; the front ends generate their flags and fields from it, and studio.json is
written and read by `to_record` and `from_record` alone.

No torch here: the window's Train tab imports this, and `train --help` must stay fast.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.config import KVAEConfig
from model.run_folder import BEST_FILE, MODEL_FILE

METRIC_NAMES = (
    "planning-smoothing",
    "random-smoothing",
    "smoothing",
    "smoothing+filtering",
    "filtering",
    "elbo",
)
"""The scores of `--keep-best`: `model.selection.METRICS`, named here without torch."""

PRECISIONS = ("auto", "fp32", "bf16")
"""`--precision`: auto takes bf16 where the hardware does it natively (model.precision)."""

DEVICES = ("auto", "cpu", "cuda")

SEED_MAX = 2**31 - 1
"""Largest seed: the studio's seed boxes are 32-bit; numpy and torch take any of these."""


@dataclass(frozen=True)
class Option:
    """How a field of `TrainingOptions` is shown, asked for and recorded.

    `flag`: its name on the command line ('--seed'; a name without dashes is positional;
    None: not an option there). `label`: its name in words on the Train tab, `tip` the
    tab's tooltip when it says more than `help`, `unit` the spin box's suffix, and
    `none_text` how the tab shows None (at 0 in a spin box). `minimum`, `maximum` and `choices`: the
    values the command line and the tab accept. `record`: its key in studio.json.
    """

    help: str = ""
    flag: str | None = None
    metavar: str | None = None
    required: bool = False
    label: str | None = None
    tip: str | None = None
    unit: str = ""
    none_text: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    record: str | None = None


def _option(**how: Any) -> dict[str, Option]:
    """A field's metadata: its `Option`."""
    return {"option": Option(**how)}


_POSITIVE = {"minimum": 1, "metavar": "N"}


@dataclass(frozen=True)
class TrainingOptions:
    """Everything decided before a run starts: the data, the run folder, the model's
    config, and how the run trains (hardware, checkpoints, model selection).

    The fields' order is the command line's (`train --help`).
    """

    train_paths: tuple[Path, ...] = field(
        default=(),
        metadata=_option(
            flag="data",
            help="training sequences (.npz in the original format); several files are joined",
            label="Training set",
            record="train_files",
        ),
    )
    test_path: Path | None = field(
        default=None,
        metadata=_option(
            flag="--test",
            help="test sequences for the per-epoch ELBO and Hamming distance",
            label="Test set",
            record="test",
        ),
    )
    init_from: Path | None = field(
        default=None,
        metadata=_option(
            flag="--init-from",
            metavar="MODEL",
            help="start a new run from this model's weights and architecture (.safetensors); "
            "--set may change its schedule",
            record="init_from",
        ),
    )
    validation_path: Path | None = field(
        default=None,
        metadata=_option(
            flag="--validation",
            metavar="FILE",
            help="validation sequences (.npz) for --keep-best: keep them apart from any file "
            "whose figures you report",
            label="Validation set",
            tip="Sequences every epoch is scored on to keep the best one as "
            f"{BEST_FILE}; not the training set, and not a set whose figures you report",
            record="validation",
        ),
    )
    keep_best: str | None = field(
        default=None,
        metadata=_option(
            flag="--keep-best",
            metavar="METRIC",
            choices=METRIC_NAMES,
            help=f"score every epoch on --validation and keep the best as {BEST_FILE}; "
            f"METRIC is one of: {', '.join(METRIC_NAMES)}",
            label="Keep the best by",
            tip="The validation score that picks the best epoch (lower Hamming distances, "
            "or a higher ELBO); smoothing+filtering chose every shipped model",
            record="keep_best",
        ),
    )
    patience: int | None = field(
        default=None,
        metadata=_option(
            flag="--patience",
            help="with --keep-best: stop when the score has not improved for N epochs",
            label="Patience",
            tip="Stop when the validation score has not improved for this many epochs",
            none_text="off",
            unit=" epochs",
            record="patience",
            **_POSITIVE,
        ),
    )
    run_dir: Path | None = field(
        default=None,
        metadata=_option(
            flag="--out", required=True, help=f"run folder: {MODEL_FILE}, resume state, log"
        ),
    )
    epochs: int | None = field(
        default=None,
        metadata=_option(
            flag="--epochs", help="number of epochs (default: the config's, 80)", minimum=1
        ),
    )
    device: str = field(
        default="auto",
        metadata=_option(
            flag="--device",
            choices=DEVICES,
            help="the torch device; auto: CUDA where torch sees a GPU, else the CPU",
            label="Device",
            record="device",
        ),
    )
    precision: str = field(
        default="auto",
        metadata=_option(
            flag="--precision",
            choices=PRECISIONS,
            help="bf16: the encoder's and decoder's convolutions under bfloat16 autocast "
            "(the Kalman filter and smoother stay float32); auto (default): bf16 where the "
            "CPU has avx512_bf16 or amx_bf16, or the GPU supports it, else fp32",
            label="Precision",
            tip="auto: bf16 for the encoder and decoder where the CPU does it natively "
            "(avx512_bf16, amx_bf16) or the GPU supports it, else fp32; the Kalman filter "
            "and smoother stay fp32",
            record="precision",
        ),
    )
    seed: int = field(
        default=0,
        metadata=_option(
            flag="--seed",
            minimum=0,
            maximum=SEED_MAX,
            help="seed of the initial weights, the shuffle, the noise and the dropped frames",
            label="Seed",
            record="seed",
        ),
    )
    # The command line's config flags and --set make it (commands.train), the Train tab's
    # config form, or the run resumed or started from.
    config: KVAEConfig = field(default=KVAEConfig(), metadata=_option())
    # Typed changes to the config of a run that brings its own (resume, init_from): the
    # model's architecture stays, only the schedule may change (model.training_state).
    schedule_changes: Mapping[str, Any] = field(default_factory=dict, metadata=_option())
    resume: bool = field(
        default=False,
        metadata=_option(
            flag="--resume",
            help="continue the run in --out; --set may then change its schedule "
            "(e.g. train_miss_prob)",
        ),
    )
    checkpoint_every: int = field(
        default=1,
        metadata=_option(
            flag="--checkpoint-every",
            help="write a checkpoint every N epochs (and when stopped)",
            label="Checkpoint every",
            tip="A checkpoint is also written when you press Stop",
            unit=" epochs",
            record="checkpoint_every",
            **_POSITIVE,
        ),
    )
    eval_sequences: int | None = field(
        default=None,
        metadata=_option(
            flag="--eval-sequences",
            help="use only the first N test sequences",
            label="Test sequences per epoch",
            tip="Test sequences used for the per-epoch test ELBO and Hamming distance "
            "(0 = all; the full sweep is in the Evaluate tab)",
            none_text="all",
            record="eval_sequences",
            minimum=1,
        ),
    )
    threads: int | None = field(
        default=None,
        metadata=_option(
            flag="--threads",
            help="CPU threads for torch (default: torch's choice)",
            label="CPU threads",
            tip="torch CPU threads; by default every core, the training at a lower priority "
            "than the window, which takes one back when it needs it (Windows: one core is "
            "left to the window)",
            record="threads",
            minimum=1,
        ),
    )

    def __post_init__(self) -> None:
        # Paths as text (argparse, JSON) become paths, a list of them a tuple.
        object.__setattr__(self, "train_paths", tuple(Path(p) for p in self.train_paths))
        for name in ("test_path", "init_from", "validation_path", "run_dir"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(value))
        object.__setattr__(self, "schedule_changes", dict(self.schedule_changes))

    def to_record(self) -> dict[str, Any]:
        """The options studio.json keeps (the config is in the model file, the run folder
        is where it lies): each field by its `Option.record` key. "train" names the one
        training file (None when several are joined), as the Train tab trains on one.
        Files are recorded by absolute path: a run started with `train data.npz` is read
        later from another folder (the window, Continue, a model card's scene)."""
        paths = [_as_json(path) for path in self.train_paths]
        record: dict[str, Any] = {"train": paths[0] if len(paths) == 1 else None}
        for name, option in recorded_fields().items():
            value = getattr(self, name)
            record[option.record] = paths if name == "train_paths" else _as_json(value)
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> TrainingOptions:
        """The options a studio.json recorded, any age: a key that is missing or holds no
        usable value (an older or damaged file) takes the default."""
        values: dict[str, Any] = {}
        for name, option in recorded_fields().items():
            value = record.get(option.record)
            if name == "train_paths" and value is None and isinstance(record.get("train"), str):
                value = [record["train"]]  # written before "train_files" was always there
            if (usable := _from_json(name, value)) is not None:
                values[name] = usable
        return cls(**values)


def option_of(name: str) -> Option:
    """The `Option` of field `name`."""
    return _FIELDS[name].metadata["option"]


def default_of(name: str) -> Any:
    """The default of field `name`."""
    f = _FIELDS[name]
    return f.default if f.default_factory is dataclasses.MISSING else f.default_factory()


def flagged_fields() -> dict[str, Option]:
    """The fields the command line asks for, by name, in `train --help`'s order."""
    return {name: option for name, option in _OPTIONS.items() if option.flag}


def recorded_fields() -> dict[str, Option]:
    """The fields studio.json keeps, by name."""
    return {name: option for name, option in _OPTIONS.items() if option.record}


def value_type(name: str) -> type:
    """The type of field `name`'s values, None aside (int of `int | None`)."""
    hint = _TYPES[name]
    args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    return args[0] if args else hint


def _as_json(value: Any) -> Any:
    return os.path.abspath(value) if isinstance(value, Path) else value


def _from_json(name: str, value: Any) -> Any:
    """`value` (read from JSON) as field `name` holds it, or None when it is none of its
    values: the wrong type, outside its range or its choices."""
    kind, option = value_type(name), option_of(name)
    if name == "train_paths":
        ok = isinstance(value, list) and value and all(isinstance(v, str) and v for v in value)
        return tuple(Path(v) for v in value) if ok else None
    if kind is Path:
        return Path(value) if isinstance(value, str) and value else None
    if kind is int:
        whole = isinstance(value, int) and not isinstance(value, bool)
        low = option.minimum if option.minimum is not None else value if whole else 0
        high = option.maximum if option.maximum is not None else value if whole else 0
        return value if whole and low <= value <= high else None
    if kind is str:
        return value if isinstance(value, str) and value in option.choices else None
    return None


_FIELDS = {f.name: f for f in dataclasses.fields(TrainingOptions)}
_TYPES = typing.get_type_hints(TrainingOptions)
_OPTIONS: dict[str, Option] = {name: f.metadata["option"] for name, f in _FIELDS.items()}

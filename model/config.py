"""One dataclass that holds every option of the KVAE and its training schedule.

The defaults are those of the paper's public release (kvae-model.md, sections 2-7),
so a model trained with them can be compared with the paper. The config travels
inside every checkpoint as JSON, which is all a loader needs to rebuild the model.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from model.field_text import parse_text


@dataclass(frozen=True)
class Range:
    """The values an option may take: [low, high], or (low, high] when `open_low`.

    Why upper bounds at all: a config also arrives from a model file's metadata and from
    `--set`, and a network of 10^9 units fails in the allocator with a traceback; the
    bounds are far above anything the paper or a desktop run uses.
    """

    low: float
    high: float
    open_low: bool = False

    def __contains__(self, value: float) -> bool:
        above = value > self.low if self.open_low else value >= self.low
        return above and value <= self.high

    def __str__(self) -> str:
        def show(x: float) -> str:
            return str(int(x)) if float(x).is_integer() else f"{x:g}"

        return f"{'(' if self.open_low else '['}{show(self.low)}, {show(self.high)}]"


_POSITIVE = Range(0, 1e6, open_low=True)


def _option(default: Any, span: Range) -> Any:
    """A numeric option: its default and its valid values (see FIELD_RANGES)."""
    return field(default=default, metadata={"range": span})


@dataclass(frozen=True)
class KVAEConfig:
    """Architecture, objective and training schedule of a KVAE."""

    # Sizes (section 1).
    frame_size: int = _option(32, Range(8, 1024))
    dim_a: int = _option(2, Range(1, 256))
    dim_z: int = _option(4, Range(1, 256))
    dim_u: int = _option(1, Range(0, 256))
    K: int = _option(3, Range(1, 256))
    # State space model (section 2).
    init_cov: float = _option(20.0, _POSITIVE)
    noise_transition: float = _option(0.08, _POSITIVE)
    noise_emission: float = _option(0.03, _POSITIVE)
    init_kf_matrices: float = _option(0.05, Range(0, 1e3))
    # Dynamics parameter network (section 3).
    alpha_rnn: bool = True
    alpha_units: int = _option(50, Range(1, 4096))
    alpha_layers: int = _option(2, Range(1, 16))
    alpha_activation: str = "relu"
    fifo_size: int = _option(1, Range(1, 1000))
    learn_u: bool = False
    # Recognition and generative networks (section 4).
    conv: bool = True
    # Each entry in the range; at most MAX_CONV_LAYERS of them.
    filters: tuple[int, ...] = _option((32, 32, 32), Range(1, 1024))
    # Odd, too, so that a stride-2 layer halves the frame.
    kernel_size: int = _option(3, Range(1, 31))
    num_layers: int = _option(2, Range(1, 16))
    vae_num_units: int = _option(25, Range(1, 4096))
    use_vae: bool = True
    output: str = "bernoulli"  # or "gaussian"
    noise_pixel_var: float = _option(0.1, _POSITIVE)
    activation: str = "relu"  # the VAE's hidden layers (the original's `activation`)
    # The decoder's first dense layer: "none" as the original (`activation_fn=None`);
    # models saved before this option existed used "relu".
    decoder_dense_activation: str = "none"
    # "xavier": the original's Xavier weights, zero biases, LSTM forget-gate bias 1.0;
    # "torch": PyTorch's default initialisation (models saved before this option).
    init: str = "xavier"
    # Objective (section 6).
    scale_reconstruction: float = _option(0.3, _POSITIVE)
    # Bernoulli probabilities clipped to [ll_clip, 1 - ll_clip] in log p(x|a), as the
    # original's log_bernoulli(eps=1e-6); 0 computes it exactly from the logits.
    ll_clip: float = 1e-6
    # Keep probability of a dropout on the per-frame log p(x|a) while training. The
    # original offers it but its call is a no-op (see docs/differences-from-original.md).
    ll_keep_prob: float = 1.0
    # Decode C_t mu_{t|T} instead of the encoder's sample in log p(x|a) (the original's
    # `sample_z`, off by default there too).
    sample_z: bool = False
    # Training schedule (section 7).
    batch_size: int = _option(32, Range(1, 100_000))
    num_epochs: int = _option(80, Range(1, 1_000_000))
    # Up to 10^6: a huge rate is a way to test divergence.
    init_lr: float = _option(0.007, Range(0, 1e6, open_low=True))
    decay_rate: float = _option(0.85, Range(0, 1, open_low=True))
    decay_epochs: int = _option(20, Range(1, 1_000_000))
    max_grad_norm: float = _option(150.0, Range(0, 1e12, open_low=True))
    # One Adam per training phase, its moments starting afresh when the phase changes
    # (the original); False keeps one optimiser for the whole run (older models).
    optimizer_per_phase: bool = True
    only_vae_epochs: int = _option(0, Range(0, 1_000_000))
    kf_update_steps: int = _option(10, Range(0, 1_000_000))
    train_miss_prob: float = _option(0.0, Range(0, 1))
    t_init_train_miss: int = _option(3, Range(0, 10_000))
    # Imputation masks and metrics (section 8).
    t_init_mask: int = _option(4, Range(1, 10_000))
    t_steps_mask: int = _option(12, Range(1, 10_000))

    def __post_init__(self) -> None:
        # Each option's type and range first (FIELD_RANGES), then the checks that combine them.
        if isinstance(self.filters, list):  # as JSON and callers' literals give it
            object.__setattr__(self, "filters", tuple(self.filters))
        if out_of_range := range_problems(self):
            raise ValueError("invalid KVAE config: " + "; ".join(out_of_range))
        problems = []
        if self.K < 1:
            problems.append("K must be at least 1")
        if min(self.dim_a, self.dim_z) < 1 or self.dim_u < 0:
            problems.append("dim_a and dim_z must be positive, dim_u non-negative")
        if self.conv and self.frame_size % 2 ** len(self.filters) != 0:
            problems.append(
                f"frame_size {self.frame_size} must be a multiple of {2 ** len(self.filters)} "
                f"for {len(self.filters)} stride-2 convolutions"
            )
        if self.output not in ("bernoulli", "gaussian"):
            problems.append(f"output must be 'bernoulli' or 'gaussian', not {self.output!r}")
        if self.alpha_activation not in ACTIVATIONS:
            problems.append(f"alpha_activation must be one of {sorted(ACTIVATIONS)}")
        if self.activation not in ACTIVATIONS:
            problems.append(f"activation must be one of {sorted(ACTIVATIONS)}")
        if self.decoder_dense_activation not in ("none", *ACTIVATIONS):
            problems.append(
                f"decoder_dense_activation must be 'none' or one of {sorted(ACTIVATIONS)}"
            )
        if self.init not in INITIALISATIONS:
            problems.append(f"init must be one of {sorted(INITIALISATIONS)}")
        if not 0.0 <= self.ll_clip < 0.5:
            problems.append("ll_clip must lie in [0, 0.5)")
        if not 0.0 < self.ll_keep_prob <= 1.0:
            problems.append("ll_keep_prob must lie in (0, 1]")
        if not 0.0 <= self.train_miss_prob <= 1.0:
            problems.append("train_miss_prob must lie in [0, 1]")
        for name in ("init_cov", "noise_transition", "noise_emission", "noise_pixel_var"):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be positive")
        if problems:
            raise ValueError("invalid KVAE config: " + "; ".join(problems))

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> KVAEConfig:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_stored_json(cls, text: str) -> KVAEConfig:
        """The config of a saved model: options it predates take the value it was made with.

        A model file written before an option existed behaved as LEGACY_VALUES say, not
        as today's default, so it keeps loading and behaving exactly as before.
        """
        values = json.loads(text)
        if not isinstance(values, dict):
            raise ValueError("the stored config is not a JSON object")
        return cls.from_dict({**LEGACY_VALUES, **values})

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> KVAEConfig:
        """Build a config, rejecting unknown keys so typos do not pass silently."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(unknown)}")
        values = dict(values)
        if "filters" in values:
            values["filters"] = tuple(int(f) for f in values["filters"])
        return cls(**values)

    def with_changes(self, changes: Mapping[str, Any]) -> KVAEConfig:
        """This config with the typed values of `changes` (name -> value), checked whole."""
        return KVAEConfig.from_dict({**dataclasses.asdict(self), **changes})

    def with_overrides(self, assignments: list[str]) -> KVAEConfig:
        """Apply `key=value` strings (as given on the command line), parsed by field type."""
        return self.with_changes(parse_assignments(assignments))


def parse_assignments(assignments: Iterable[str]) -> dict[str, Any]:
    """The typed values of `key=value` strings (`train --set`), each read by its field's
    type; ValueError (one line) for an unknown key or a value of the wrong kind."""
    defaults = {f.name: f.default for f in fields(KVAEConfig)}
    values: dict[str, Any] = {}
    for item in assignments:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or key not in defaults:
            raise ValueError(f"cannot set {item!r}: expected key=value with a known key")
        values[key] = _parse_value(raw.strip(), defaults[key], key)
    return values


ACTIVATIONS = ("relu", "tanh", "elu", "sigmoid")
INITIALISATIONS = ("xavier", "torch")

LEGACY_VALUES: dict[str, Any] = {
    "activation": "relu",
    "decoder_dense_activation": "relu",
    "init": "torch",
    "ll_clip": 0.0,
    "ll_keep_prob": 1.0,
    "sample_z": False,
    "optimizer_per_phase": False,
}
"""What a model saved before each option existed did: the values a stored config lacks."""


def _parse_value(raw: str, current: Any, key: str) -> Any:
    try:
        return parse_text(raw, current, key)
    except ValueError as err:
        raise ValueError(f"cannot set {key}={raw!r}: {err}") from None


# -- ranges of single options -----------------------------------------------------------------


FIELD_RANGES: dict[str, Range] = {
    f.name: f.metadata["range"] for f in fields(KVAEConfig) if "range" in f.metadata
}
"""Valid values of each numeric option, as its field declares them: `__post_init__`,
`--set` and the Train form's editors all check against this one table."""

MAX_CONV_LAYERS = 8


def describe_range(name: str) -> str:
    """'init_lr must be a number in (0, 1000000]': an option's valid values, in words."""
    default = _DEFAULTS[name]
    if isinstance(default, tuple):
        return f"{name} must be whole numbers in {FIELD_RANGES[name]}"
    kind = "a whole number" if isinstance(default, int) else "a number"
    return f"{name} must be {kind} in {FIELD_RANGES[name]}"


def range_problems(config: KVAEConfig) -> list[str]:
    """One message per option of the wrong type or outside its range."""
    problems = [p for f in fields(config) if (p := value_problem(f.name, getattr(config, f.name)))]
    if config.kernel_size % 2 == 0 and not problems:
        problems.append(f"kernel_size must be odd, got {config.kernel_size}")
    if len(config.filters) > MAX_CONV_LAYERS:
        problems.append(f"filters: at most {MAX_CONV_LAYERS} layers, got {len(config.filters)}")
    elif config.conv and not config.filters:
        problems.append("filters: a convolutional VAE (conv=true) needs at least one layer")
    return problems


def value_problem(name: str, value: Any) -> str | None:
    """Why `value` cannot be option `name` on its own (its type, its range), or None."""
    default = _DEFAULTS.get(name)
    if default is None:
        return None
    wrong = _type_problem(name, value, default)
    if wrong:
        return wrong
    span = FIELD_RANGES.get(name)
    values = value if isinstance(value, tuple) else (value,)
    if span is not None and any(not _finite(v) or v not in span for v in values):
        return f"{describe_range(name)}, got {_show(value)}"
    return None


def _type_problem(name: str, value: Any, default: Any) -> str | None:
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif isinstance(default, str):
        ok = isinstance(value, str)
    elif isinstance(default, tuple):
        ok = isinstance(value, tuple) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        )
    else:
        return None
    if ok:
        return None
    expected = "whole numbers" if isinstance(default, tuple) else type(default).__name__
    return f"{name} must be {expected}, got {_show(value)}"


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value) if isinstance(value, str) else str(value)


def _finite(value: float) -> bool:
    return isinstance(value, int) or math.isfinite(value)  # an int may exceed any float


_DEFAULTS: dict[str, Any] = {
    f.name: f.default for f in fields(KVAEConfig) if f.default is not dataclasses.MISSING
}

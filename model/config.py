"""One dataclass that holds every option of the KVAE and its training schedule.

The defaults are those of the paper's public release (kvae-model.md, sections 2-7),
so a model trained with them can be compared with the paper. The config travels
inside every checkpoint as JSON, which is all a loader needs to rebuild the model.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class KVAEConfig:
    """Architecture, objective and training schedule of a KVAE."""

    # Sizes (section 1).
    frame_size: int = 32
    dim_a: int = 2
    dim_z: int = 4
    dim_u: int = 1
    K: int = 3
    # State space model (section 2).
    init_cov: float = 20.0
    noise_transition: float = 0.08
    noise_emission: float = 0.03
    init_kf_matrices: float = 0.05
    # Dynamics parameter network (section 3).
    alpha_rnn: bool = True
    alpha_units: int = 50
    alpha_layers: int = 2
    alpha_activation: str = "relu"
    fifo_size: int = 1
    learn_u: bool = False
    # Recognition and generative networks (section 4).
    conv: bool = True
    filters: tuple[int, ...] = (32, 32, 32)
    kernel_size: int = 3
    num_layers: int = 2
    vae_num_units: int = 25
    use_vae: bool = True
    output: str = "bernoulli"  # or "gaussian"
    noise_pixel_var: float = 0.1
    # Objective (section 6).
    scale_reconstruction: float = 0.3
    # Training schedule (section 7).
    batch_size: int = 32
    num_epochs: int = 80
    init_lr: float = 0.007
    decay_rate: float = 0.85
    decay_epochs: int = 20
    max_grad_norm: float = 150.0
    only_vae_epochs: int = 0
    kf_update_steps: int = 10
    train_miss_prob: float = 0.0
    t_init_train_miss: int = 3
    # Imputation masks and metrics (section 8).
    t_init_mask: int = 4
    t_steps_mask: int = 12

    def __post_init__(self) -> None:
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

    def with_overrides(self, assignments: list[str]) -> KVAEConfig:
        """Apply `key=value` strings (as given on the command line), parsed by field type."""
        values = dataclasses.asdict(self)
        types = {f.name: f.type for f in fields(self)}
        for item in assignments:
            key, sep, raw = item.partition("=")
            key = key.strip()
            if not sep or key not in types:
                raise ValueError(f"cannot set {item!r}: expected key=value with a known key")
            values[key] = _parse_value(raw.strip(), values[key], key)
        return KVAEConfig.from_dict(values)


ACTIVATIONS = ("relu", "tanh", "elu", "sigmoid")


def _parse_value(raw: str, current: Any, key: str) -> Any:
    try:
        if isinstance(current, bool):
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if isinstance(current, int):
            return int(raw)
        if isinstance(current, float):
            return float(raw)
        if isinstance(current, tuple):
            return tuple(int(v) for v in raw.strip("()[] ").split(",") if v.strip())
        return raw
    except ValueError:
        raise ValueError(f"cannot set {key}={raw!r}: expected {type(current).__name__}") from None

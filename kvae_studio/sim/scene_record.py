"""What a data set says of the scene that made it, and what a model says of its data.

Why: a model trained on a box with a radius-2 ball draws a radius-2 ball; shown a
radius-3 sequence it looks worse than it is. So the studio's data files keep their scene
and every parameter (`model.data`'s ``scene`` entry, written by `kvae-studio simulate` and
the Scene tab), the training records them in the model's summary, and Explore simulates
new sequences like the model's data and says when a sequence differs from it.

The record is plain JSON (a dict), read tolerantly: a file or summary that says nothing,
or says it badly, gives None, never an error.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from kvae_studio.sim.scene_base import SceneParams, label_of
from kvae_studio.sim.scenes import SCENES, scene_params

RESOLUTION_ONLY = ("size",)
"""Parameters that change how a scene is drawn, not how it moves: a model of 64-pixel
frames was not trained on another world than one of 32."""


@dataclass(frozen=True)
class SceneRecord:
    """A scene, every parameter it was simulated with, and how it was drawn."""

    scene: str
    parameters: tuple[tuple[str, Any], ...]  # (name, value) for every field of the scene
    rotation_marker: bool = False
    legacy_physics: bool = False
    seed: int | None = None

    @property
    def values(self) -> dict[str, Any]:
        return dict(self.parameters)

    def params(self, **overrides: Any) -> SceneParams:
        """The scene's parameters, with some replaced; ValueError if they are refused."""
        return scene_params(self.scene, **{**self.values, **overrides})

    def to_json(self) -> dict[str, Any]:
        """The JSON object a data file stores (its ``scene`` entry)."""
        out: dict[str, Any] = {
            "scene": self.scene,
            "parameters": {name: _to_json(value) for name, value in self.parameters},
            "rotation_marker": self.rotation_marker,
            "legacy_physics": self.legacy_physics,
        }
        if self.seed is not None:
            out["seed"] = self.seed
        return out

    @classmethod
    def from_json(cls, data: Any) -> SceneRecord | None:
        """The record a file's ``scene`` entry (or a model's data summary) describes, or
        None when it does not name a known scene and its parameters."""
        if not isinstance(data, dict) or data.get("scene") not in SCENES:
            return None
        parameters = data.get("parameters", data.get("scene_parameters"))
        if not isinstance(parameters, dict):
            return None
        known = {f.name for f in dataclasses.fields(SCENES[data["scene"]])}
        values = tuple((k, _from_json(v)) for k, v in parameters.items() if k in known)
        seed = data.get("seed")
        return cls(
            data["scene"],
            values,
            data.get("rotation_marker") is True,
            data.get("legacy_physics") is True,
            seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        )

    def summary(self) -> dict[str, Any]:
        """What a model's training summary keeps of its data (its "data" object's keys)."""
        out = {
            "scene": self.scene,
            "scene_parameters": self.to_json()["parameters"],
            "rotation_marker": self.rotation_marker,
        }
        if self.legacy_physics:
            out["legacy_physics"] = "all of the sequences"
        return out


def record_of(
    params: SceneParams, legacy: bool = False, marker: bool = False, seed: int | None = None
) -> SceneRecord:
    """The record of sequences simulated with `params` (``simulate(..., legacy, marker)``)."""
    values = tuple((f.name, getattr(params, f.name)) for f in dataclasses.fields(params))
    return SceneRecord(params.name, values, bool(marker), bool(legacy), seed)


def overrides_of(params: SceneParams) -> tuple[tuple[str, Any], ...]:
    """The parameters that differ from the scene's defaults (the paper's), by name."""
    default = type(params)()
    return tuple(
        (f.name, getattr(params, f.name))
        for f in dataclasses.fields(params)
        if getattr(params, f.name) != getattr(default, f.name)
    )


def differences(shown: dict[str, Any], learned: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(name, shown value, learned value) for each parameter of motion that differs
    (the frame size aside): what makes a sequence unlike a model's training data."""
    out = []
    for name, value in shown.items():
        if name in RESOLUTION_ONLY or name not in learned:
            continue
        other = learned[name]
        if not _same(value, other):
            out.append((name, value, other))
    return out


def describe_values(values: tuple[tuple[str, Any], ...] | list, units: bool = False) -> str:
    """'ball radius 2, gravity along y 5': parameters as the Scene tab names them."""
    return ", ".join(f"{param_label(name, units)} {value_text(value)}" for name, value in values)


def param_label(name: str, units: bool = True) -> str:
    """The Scene tab's label of a parameter ("ball radius (px)"; without its unit,
    "ball radius")."""
    return label_of(name, units)


def value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return " ".join(",".join(value_text(v) for v in point) for point in value)
    return str(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return _from_json(_to_json(a)) == _from_json(_to_json(b))


def _to_json(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_to_json(v) for v in value]
    return value


def _from_json(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_from_json(v) for v in value)
    return value

"""Where the sequence on screen came from: a simulated scene or a dataset file.

A typed value rather than a dict keyed by "kind", so a misspelt key is an error where it
is written, not a silent `None` where it is read. Sessions store it as JSON through
`source_to_dict` / `source_from_dict`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union


@dataclass(frozen=True)
class SceneSource:
    """One sequence simulated from `scene` with `seed` (and the rotation marker or not);
    `parameters` are those that differ from the scene's defaults (a model's training data
    may have had a smaller ball), `legacy` the paper's release's physics stepping."""

    scene: str
    seed: int
    marker: bool = False
    parameters: tuple[tuple[str, Any], ...] = ()
    legacy: bool = False

    def describe(self, title: str | None = None) -> str:
        from kvae_studio.sim.scene_record import describe_values

        text = f"{title or self.scene}, seed {self.seed}"
        text += f", {describe_values(self.parameters)}" if self.parameters else ""
        text += ", legacy physics" if self.legacy else ""
        return text + (", rotation marker" if self.marker else "")


@dataclass(frozen=True)
class DatasetSource:
    """Sequence `index` of the dataset file at `path`."""

    path: str
    index: int

    def describe(self, title: str | None = None) -> str:
        return f"{Path(self.path).name}, sequence {self.index}"


@dataclass(frozen=True)
class OtherSource:
    """A sequence of unknown origin (an old session, an array handed in by a script)."""

    label: str = "session"

    def describe(self, title: str | None = None) -> str:
        return self.label


SequenceSource = Union[SceneSource, DatasetSource, OtherSource]  # noqa: UP007 (runtime alias)


def source_to_dict(source: SequenceSource) -> dict[str, Any]:
    """The JSON a session file stores (format kvae-studio-session/1)."""
    if isinstance(source, SceneSource):
        out = {"kind": "scene", "scene": source.scene, "seed": source.seed, "marker": source.marker}
        if source.parameters:
            out["parameters"] = {name: _json(value) for name, value in source.parameters}
        if source.legacy:
            out["legacy"] = True
        return out
    if isinstance(source, DatasetSource):
        return {"kind": "dataset", "path": source.path, "index": source.index}
    return {"kind": "other", "label": source.label}


def source_from_dict(data: Any) -> SequenceSource:
    """The source a session file describes; anything unrecognised is an `OtherSource`,
    since the source is for display only and must not make a session unreadable."""
    if not isinstance(data, dict):
        return OtherSource()
    try:
        if data.get("kind") == "scene" and isinstance(data.get("scene"), str):
            parameters = data.get("parameters")
            parameters = parameters if isinstance(parameters, dict) else {}
            return SceneSource(
                data["scene"],
                int(data.get("seed", 0)),
                bool(data.get("marker")),
                tuple((str(k), _tuple(v)) for k, v in parameters.items()),
                data.get("legacy") is True,
            )
        if data.get("kind") == "dataset" and isinstance(data.get("path"), str):
            return DatasetSource(data["path"], int(data.get("index", 0)))
    except (TypeError, ValueError):
        return OtherSource()
    label = data.get("label")
    return OtherSource(label) if isinstance(label, str) and label else OtherSource()


def _json(value: Any) -> Any:
    return [_json(v) for v in value] if isinstance(value, tuple) else value


def _tuple(value: Any) -> Any:
    return tuple(_tuple(v) for v in value) if isinstance(value, list) else value

"""What the studio says about a model: its scene, size, training and figures (Qt-free).

Why: every number on screen depends on which world the model learned, and a model
trained on box draws a box where pong's paddles are. The scene is the summary's
"scene" key; older files (the first shipped box model) said it only in their data
summary, and a user's run may say nothing, which is shown as unknown rather than
guessed. A run trained on data the studio made knows more: the data's scene and every
parameter (`kvae_studio.sim.scene_record`), in its summary ("data") or, for runs trained
before summaries said it, in the training file its run folder's studio.json names. The
figures are those shipped beside the model (`<scene>-evaluation.json`, `kvae-studio
evaluate --json` on the scene's original file).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kvae_studio.services.file_names import paper_test_set_name, scene_in_name
from kvae_studio.services.resources import scene_title, shipped_evaluation, shipped_scene
from kvae_studio.sim.scene_record import SceneRecord, describe_values, overrides_of


def model_scene(summary: dict[str, Any] | None) -> str | None:
    """The scene a model was trained on, from its summary, or None when it does not say."""
    if not isinstance(summary, dict):
        return None
    scene = summary.get("scene")
    if not isinstance(scene, str):
        data = summary.get("data")
        scene = data.get("scene") if isinstance(data, dict) else None
    return scene if isinstance(scene, str) and scene else None


def model_data_record(
    path: str | Path | None, summary: dict[str, Any] | None
) -> SceneRecord | None:
    """The scene and parameters of the data the model at `path` learned: its summary's
    "data", else the training file its run folder's studio.json names (all its files, if
    several, of one record); None when neither says."""
    record = SceneRecord.from_json(summary.get("data")) if isinstance(summary, dict) else None
    if record is not None or not path:
        return record
    from model.data import read_scene_info

    files = _run_train_files(path)
    if not files:
        return None
    records = [SceneRecord.from_json(read_scene_info(f)) for f in files]
    same = records[0] is not None and all(_same_world(records[0], r) for r in records[1:])
    return records[0] if same else None


def _run_train_files(model_path: str | Path) -> list[str]:
    """The training files named by the studio.json of the run folder holding the model."""
    from kvae_studio.services.run_records import read_studio_file

    studio = read_studio_file(Path(model_path).parent)
    files = studio.get("train_files") or [studio.get("train")]
    if not isinstance(files, list) or not all(isinstance(f, str) and f for f in files):
        return []
    return files


def data_summary(datasets: list[Any]) -> dict[str, Any]:
    """What a model's training summary says of its training data (`model.data.SequenceData`,
    several files joined): {"scene": ..., "data": {scene, scene_parameters, rotation_marker,
    legacy_physics, train_sequences}}, or {} when the files do not say one scene."""
    records = [SceneRecord.from_json(data.scene_info) for data in datasets]
    if not records or records[0] is None or not all(_same_world(records[0], r) for r in records):
        return {}
    count = sum(int(data.num_sequences) for data in datasets)
    return {"scene": records[0].scene, "data": {**records[0].summary(), "train_sequences": count}}


def _same_world(a: SceneRecord | None, b: SceneRecord | None) -> bool:
    """The same scene, parameters and drawing (the seeds may differ)."""
    if a is None or b is None:
        return False
    return (a.scene, a.values, a.rotation_marker, a.legacy_physics) == (
        b.scene,
        b.values,
        b.rotation_marker,
        b.legacy_physics,
    )


def model_file_scene(path: str | Path | None) -> str | None:
    """The scene of a model file without reading its weights: its header's, else that of
    the data its run folder names (the files' records, else their names); None if
    unknown or unreadable."""
    from model.model_file import ModelFileError, read_summary

    if not path:
        return None
    try:
        summary = read_summary(path)
    except (ModelFileError, OSError, ValueError):
        return None
    if scene := model_scene(summary):
        return scene
    if (record := model_data_record(path, summary)) is not None:
        return record.scene
    scenes = {dataset_scene(name) for name in _run_train_files(path)}
    return scenes.pop() if len(scenes) == 1 else None


def dataset_scene(path: str | Path | None) -> str | None:
    """The scene of a dataset: as its file says (the studio's files record it), else as its
    name says, the way the studio names files: `paper-<scene>-test.npz`,
    `original-<scene>.npz` (box-gravity spelt either way), or the Scene panel's
    `<scene>-<time>-train.npz`. None when neither says."""
    from kvae_studio.sim.scenes import SCENES
    from model.data import read_scene_info

    if not path:
        return None
    if (record := SceneRecord.from_json(read_scene_info(path))) is not None:
        return record.scene
    return scene_in_name(Path(path).name, tuple(SCENES))


def scene_mismatch(model_path: str | Path, data_path: str | Path) -> str | None:
    """One line saying how a data file's scene differs from what the model learned, or None
    when they agree or either does not say (`kvae-studio export` warns with it): another
    scene (the model's header or its run's data, the file's record or its name), else, of
    one scene, the parameters of motion that differ where both record them."""
    from kvae_studio.sim.scene_record import differences, param_label, value_text
    from model.data import read_scene_info
    from model.model_file import ModelFileError, read_summary

    try:
        summary = read_summary(model_path)
    except (ModelFileError, OSError, ValueError):
        summary = None
    learned = model_data_record(model_path, summary)
    model = model_scene(summary) or (learned.scene if learned else None)
    data = dataset_scene(data_path)
    name = Path(data_path).name
    if model is None or data is None:
        return None
    if model != data:
        return (
            f"the model was trained on {scene_title(model)} and {name} holds "
            f"{scene_title(data)} sequences: the video shows it on a scene it did not learn"
        )
    shown = SceneRecord.from_json(read_scene_info(data_path))
    if learned is None or shown is None or learned.scene != shown.scene:
        return None
    found = differences(shown.values, learned.values)
    if not found:
        return None
    parts = "; ".join(
        f"{param_label(param, units=False)} {value_text(here)} here, "
        f"{value_text(trained)} in training"
        for param, here, trained in found
    )
    return f"{name} differs from the model's training data ({scene_title(data)}): {parts}"


@dataclass(frozen=True)
class ModelCard:
    """The model card shown in Explore's Model box."""

    name: str
    scene: str | None
    shipped: bool
    trained: bool
    lines: tuple[str, ...] = field(default=())

    @property
    def headline(self) -> str:
        if not self.trained:
            return "untrained"
        return f"trained on {scene_title(self.scene)}" if self.scene else "scene unknown"


def model_card(model: Any, path: str | None, summary: dict[str, Any] | None = None) -> ModelCard:
    """The card of `model` (a KVAE, or a `ModelRef` the model's process loads) opened
    from `path`, whose file's summary is `summary`."""
    summary = summary or {}
    cfg = model.config
    record = model_data_record(path, summary) if path else None
    scene = (model_scene(summary) or (record.scene if record else None)) if path else None
    shipped = shipped_scene(path) is not None
    size = f"{cfg.frame_size}×{cfg.frame_size} frames, K={cfg.K}"
    parameters = _weights(model)
    size += f", {parameters / 1000:.0f}k weights" if parameters else ""
    epochs = summary.get("epoch")
    if path is not None and isinstance(epochs, int) and not isinstance(epochs, bool):
        # a whole number, as the studio writes it (an edited file's 1e999 is not shown)
        size += f", {epochs} epoch{'' if epochs == 1 else 's'}"
        size += " (stopped)" if summary.get("stopped") else ""
    lines = [size]
    if path is None:
        lines.append("a freshly initialised model: no trained file")
    else:
        if data := _data_line(summary.get("data"), record):
            lines.append(data)
        lines += _figures(scene) if shipped else []
    name = Path(path).name if path else "untrained model"
    return ModelCard(name, scene, shipped, path is not None, tuple(lines))


def _weights(model: Any) -> int:
    """How many weights: counted on a model object, read from the header for a reference
    (0, not shown, for an untrained model the window has not built)."""
    if hasattr(model, "parameters"):
        return sum(p.numel() for p in model.parameters())
    return int(getattr(model, "weights", 0))


def _data_line(data: Any, record: SceneRecord | None = None) -> str:
    data = data if isinstance(data, dict) else {}
    parts = []
    if record is not None:
        try:
            changed = overrides_of(record.params())
        except ValueError:
            changed = ()
        parts += [describe_values(changed)] if changed else []
        data = {"rotation_marker": record.rotation_marker, **data}
        if record.legacy_physics:
            data.setdefault("legacy_physics", "all of the sequences")
    if isinstance(data.get("train_sequences"), int):
        parts.append(f"{data['train_sequences']} sequences")
    if data.get("rotation_marker") is True:
        parts.append("rotation marker")
    if data.get("legacy_physics"):
        parts.append(f"legacy physics in {data['legacy_physics']}")
    return "data: " + ", ".join(parts) if parts else ""


def _figures(scene: str | None) -> list[str]:
    """Smoothing against the baseline on the scene's original file, as shipped."""
    path = shipped_evaluation(scene)
    if path is None:
        return []
    try:
        figures = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    parts = []
    for key, label in (("planning", "planning"), ("random_0.5", "drop 0.5")):
        hamming = figures.get(key, {}).get("hamming", {}) if isinstance(figures, dict) else {}
        smoothing, baseline = hamming.get("smoothing"), hamming.get("baseline")
        if isinstance(smoothing, float) and isinstance(baseline, float) and baseline > 0:
            parts.append(f"{label} {smoothing:.3f} ({smoothing / baseline:.2f}× baseline)")
    return [f"smoothing on {paper_test_set_name(scene)}: " + ", ".join(parts)] if parts else []

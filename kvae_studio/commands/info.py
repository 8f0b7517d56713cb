"""``kvae-studio info``: what a sequence, session or model file holds, and whether the
studio can read it. Model files are described from their header alone (no torch, no
weights read), checked as far as the header allows (`model.model_file_check`); a session
is read as the window opens it. What the files say is printed with its control
characters escaped (`terminal.shown`)."""

from __future__ import annotations

import argparse
import os
import sys

from kvae_studio.commands import _options
from kvae_studio.commands.terminal import shown


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "info",
        help="describe a data set (.npz), session (.session.npz) or model (.safetensors) file",
        description="Shape, value range, arrays, state ranges and reading notes of .npz "
        "sequence files; frames, masks and model of the window's saved sessions; network, "
        "training and options of .safetensors model files. "
        "Exit code 2 if a file cannot be read or does not hold together.",
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        type=_options.file_or_shipped,
        help="one or more .npz or .safetensors files, or shipped ones by name: "
        f"{_options.shipped_names('.safetensors')}, {_options.shipped_names('.npz')}",
    )


def run(args: argparse.Namespace) -> int:
    from kvae_studio.document.session import SessionError
    from model.data import DatasetError
    from model.model_file import ModelFileError

    status, printed = 0, False
    for path in args.paths:
        try:
            text = _described(path)
        except (DatasetError, ModelFileError, SessionError) as err:
            print(f"error: {shown(err)}", file=sys.stderr)
            status = 2
            continue
        if printed:
            print()
        print(text)
        printed = True
    return status


def _described(path: str) -> str:
    """What `info` prints of one file; DatasetError, ModelFileError or SessionError when it
    is refused."""
    from kvae_studio.document.session import is_session_file, load_session
    from model.data import DatasetError, list_arrays, load_sequences
    from model.model_file_check import check_model_file
    from model.run_folder import MODEL_FILE

    if os.path.isdir(path):
        model = os.path.join(path, MODEL_FILE)
        hint = f"; its model is {model}" if os.path.isfile(model) else ""
        raise DatasetError(f"{path}: is a folder, not a file{hint}")
    if str(path).endswith(".safetensors"):
        return describe_model_file(path, check_model_file(path))
    if is_session_file(path):
        return describe_session(path, load_session(path))
    return describe(path, list_arrays(path), load_sequences(path))


def describe_session(path, session) -> str:
    """A short human summary of a session the window saved (`document.session.Session`)."""
    steps, height, width = session.images.shape
    hidden = int(session.hidden.sum())
    painted = int(session.occluded.sum())
    lines = [
        f"{path}  ({os.path.getsize(path) / 1e6:.2f} MB)",
        f"  session: {steps} frames of {height}x{width} px, frame {session.frame} shown",
        f"  masks:   {hidden} frame{'' if hidden == 1 else 's'} hidden, "
        f"{painted} pixel{'' if painted == 1 else 's'} painted",
        f"  model:   {session.model_path or 'none (the default model)'}",
        f"  state:   {'none' if session.state is None else 'x, y, vx, vy of every frame'}",
    ]
    return "\n".join(shown(line) for line in lines)


def describe_model_file(path, model) -> str:
    """A short human summary of a model file (`model.model_file.ModelDescription`)."""
    import dataclasses

    from model.config import KVAEConfig

    c, s = model.config, model.summary
    lines = [
        f"{path}  ({os.path.getsize(path) / 1e6:.2f} MB)",
        f"  network: {c.frame_size}x{c.frame_size} frames, a_t {c.dim_a}-d, z_t {c.dim_z}-d, "
        f"K = {c.K} regimes, {model.weights:,} weights, {c.output} pixels",
    ]
    trained = []
    if s.get("scene"):
        trained.append(f"on {s['scene']}")
    if s.get("epoch") is not None:
        trained.append(f"epoch {s['epoch']}")
    selection = s.get("selection")
    if isinstance(selection, dict) and selection.get("metric"):
        trained.append(f"chosen by validation {selection['metric']}")
    origin = (
        s.get("training", {}).get("fine_tuned_from")
        if isinstance(s.get("training"), dict)
        else None
    )
    if origin:
        trained.append(f"fine-tuned from {origin}")
    lines.append("  trained: " + (", ".join(trained) if trained else "no training recorded"))
    if run := _how_run(s):
        lines.append("  run: " + run)
    default = KVAEConfig()
    changed = [
        f"{f.name}={getattr(c, f.name)}"
        for f in dataclasses.fields(c)
        if getattr(c, f.name) != getattr(default, f.name)
    ]
    lines.append(
        "  options: " + (", ".join(changed) + " (the rest default)" if changed else "the defaults")
    )
    return "\n".join(shown(line) for line in lines)


def _how_run(summary: dict) -> str:
    """Precision, processes, time and machine of the training, as the Trainer records them
    (a shipped model's card may hold them under "training")."""
    card = summary.get("training") if isinstance(summary.get("training"), dict) else {}

    def value(key: str):
        found = summary.get(key, card.get(key))
        return (
            found if isinstance(found, (str, int, float)) and not isinstance(found, bool) else None
        )

    parts = []
    if (precision := value("precision")) is not None:
        parts.append(str(precision))
    world = value("world_size")
    if isinstance(world, int) and world > 0:
        parts.append(f"{world} process{'' if world == 1 else 'es'}")
    seconds = value("wall_seconds")
    if isinstance(seconds, (int, float)) and 0 <= seconds < 1e9:
        parts.append(f"{seconds / 60:.1f} min of training")
    if (machine := value("machine")) is not None:
        parts.append(f"on {machine}")
    return ", ".join(parts)


def describe(path, arrays, data) -> str:
    """A short human summary of a loaded file."""
    import numpy as np

    images = data.images
    n, t, h, w = images.shape
    lit = images > 0
    per_frame = lit.sum(axis=(2, 3))
    static = int(lit.all(axis=(0, 1)).sum())
    grey = np.count_nonzero((images > 0) & (images < 1)) / max(1, np.count_nonzero(lit))
    listed = "; ".join(
        f"{a.name} {a.dtype} {a.shape}" + (" (needs pickle, not read)" if a.needs_pickle else "")
        for a in arrays
    )
    lines = [
        f"{path}  ({os.path.getsize(path) / 1e6:.2f} MB)",
        f"  arrays:  {listed}",
        f"  images:  {n} sequences x {t} frames of {h}x{w} px, float32, "
        f"values in [{images.min():g}, {images.max():g}]",
        f"  lit:     {per_frame.mean():.1f} pixels > 0 per frame (min {per_frame.min()}, "
        f"max {per_frame.max()}), {static} lit in every frame (walls), "
        f"{100 * grey:.1f}% of lit pixels grey",
    ]
    if data.state is None:
        lines.append("  state:   none")
    else:
        s = data.state.astype(np.float64)
        speed = np.hypot(s[..., 2], s[..., 3])
        ranges = "  ".join(
            f"{label} [{values.min():.2f}, {values.max():.2f}]"
            for label, values in (
                ("x", s[..., 0]),
                ("y", s[..., 1]),
                ("vx", s[..., 2]),
                ("vy", s[..., 3]),
                ("speed", speed),
            )
        )
        lines.append(f"  state:   {ranges}")
    lines.append(f"  scene:   {_scene_text(data.scene_info)}")
    for j, note in enumerate(data.notes):
        lines.append(("  notes:   " if j == 0 else "           ") + note)
    return "\n".join(shown(line) for line in lines)


def _scene_text(info) -> str:
    """What made the sequences, as the file says: the scene, the parameters that differ
    from its defaults (by their option names), and how it was drawn."""
    from kvae_studio.sim.scene_record import SceneRecord, overrides_of, value_text

    if info is None:
        return "not recorded (a file not made by the studio, or made before it said)"
    record = SceneRecord.from_json(info)
    if record is None:
        return f"{info.get('scene')} (its parameters cannot be read)"
    try:
        changed = overrides_of(record.params())
    except ValueError as err:
        return f"{record.scene} (its parameters are refused: {err})"
    parts = [record.scene]
    parts.append(
        ", ".join(f"{name} {value_text(value)}" for name, value in changed)
        + " (the rest the scene's defaults)"
        if changed
        else "the scene's default parameters"
    )
    parts += ["legacy physics"] if record.legacy_physics else []
    parts += ["rotation marker"] if record.rotation_marker else []
    parts += [f"seed {record.seed}"] if record.seed is not None else []
    return ", ".join(parts)

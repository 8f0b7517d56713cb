"""``kvae-studio simulate``: make a data set of one of the paper's scenes.

Every scene parameter has a flag, generated from the scene dataclasses, so ``--help`` lists
them all with each scene's default.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

from kvae_studio.commands import _options
from kvae_studio.commands.field_options import add_field_options, given_fields
from kvae_studio.commands.terminal import shown
from kvae_studio.sim.scene_base import param_problem
from kvae_studio.sim.scenes import SCENES, param_help
from model.field_text import show_text

_PREFIX = "param_"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "simulate",
        help="make a data set of one of the paper's scenes (.npz)",
        description="Simulate a scene of the paper and write its frames and ball state in the "
        "original .npz format, with the scene and its parameters (shown by `kvae-studio "
        "info`; a model trained on the file records them). Lengths and speeds are in units "
        "of the paper's 32-pixel frame; --size only changes the resolution. Positions: "
        "x = column, y = row, row 0 at the top.",
    )
    p.add_argument("scene", choices=list(SCENES), help="which scene")
    p.add_argument(
        "--sequences",
        type=_options.positive,
        default=5000,
        metavar="N",
        help="number of sequences (default 5000, the paper's training sets; its test sets "
        "have 1000)",
    )
    p.add_argument("--steps", type=_options.positive, default=20, metavar="T", help="frames (20)")
    p.add_argument("--seed", type=_options.seed, default=0, help="random seed (0)")
    p.add_argument("--out", metavar="PATH", help="output file (default: SCENE.npz)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no summary")
    p.add_argument(
        "--legacy-physics",
        action="store_true",
        help="step the physics as the paper's public release did (one step per frame, walls "
        "of zero width: the ball overlaps walls at bounces), to make data like the paper's "
        "files; not pong",
    )
    p.add_argument(
        "--rotation-marker",
        action="store_true",
        help="draw the public release's rotation marker on the ball (a dark grey line from "
        "the centre to one pixel past the rim), as in the paper's files",
    )
    group = p.add_argument_group("scene parameters (default: the paper's)")
    defaults = {scene: cls() for scene, cls in SCENES.items()}
    owners = _all_fields()
    add_field_options(
        group,
        {name: getattr(defaults[scenes[0]], name) for name, scenes in owners.items()},
        lambda name: (
            f"{param_help(SCENES[owners[name][0]], name)} "
            f"({_defaults_text(name, owners[name], defaults)})"
        ),
        _PREFIX,
        param_problem,
    )


def run(args: argparse.Namespace) -> int:
    """Exit code 2 when the command is refused before any work (an option, the output path,
    more memory or disk than there is), 1 when writing fails, 130 when interrupted."""
    import numpy as np

    from kvae_studio.commands.terminal import count_to, progress_bar
    from kvae_studio.sim import iter_batches, scene_params
    from kvae_studio.sim.scene_record import record_of
    from model.data import DatasetError, SequenceWriter

    overrides = given_fields(args, _PREFIX)
    cls = SCENES[args.scene]
    foreign = sorted(set(overrides) - {f.name for f in dataclasses.fields(cls)})
    if foreign:
        flags = ", ".join("--" + name.replace("_", "-") for name in foreign)
        return _error(f"{flags} does not apply to scene {args.scene}")
    try:
        params = scene_params(args.scene, **overrides)
    except ValueError as err:
        return _error(str(err))

    if args.legacy_physics and args.scene == "pong":
        return _error("--legacy-physics is for the scenes with fixed walls, not pong")
    out = args.out or f"{args.scene}.npz"
    problem = _output_problem(out) or _resources_problem(params, args.sequences, args.steps, out)
    if problem:
        return _error(problem)
    n, steps, size = args.sequences, args.steps, params.size
    bar = progress_bar(args.scene, n, "seq", enabled=not args.quiet and n >= 1000)
    started = time.perf_counter()
    try:
        with SequenceWriter(out, (n, steps, size, size)) as writer:
            state = np.empty((n, steps, 4), dtype=np.float32)
            for batch in iter_batches(
                params,
                n,
                steps,
                args.seed,
                progress=count_to(bar),
                legacy=args.legacy_physics,
                marker=args.rotation_marker,
            ):
                writer.write(batch.images)
                state[batch.start : batch.start + len(batch.state)] = batch.state
            record = record_of(params, args.legacy_physics, args.rotation_marker, args.seed)
            writer.finish(state, scene=record.to_json())
    except DatasetError as err:
        bar.close()
        return _error(f"{err}; nothing written", status=1)
    except MemoryError:
        bar.close()
        return _error(
            f"out of memory making {n} sequences of {steps} frames of {size}x{size} px; "
            "nothing written (lower --sequences, --steps or --size)",
            status=1,
        )
    except KeyboardInterrupt:
        bar.close()
        print("interrupted; nothing written", file=sys.stderr)
        return 130
    bar.close()
    seconds = time.perf_counter() - started
    if not args.quiet:
        megabytes = os.path.getsize(out) / 1e6
        print(
            f"wrote {n} {args.scene} sequences of {steps} frames, {size}x{size} px, to {out} "
            f"({megabytes:.1f} MB) in {seconds:.1f} s ({n / seconds:.0f} sequences/s)"
        )
    return 0


def _error(message: str, status: int = 2) -> int:
    print(f"error: {shown(message)}", file=sys.stderr)
    return status


def _output_problem(out: str) -> str | None:
    """Why the data set cannot be written at `out`, before any work; or None."""
    from model.temp_files import NotAFileError, write_target

    path = Path(out)
    if path.is_dir():
        return f"--out {out} is a folder; give a file name such as {path / 'data.npz'}"
    try:
        path = write_target(out)  # a link's file; a device or a pipe refused
    except NotAFileError as err:
        return f"--out {out}: {err}"
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        return f"--out {out}: the folder {folder} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"--out {out}: cannot write in {folder}"
    return None


def _resources_problem(params, sequences: int, steps: int, out: str) -> str | None:
    """Why this machine cannot make the data set: the memory it holds at its peak (the
    simulation's, the state of every sequence, and the writer's two copies of a chunk of
    frames: the one it compresses and the next one), or the least disk space the file
    takes; None when both fit."""
    import shutil

    from kvae_studio.sim.simulate import chunk_sequences, memory_needed
    from model.sequence_writer import least_file_bytes

    size = params.size
    chunk = min(chunk_sequences(params, steps), sequences) * steps * size * size * 4
    held = memory_needed(params, sequences, steps) + sequences * steps * 4 * 4 + 2 * chunk
    what = f"{sequences} sequences of {steps} frames of {size}x{size} px"
    if held > _available_memory():
        return (
            f"{what} need {_bytes(held)} of memory (the ball states of every sequence and "
            f"{_bytes(chunk)} chunks of frames), more than this machine has free; lower "
            "--sequences or --steps"
        )
    from model.temp_files import write_target

    target = write_target(out)  # the disk the bytes go to: a link's file's
    folder = target.parent if str(target.parent) else Path(".")
    least = least_file_bytes((sequences, steps, size, size))
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return None
    if least > free:
        return (
            f"{what} take at least {_bytes(least)} on disk even compressed, and {folder} "
            f"has {_bytes(free)} free; lower --sequences, --steps or --size"
        )
    return None


def _bytes(count: float) -> str:
    return f"{count / 1e9:.1f} GB" if count >= 1e9 else f"{count / 1e6:.1f} MB"


def _available_memory() -> float:
    """Bytes of memory free for a new process (Linux's MemAvailable), else all of the RAM,
    or infinity where the system says neither."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return float("inf")


def _all_fields() -> dict[str, list[str]]:
    """Every parameter name, with the scenes that have it (first seen first)."""
    fields: dict[str, list[str]] = {}
    for scene, cls in SCENES.items():
        for f in dataclasses.fields(cls):
            fields.setdefault(f.name, []).append(scene)
    return fields


def _defaults_text(name: str, owners: list[str], defaults: dict) -> str:
    values = {scene: getattr(defaults[scene], name) for scene in owners}
    shown = {scene: show_text(value) for scene, value in values.items()}
    if len(set(shown.values())) == 1:
        value = next(iter(shown.values()))
        scope = "" if len(owners) == len(SCENES) else f"{', '.join(values)}; "
        return f"{scope}default {value}"
    return "default " + ", ".join(f"{scene} {text}" for scene, text in shown.items())

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

from kvae_studio.commands import _options
from kvae_studio.commands.field_options import add_field_options, given_fields
from kvae_studio.sim.scenes import SCENES, param_help
from model.field_text import show_text

_PREFIX = "param_"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "simulate",
        help="make a data set of one of the paper's scenes (.npz)",
        description="Simulate a scene of the paper and write its frames and ball state in the "
        "original .npz format. Lengths and speeds are in units of the paper's 32-pixel "
        "frame; --size only changes the resolution. Positions: x = column, y = row, row 0 "
        "at the top.",
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
    )


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from kvae_studio.commands.progress import count_to, progress_bar
    from kvae_studio.sim import iter_batches, scene_params
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
    n, steps, size = args.sequences, args.steps, params.size
    needed = n * (steps * 4 * 4 + 4 * 8)  # ball states (float32) and launch draws (float64)
    if needed > _physical_memory():
        return _error(
            f"{n} sequences of {steps} frames need {needed / 1e9:.1f} GB of memory for the "
            f"ball states alone, more than this machine has; lower --sequences or --steps"
        )
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
            writer.finish(state)
    except DatasetError as err:
        bar.close()
        return _error(str(err))
    except MemoryError:
        bar.close()
        return _error(
            f"out of memory making {n} sequences of {steps} frames of {size}x{size} px; "
            "nothing written (lower --sequences, --steps or --size)"
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


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _physical_memory() -> float:
    """Bytes of RAM, or infinity where the system does not say."""
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

"""`kvae-studio export`: the paper's imputation or generation video of one sequence.

Every argument is checked before any work (the output's name and folder, the data file's
header and the sequence number, the model), so a mistake costs one line and writes
nothing. The format follows the file name: GIF, or MP4 as H.264 (see services/export.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kvae_studio.commands import _options
from kvae_studio.commands.terminal import shown
from kvae_studio.services.video_options import DEFAULT_SCALE, MAX_SCALE, VIEWS

MAX_STEPS = 1_000  # about 265 MB of video frames in memory at 32 px


def _views(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in VIEWS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"{', '.join(unknown) or 'no view'}: choose views from {', '.join(VIEWS)}"
        )
    return names


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "export",
        help="the paper's imputation or generation video of one sequence (GIF or MP4)",
        description="Imputation: a share of the frames dropped at random (30%), the model's "
        "frames with the truth drawn over them in red. Generation: the model sees the "
        "first 4 frames and rolls on for --steps frames, past the end of the file if asked.",
    )
    _options.model_and_data(p)
    p.add_argument(
        "--sequence",
        type=_options.whole_number(0),
        required=True,
        metavar="N",
        help="which sequence (from 0)",
    )
    p.add_argument("--kind", choices=["imputation", "generation"], default="imputation")
    p.add_argument(
        "--drop-prob",
        type=_options.probability,
        default=0.3,
        help="imputation: share of frames dropped (0.3)",
    )
    p.add_argument(
        "--seed", type=_options.seed, default=0, help="imputation: seed of the dropped frames"
    )
    p.add_argument(
        "--steps",
        type=_options.whole_number(1, MAX_STEPS),
        help="generation: frames in the video (default: those of the file)",
    )
    p.add_argument(
        "--fps",
        type=_options.number(0, 100, open_low=True),
        default=5.0,
        help="frames per second (5)",
    )
    p.add_argument(
        "--scale",
        type=_options.whole_number(1, MAX_SCALE),
        default=DEFAULT_SCALE,
        help=f"video pixels per frame pixel ({DEFAULT_SCALE})",
    )
    p.add_argument(
        "--views",
        type=_views,
        metavar="LIST",
        help="imputation: these views side by side, as the window's Export Video shows them, "
        f"instead of the paper's two panels; comma-separated from {', '.join(VIEWS)} "
        "(the window's default: truth,observed,imputed)",
    )
    p.add_argument("--out", required=True, metavar="FILE", help="FILE.gif or FILE.mp4")


def run(args: argparse.Namespace) -> int:
    problem = _argument_problem(args)
    if problem is None:
        loaded = _load(args)
        if isinstance(loaded, str):
            problem = loaded
    if problem is not None:
        print(f"error: {shown(problem)}", file=sys.stderr)
        return 2
    model, images = loaded
    from kvae_studio.services.model_card import scene_mismatch

    if mismatch := scene_mismatch(args.model, args.data):  # said, and the video made all the same
        print(f"warning: {shown(mismatch)}", file=sys.stderr)

    from kvae_studio.services.export import ExportError, write_video
    from kvae_studio.services.paper_videos import paper_video, views_frames
    from model.checkpoint import filtering_with
    from model.model_file import ModelFileError

    try:
        with filtering_with(Path(args.model).name):
            if args.views:
                frames = views_frames(
                    model, images, args.views, args.drop_prob, args.seed, args.scale
                )
            else:
                frames = paper_video(
                    model, images, args.kind, args.drop_prob, args.seed, args.steps, args.scale
                )
    except ModelFileError as err:  # weights the filter cannot use: the model refused
        print(f"error: {shown(err)}", file=sys.stderr)
        return 2
    except ExportError as err:  # views the sequence cannot show, a video too large
        print(f"error: {shown(err)}", file=sys.stderr)
        return 2
    try:
        written = write_video(args.out, frames, args.fps)
    except ExportError as err:
        print(f"error: {shown(err)}", file=sys.stderr)
        return 1
    height, width = frames.shape[1:3]
    print(f"wrote {args.out}: {args.kind}, {len(frames)} frames of {width}x{height}, {written}")
    if written != "H.264" and Path(args.out).suffix.lower() == ".mp4":
        print(
            "note: no H.264 encoder here (PyAV with libx264 is missing); this MP4 is "
            f"{written}, which desktop players read but browsers do not",
            file=sys.stderr,
        )
    return 0


def _argument_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments that needs no file read, or None."""
    out = Path(args.out)
    if out.suffix.lower() not in (".gif", ".mp4"):
        return f"{args.out}: the output must end in .gif or .mp4"
    if out.is_dir():
        return f"{args.out}: is a folder"
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        return f"{args.out}: no folder {folder}"
    if not os.access(folder, os.W_OK):
        return f"{args.out}: cannot write in {folder}"
    if Path(args.model).suffix.lower() != ".safetensors":
        return f"{args.model}: models are .safetensors files"
    if not Path(args.model).is_file():
        return f"{args.model}: no such file"
    if args.steps is not None and args.kind != "generation":
        return "--steps applies to --kind generation only"
    if args.views is not None and args.kind != "imputation":
        return "--views applies to --kind imputation only"
    return None


def _load(args: argparse.Namespace):
    """(model, the sequence's images) or a one-line reason; the sequence number is checked
    on the data file's header before the model or the frames are read."""
    from model.data import DatasetError, frames_problem, list_arrays, load_sequences

    try:
        shapes = {a.name: a.shape for a in list_arrays(args.data)}
    except DatasetError as err:
        return str(err)
    images_shape = shapes.get("images")
    if images_shape is None:
        return f"{args.data}: no 'images' array"
    count = images_shape[0] if len(images_shape) >= 4 else 1
    if args.sequence >= count:
        return f"--sequence {args.sequence}: {args.data} holds sequences 0 to {count - 1}"

    from model.checkpoint import load_model
    from model.model_file import ModelFileError

    try:
        model = load_model(args.model)
    except ModelFileError as err:
        return str(err)
    try:
        data = load_sequences(args.data)
    except DatasetError as err:
        return str(err)
    images = data.images[args.sequence]
    if problem := frames_problem(images.shape, model.config.frame_size):  # the studio's one check
        return f"{args.data}: {problem}"
    from kvae_studio.services.export import size_problem

    panels = len(args.views) if args.views else 2
    if problem := size_problem(panels, images.shape[1:3], args.scale):
        return f"--scale {args.scale}: {problem}"
    need = model.config.t_init_mask
    if args.kind == "generation" and min(images.shape[0], need) > (args.steps or need):
        return f"--steps {args.steps}: generation starts from {need} seen frames"
    return model, images

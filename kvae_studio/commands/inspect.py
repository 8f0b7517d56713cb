"""`kvae-studio inspect`: what a model has learned of the dynamics, over a data set, as
files: the regimes, the error over time, free roll-outs and joint posterior samples.

Every input is checked before any work (the output folder, the model, the data file and
whether the model can read its frames), as `kvae-studio evaluate` checks them, so a
mistake costs one line and writes nothing. The files are written into a temporary folder
beside DIR and moved into place only once everything has been computed: DIR never holds
a part of a run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from kvae_studio.commands import _options

MAX_STEPS = 1_000
MAX_SAMPLES = 10_000
IMAGINATION_ROWS = 16
RANDOM_DROP = 0.5

FILES = (
    "regimes.npz",
    "error-over-time.csv",
    "generation.npz",
    "posterior-samples.npz",
    "regimes.png",
    "alpha-map.png",
    "imagination.png",
    "error-over-time.png",
    "posterior-samples.png",
)
CSV_COLUMNS = ("mask", "step", "kind", "median", "lower_quartile", "upper_quartile")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "inspect",
        help="a model's learned dynamics over a dataset, as pictures and arrays",
        description="Writes into DIR: regimes.npz (the encoder's codes, the regime weights "
        "alpha, the regimes' A and C), error-over-time.csv (the Hamming distance per step "
        "under the planning mask and random drop 0.5: median and quartiles over the "
        f"sequences), generation.npz (noise-free roll-outs of {IMAGINATION_ROWS} sequences "
        "from their first t_init_mask frames), posterior-samples.npz (joint samples of z for "
        "sequence 0 under the planning mask), and PNG pictures of each.",
    )
    _options.model_and_data(p)
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write (made if absent)")
    p.add_argument(
        "--sequences",
        type=_options.positive,
        metavar="N",
        help="use only the first N sequences (default: all)",
    )
    p.add_argument(
        "--steps",
        type=_options.whole_number(1, MAX_STEPS),
        default=80,
        help="frames of each roll-out (80)",
    )
    p.add_argument(
        "--samples",
        type=_options.whole_number(1, MAX_SAMPLES),
        default=64,
        help="joint posterior samples of sequence 0 (64)",
    )
    p.add_argument(
        "--seed", type=_options.seed, default=0, help="random mask, sampled roll-outs, samples"
    )
    p.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])


def _out_problem(out: Path) -> str | None:
    if out.exists() and not out.is_dir():
        return f"--out {out}: is a file, not a folder"
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        return f"--out {out}: the folder {folder} does not exist"
    if not os.access(folder, os.W_OK):
        return f"--out {out}: cannot write in {folder}"
    if out.is_dir() and not os.access(out, os.W_OK):
        return f"--out {out}: cannot write in it"
    return None


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    problem = _out_problem(out)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2

    from kvae_studio.services.evaluation import load_sweep_inputs
    from model.data import DatasetError
    from model.model_file import ModelFileError
    from model.training import TrainingError

    try:  # the checks of `kvae-studio evaluate`, in the same words
        inputs = load_sweep_inputs([args.model], args.data, args.sequences, device=args.device)
    except (ModelFileError, DatasetError, TrainingError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    (_, model), images = inputs.models[0], inputs.images

    from model.checkpoint import filtering_with

    try:
        with filtering_with(Path(args.model).name):
            files = _compute(model, images, args)
    except ModelFileError as err:  # weights the filter cannot use: the model refused
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        _write_folder(out, files)
    except OSError as err:
        print(f"error: could not write {out}: {err}", file=sys.stderr)
        return 1
    print(f"wrote {out}: {len(images)} sequences, {', '.join(files)}")
    return 0


def _compute(model, images, args: argparse.Namespace) -> dict[str, bytes]:
    """Every file's bytes, by name; nothing is written here."""
    import numpy as np

    from kvae_studio.services import dynamics_pictures as pictures
    from kvae_studio.services import dynamics_run
    from model.evaluation import make_mask

    cfg = model.config
    steps = images.shape[1]
    chunks = list(dynamics_run.regime_chunks(model, images))
    codes = np.concatenate([c.codes for c in chunks])
    alpha = np.concatenate([c.alpha for c in chunks])
    regimes = dynamics_run.regime_matrices(model)
    errors = [
        dynamics_run.error_over_time(model, images, "planning", cfg.t_steps_mask, args.seed),
        dynamics_run.error_over_time(model, images, "random", RANDOM_DROP, args.seed),
    ]
    dreams = dynamics_run.imagination(model, images, IMAGINATION_ROWS, args.steps, args.seed)
    seen = make_mask("planning", 1, steps, cfg.t_init_mask, cfg.t_steps_mask, args.seed, "studio")
    draws = dynamics_run.posterior_samples(model, images[0], seen, None, args.samples, args.seed)
    bounds = dynamics_run.code_bounds(codes)
    step = steps // 2  # the LSTM's state: sequence 0 halfway through
    amap = dynamics_run.alpha_map(model, bounds, 64, codes[0], sequence=0, step=step)

    files = {
        "regimes.npz": _npz(codes=codes, alpha=alpha, A=regimes.A, C=regimes.C),
        "error-over-time.csv": _csv(errors).encode("utf-8"),
        "generation.npz": _npz(codes=dreams.mean_codes, frames=dreams.mean_frames),
        "posterior-samples.npz": _npz(
            z=draws.z,
            smoothed_mean=draws.smoothed_mean,
            smoothed_cov=draws.smoothed_cov,
            object_probability=draws.object_probability,
        ),
        "regimes.png": pictures.regime_map(codes, alpha, bounds),
        "alpha-map.png": pictures.alpha_map(amap, codes),
        "imagination.png": pictures.frame_grid(dreams.mean_frames, dreams.n_init),
        "error-over-time.png": pictures.error_over_time(errors),
        "posterior-samples.png": pictures.object_probability(
            images[0], draws.object_probability, seen
        ),
    }
    return {
        name: value if isinstance(value, bytes) else pictures.png_bytes(value)
        for name, value in files.items()
    }


def _npz(**arrays) -> bytes:
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _csv(results) -> str:
    """error-over-time.csv: one row per mask, kind and step (NaN where no sequence hides
    the step)."""
    import csv
    import io

    from kvae_studio.services.dynamics import ERROR_KINDS

    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    for res in results:
        for kind in ERROR_KINDS:
            for t in res.steps:
                values = (res.median, res.lower_quartile, res.upper_quartile)
                figures = (format(float(v[kind][t]), ".6g") for v in values)
                writer.writerow([res.mask, int(t), kind, *figures])
    return text.getvalue()


def _write_folder(out: Path, files: dict[str, bytes]) -> None:
    """Write the files into a temporary folder beside `out`, then move them in: the whole
    folder in one rename when `out` does not exist yet, else file by file (each rename
    replaces an older run's file whole)."""
    from model.temp_files import temporary_path

    tmp = temporary_path(out)
    tmp.mkdir()
    try:
        for name, data in files.items():
            with open(tmp / name, "xb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        if not out.exists():
            os.replace(tmp, out)
            return
        for name in files:
            os.replace(tmp / name, out / name)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)

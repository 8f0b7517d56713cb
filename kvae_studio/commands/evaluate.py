"""`kvae-studio evaluate`: the paper's imputation metrics for a model on a dataset."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from kvae_studio.commands import _options
from kvae_studio.commands.terminal import shown

PROTOCOL_HELP = (
    "how to score: 'studio' (default) filters the encoder's means, one random mask per "
    "sequence, pooled over the whole set; 'paper' scores as the original code did, so the "
    "figures compare with the paper's: codes sampled from q(a|x) with --seed, batches of 32 "
    "(a last partial batch dropped), one random mask shared by every batch, each figure "
    "averaged over batches"
)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="imputation metrics of a model on a dataset",
        description="Hamming distances (smoothing, filtering, generation, baseline), normalised "
        "RMSE of a and the test ELBO, as defined in the paper.",
    )
    _options.model_and_data(p, "test sequences")
    p.add_argument("--mask", choices=["planning", "random"], default="planning")
    p.add_argument("--drop-prob", type=_options.probability, default=0.5, help="for --mask random")
    p.add_argument("--protocol", choices=["studio", "paper"], default="studio", help=PROTOCOL_HELP)
    p.add_argument(
        "--seed", type=_options.seed, default=0, help="random masks (and samples of a: paper)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--sweep", metavar="CSV", help="run the paper's sweeps and write them as CSV")
    p.add_argument(
        "--sequences",
        type=_options.positive,
        metavar="N",
        help="use only the first N test sequences (default: all, as the paper)",
    )
    p.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])


def _check_options(args: argparse.Namespace) -> str | None:
    """What is wrong with the options or the output path, before any work starts."""
    if not 0.0 <= args.drop_prob <= 1.0:
        return f"--drop-prob must lie in [0, 1], got {args.drop_prob}"
    if args.sweep:
        out = Path(args.sweep)
        folder = out.parent if str(out.parent) else Path(".")
        if out.is_dir():
            return f"--sweep {out} is a folder; give a .csv file name"
        if not folder.is_dir():
            return f"--sweep: the folder {folder} does not exist"
        if not os.access(folder, os.W_OK):
            return f"--sweep: cannot write in {folder}"
    return None


def run(args: argparse.Namespace) -> int:
    problem = _check_options(args)
    if problem:
        print(f"error: {shown(problem)}", file=sys.stderr)
        return 2

    from kvae_studio.services.evaluation import load_sweep_inputs, sweep_models
    from model.checkpoint import filtering_with
    from model.data import DatasetError
    from model.evaluation import evaluate
    from model.model_file import ModelFileError
    from model.sweep_csv import write_sweep_csv
    from model.training import TrainingError

    try:  # the Evaluate panel's checks, in the same words
        inputs = load_sweep_inputs(
            [args.model], args.data, args.sequences, protocol=args.protocol, device=args.device
        )
    except (ModelFileError, DatasetError, TrainingError, ValueError) as err:
        print(f"error: {shown(err)}", file=sys.stderr)
        return 2
    (_, model), images = inputs.models[0], inputs.images
    try:  # weights that the filter cannot use are a model refused, before anything is written
        with filtering_with(Path(args.model).name):
            results = (
                sweep_models(inputs, seed=args.seed, protocol=args.protocol) if args.sweep else None
            )
            result = evaluate(
                model, images, args.mask, args.drop_prob, args.seed, protocol=args.protocol
            )
    except ModelFileError as err:
        print(f"error: {shown(err)}", file=sys.stderr)
        return 2
    if results is not None:
        try:
            write_sweep_csv(args.sweep, results)
        except OSError as err:
            print(f"error: could not write {args.sweep}: {shown(err)}", file=sys.stderr)
            return 1
        if not args.json:
            print(f"sweeps, {args.protocol} protocol:")
            for r in next(iter(results.values())):
                print(
                    f"{r['kind']:8s} {r['x']:>5}  smoothing {r['smoothing']:.4f}  "
                    f"filtering {r['filtering']:.4f}  generation {r['generation']:.4f}"
                )
    if args.json:
        print(json.dumps(result))
        return 0
    h, r = result["hamming"], result["nrmse_a"]
    print(
        f"{result['sequences']} sequences, mask {args.mask}, {args.protocol} protocol, "
        f"test ELBO {result['test_elbo']:.2f}"
    )
    print(
        f"hamming: smoothing {h['smoothing']:.4f}  filtering {h['filtering']:.4f}  "
        f"generation {h['generation']:.4f}  baseline {h['baseline']:.4f}"
    )
    print(f"normalised RMSE of a: smoothing {r['smoothing']:.3f}  generation {r['generation']:.3f}")
    if result["smoothing_equals_filtering"]:
        print(
            "every frame after the first ones is hidden: smoothing equals filtering by construction"
        )
    return 0

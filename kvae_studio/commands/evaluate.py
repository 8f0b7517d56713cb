"""`kvae-studio evaluate`: the paper's imputation metrics for a model on a dataset."""

from __future__ import annotations

import argparse
import csv
import json
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="imputation metrics of a model on a dataset",
        description="Hamming distances (smoothing, filtering, generation, baseline), normalised "
        "RMSE of a and the test ELBO, as defined in the paper.",
    )
    p.add_argument("model", help="a .safetensors model file")
    p.add_argument("data", help="test sequences (.npz in the original format)")
    p.add_argument("--mask", choices=["planning", "random"], default="planning")
    p.add_argument("--drop-prob", type=float, default=0.5, help="for --mask random")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--sweep", metavar="CSV", help="run the paper's sweeps and write them as CSV")
    p.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])


def run(args: argparse.Namespace) -> int:
    from model.checkpoint import ModelFileError, load_model
    from model.data import DatasetError, load_sequences
    from model.evaluation import evaluate, sweep
    from model.training import TrainingError, pick_device

    try:
        model = load_model(args.model, pick_device(args.device))
        data = load_sequences(args.data)
    except (ModelFileError, DatasetError, TrainingError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if data.images.shape[-1] != model.config.frame_size:
        print(
            f"error: {args.data} has {data.images.shape[-1]} px frames, the model expects "
            f"{model.config.frame_size}",
            file=sys.stderr,
        )
        return 2
    if args.sweep:
        rows = sweep(model, data.images, seed=args.seed)
        with open(args.sweep, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        if not args.json:
            for r in rows:
                print(
                    f"{r['kind']:8s} {r['x']:>5}  smoothing {r['smoothing']:.4f}  "
                    f"filtering {r['filtering']:.4f}  generation {r['generation']:.4f}"
                )
    result = evaluate(model, data.images, args.mask, args.drop_prob, args.seed)
    if args.json:
        print(json.dumps(result))
        return 0
    h, r = result["hamming"], result["nrmse_a"]
    print(f"{result['sequences']} sequences, mask {args.mask}, test ELBO {result['test_elbo']:.2f}")
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

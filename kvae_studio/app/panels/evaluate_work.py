"""The Evaluate panel's background work: the paper's sweeps for one or two models. No Qt.

Every model is swept on the same test sequences with the same seed, so the random
masks are identical and two models are compared on exactly the same frames.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kvae_studio.app.panels.cancelled import Cancelled


def run_sweeps(
    ctx: Any,
    models: list[tuple[str, Path]],
    test_path: Path,
    sequences: int | None,
    seed: int,
    device: str = "auto",
    protocol: str = "studio",
) -> dict[str, list[dict]]:
    """Sweep each (label, model file) under `protocol` ('studio' or 'paper', see
    model.evaluation); emits (label, rows so far) as each point arrives, so the curves
    grow while the sweep runs."""
    from model.checkpoint import load_model
    from model.data import length_problem, load_sequences
    from model.evaluation import check_protocol, sweep
    from model.training import pick_device

    images = load_sequences(test_path).images
    if sequences:
        images = images[:sequences]
    check_protocol(protocol, len(images))
    target = pick_device(device)
    loaded = []
    for label, path in models:  # every model checked before the first sweep starts
        model = load_model(path, target)
        size = model.config.frame_size
        if images.shape[-2:] != (size, size):
            raise ValueError(
                f"{label} expects {size}×{size} frames; {Path(test_path).name} has "
                f"{images.shape[-2]}×{images.shape[-1]}"
            )
        if too_short := length_problem(images.shape[1], model.config.t_init_mask):
            raise ValueError(f"{Path(test_path).name}: {too_short}")
        loaded.append((label, model))
    results: dict[str, list[dict]] = {}
    for index, (label, model) in enumerate(loaded):

        def report(done: int, total: int, base: int = index) -> bool:
            return ctx.progress(base * total + done, total * len(models))

        partial: list[dict] = []

        def on_row(row: dict, label: str = label, partial: list[dict] = partial) -> None:
            partial.append(row)
            ctx.emit((label, list(partial)))

        rows = sweep(model, images, seed=seed, progress=report, protocol=protocol, on_row=on_row)
        if ctx.cancelled:
            raise Cancelled
        results[label] = rows
    return results

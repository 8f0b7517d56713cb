"""The paper's sweeps as both front ends run them: the same checks, labels, results and CSV.

`kvae-studio evaluate --sweep` and the Evaluate panel (through `run_sweeps`, its task in
a work process: progress, live rows and cancel) call `load_sweep_inputs`, then
`sweep_models`, and write the results with `model.sweep_csv.write_sweep_csv`, so that for
the same models, test set, seed and protocol they write byte-identical CSV files.

Every model is swept on the same test sequences with the same seed, so the random masks
are identical and two models are compared on exactly the same frames.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kvae_studio.services.sweep_results import SweepResults, SweepRows, sweep_labels


@dataclass(frozen=True)
class SweepInputs:
    """Checked inputs of a sweep: the test sequences and the models, by label."""

    images: np.ndarray
    models: list[tuple[str, Any]]  # (label, model.kvae.KVAE), every one able to score images


def load_sweep_inputs(
    model_paths: Sequence[str | os.PathLike],
    test_path: str | os.PathLike,
    sequences: int | None = None,
    protocol: str = "studio",
    device: str = "auto",
    labels: Sequence[str] | None = None,
) -> SweepInputs:
    """The test set (its first `sequences`, or all) and every model, each checked before the
    first sweep starts: the protocol fits the number of sequences, the frames fit the model,
    the sequences are long enough for the masks. The models are named by `labels`, by
    default `sweep_labels(model_paths)`.

    ValueError (one line) for inputs that cannot be swept; DatasetError, ModelFileError and
    TrainingError (an unavailable device) from reading them.
    """
    from model.checkpoint import load_model
    from model.data import frames_problem, length_problem, load_sequences
    from model.evaluation import check_protocol
    from model.training import pick_device

    images = load_sequences(test_path).images
    if sequences:
        images = images[:sequences]
    check_protocol(protocol, len(images))
    target = pick_device(device)
    name = Path(test_path).name
    models = []
    labels = sweep_labels(model_paths) if labels is None else labels
    for label, path in zip(labels, model_paths, strict=True):
        model = load_model(path, target)
        config = model.config
        if problem := frames_problem(images.shape, config.frame_size):
            raise ValueError(f"{label} cannot score {name}: {problem}")
        if problem := length_problem(images.shape[1], config.t_init_mask):
            raise ValueError(f"{name}: {problem}")
        models.append((label, model))
    return SweepInputs(images, models)


def sweep_models(
    inputs: SweepInputs,
    seed: int = 0,
    protocol: str = "studio",
    progress: Callable[[int, int], bool | None] | None = None,
    on_rows: Callable[[str, SweepRows], None] | None = None,
) -> SweepResults:
    """Sweep each model in turn (model.evaluation.sweep).

    progress(done, total) counts points over all models, and returning False stops after
    the current point (the results then hold what was swept); on_rows(label, rows so far)
    sees each model's rows grow, so a plot can draw them as they arrive.
    """
    from model.checkpoint import filtering_with
    from model.evaluation import sweep

    count = len(inputs.models)
    stopped = False
    results: SweepResults = {}
    for index, (label, model) in enumerate(inputs.models):

        def report(done: int, total: int, base: int = index) -> bool | None:
            nonlocal stopped
            if progress is not None and progress(base * total + done, total * count) is False:
                stopped = True
                return False
            return None

        partial: SweepRows = []

        def on_row(row: dict, label: str = label, partial: SweepRows = partial) -> None:
            partial.append(row)
            if on_rows is not None:
                on_rows(label, list(partial))

        with filtering_with(label):  # a singular matrix: ModelFileError naming the model
            results[label] = sweep(
                model, inputs.images, seed=seed, progress=report, protocol=protocol, on_row=on_row
            )
        if stopped:
            break
    return results


def run_sweeps(
    ctx: Any,
    models: list[tuple[str, Path]],
    test_path: Path,
    sequences: int | None,
    seed: int,
    device: str = "auto",
    protocol: str = "studio",
) -> SweepResults:
    """The Evaluate panel's task (`services.work`): sweep each (label, model file) under
    `protocol` ('studio' or 'paper', see model.evaluation) as the command line does;
    emits (label, rows so far) as each point arrives, so the curves grow while the sweep
    runs. Every model is checked before the first sweep starts."""
    from kvae_studio.services.work import CancelledError  # the command line needs none

    labels = [label for label, _ in models]
    paths = [path for _, path in models]
    inputs = load_sweep_inputs(paths, test_path, sequences, protocol, device, labels=labels)
    results = sweep_models(
        inputs,
        seed=seed,
        protocol=protocol,
        progress=ctx.progress,
        on_rows=lambda label, rows: ctx.emit((label, rows)),
    )
    if ctx.cancelled:
        raise CancelledError
    return results

"""The Evaluate panel's background work: the paper's sweeps for one or two models. No Qt.

The sweeps are `kvae_studio.services.evaluation`'s, as `kvae-studio evaluate --sweep`
runs them; this adds the job's progress, live rows and cancel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kvae_studio.services.evaluation import SweepResults, load_sweep_inputs, sweep_models
from kvae_studio.services.work import CancelledError


def run_sweeps(
    ctx: Any,
    models: list[tuple[str, Path]],
    test_path: Path,
    sequences: int | None,
    seed: int,
    device: str = "auto",
    protocol: str = "studio",
) -> SweepResults:
    """Sweep each (label, model file) under `protocol` ('studio' or 'paper', see
    model.evaluation) with the command line's code (kvae_studio.services.evaluation);
    emits (label, rows so far) as each point arrives, so the curves grow while the sweep
    runs. Every model is checked before the first sweep starts."""
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

"""The Scene panel's background work: preview clips and dataset files. No Qt here.

Datasets are simulated and written one file at a time (train, then test), which keeps
peak memory to one set of frames; each file records its scene and parameters
(`kvae_studio.sim.scene_record`). Each file is written atomically by
`model.data.save_sequences`; if the job is cancelled or fails after a first file was
written, that file is removed, so a cancelled generation never leaves a dataset that
looks complete but has no partner.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kvae_studio.services.work import CancelledError

PREVIEW_SEQUENCES = 4


@dataclass(frozen=True)
class DatasetPlan:
    """One file to make: where, how many sequences, from which seed."""

    path: Path
    sequences: int
    seed: int


def preview_clip(
    ctx: Any, params: Any, steps: int, seed: int, legacy: bool = False, marker: bool = False
) -> np.ndarray:
    """A few sequences for the live preview (fast: a few milliseconds)."""
    from kvae_studio.sim import simulate

    images, _ = simulate(params, PREVIEW_SEQUENCES, steps, seed, legacy=legacy, marker=marker)
    return images


def generate_datasets(
    ctx: Any,
    params: Any,
    plans: list[DatasetPlan],
    steps: int,
    legacy: bool = False,
    marker: bool = False,
) -> list[str]:
    """Simulate and save every planned file; returns their paths.

    Reports progress over all files together and emits ("saving", path) before each
    write. On cancel or error, removes whatever this job already wrote. ``legacy`` and
    ``marker`` make data like the paper's files (``kvae_studio.sim.simulate``).
    """
    from kvae_studio.sim import SimulationCancelled, simulate
    from kvae_studio.sim.scene_record import record_of
    from model.data import save_sequences

    existing = [str(p.path) for p in plans if p.path.exists()]
    if existing:
        raise ValueError(f"{Path(existing[0]).name} already exists; choose another name")
    total = sum(p.sequences for p in plans)
    written: list[Path] = []
    offset = 0
    try:
        for plan in plans:

            def report(done: int, _total: int, base: int = offset) -> bool:
                return ctx.progress(base + done, total)

            try:
                images, state = simulate(
                    params, plan.sequences, steps, plan.seed, report, legacy=legacy, marker=marker
                )
            except SimulationCancelled:
                raise CancelledError from None
            ctx.check()
            ctx.emit(("saving", str(plan.path)))
            plan.path.parent.mkdir(parents=True, exist_ok=True)
            record = record_of(params, legacy, marker, plan.seed)  # a model trained on it
            save_sequences(plan.path, images, state, scene=record.to_json())  # knows its scene
            written.append(plan.path)
            del images, state
            offset += plan.sequences
        ctx.check()
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return [str(p) for p in written]

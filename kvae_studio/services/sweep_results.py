"""What a sweep gives, and what its models are called: no torch, so that the window
draws and labels sweeps that run in a job's process (`services.evaluation` runs them)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from kvae_studio.services.model_names import display_name

SweepRows = list[dict]
"""One model's sweep (model.evaluation.sweep): per point, protocol, kind, x and the four
Hamming distances."""
SweepResults = dict[str, SweepRows]
"""Sweeps by model label, in the order swept: what the panel draws and the CSV holds."""


def sweep_labels(paths: Sequence[str | os.PathLike]) -> list[str]:
    """The models' names in the results and the CSV (`display_name`); a name given twice
    gets ' (2)', ' (3)'... so that two models never share a column of the CSV."""
    labels: list[str] = []
    for path in paths:
        label = display_name(path)
        n = 2
        while label in labels:
            label = f"{display_name(path)} ({n})"
            n += 1
        labels.append(label)
    return labels

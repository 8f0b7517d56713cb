"""The options of a test's training run: on the CPU in float32 unless it says otherwise.

Why float32: `TrainingOptions.precision` defaults to "auto" (bf16 where the CPU has it,
as the command line and the Train tab run), and a test's numbers must not depend on the
machine it runs on. (Named so as not to clash with other test folders on sys.path.)
"""

from __future__ import annotations

from typing import Any

from model.training_options import TrainingOptions


def cpu_fp32(**values: Any) -> TrainingOptions:
    """`TrainingOptions(**values)`, on the CPU in float32 unless `values` say otherwise."""
    return TrainingOptions(**{"device": "cpu", "precision": "fp32", **values})

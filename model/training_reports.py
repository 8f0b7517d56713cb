"""What a training run tells its caller: progress events, and the error that ends it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


class TrainingError(RuntimeError):
    """Training cannot go on; the message says why and what was kept."""


@dataclass(frozen=True)
class StepReport:
    epoch: int
    step: int  # global optimiser step, 1-based
    batch: int  # within the epoch, 1-based
    batches: int
    phase: str
    terms: dict[str, float]
    lr: float
    grad_norm: float
    sequences_per_second: float
    skipped: bool = False
    kind: str = "step"


@dataclass(frozen=True)
class EpochReport:
    epoch: int  # 1-based count of finished epochs
    epochs: int
    step: int
    phase: str
    train_elbo: float
    test_elbo: float | None
    hamming: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    checkpoint: str | None = None
    # With a validation set: {"metric", "score", "best", "best_epoch", "since_best"}.
    validation: dict | None = None
    kind: str = "epoch"


@dataclass(frozen=True)
class Finished:
    reason: str  # "completed", "stopped", or "no improvement" (patience ran out)
    epoch: int
    step: int
    checkpoint: str | None
    kind: str = "finished"


def with_speed(report: StepReport, speed: float) -> StepReport:
    return StepReport(**{**asdict(report), "sequences_per_second": speed})

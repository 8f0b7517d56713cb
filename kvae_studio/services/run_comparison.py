"""Several training runs side by side: one figure per epoch, against epoch, step or time.

Why: choosing between runs (two seeds, fp32 against bf16, a fine-tune against a run from
scratch) means reading their curves on one plot, as TensorBoard does; the Train panel's
own curves follow one run. The figures come from each run's `log.jsonl` epoch records
(`services.run_records.read_log`), so a finished, stopped or running run can be compared.
Qt-free: the window draws what this returns, and writes its CSV through it.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kvae_studio.services.run_records import read_log
from model.run_folder import LOG_FILE
from model.temp_files import atomic_write_text


def _validation(record: dict) -> object:
    return (record.get("validation") or {}).get("score")


def _validation_figure(name: str) -> Callable[[dict], object]:
    """One of the figures a mean validation score averages ("planning filtering"),
    which the logs of runs since 2026-12-07 list beside the score."""
    return lambda record: ((record.get("validation") or {}).get("figures") or {}).get(name)


def _hamming(name: str) -> Callable[[dict], object]:
    return lambda record: (record.get("hamming") or {}).get(name)


FIGURES: dict[str, Callable[[dict], object]] = {
    "validation score (lower is better)": _validation,
    "validation, planning mask, smoothing": _validation_figure("planning smoothing"),
    "validation, planning mask, filtering": _validation_figure("planning filtering"),
    "validation, random 0.5, smoothing": _validation_figure("random smoothing"),
    "validation, random 0.5, filtering": _validation_figure("random filtering"),
    "train ELBO, epoch mean (higher is better)": lambda r: r.get("train_elbo"),
    "test ELBO (higher is better)": lambda r: r.get("test_elbo"),
    "test smoothing Hamming distance": _hamming("smoothing"),
    "test filtering Hamming distance": _hamming("filtering"),
    "seconds per epoch": lambda r: r.get("seconds"),
}
"""What can be compared, by the name the window shows: one value per epoch record."""

AXES = ("epoch", "step", "wall time (minutes)")


@dataclass(frozen=True)
class Curve:
    """One run's figure: x and y of equal length (NaN where an epoch has no value)."""

    label: str
    x: np.ndarray
    y: np.ndarray

    def value_at(self, x: float) -> tuple[float, float] | None:
        """The point nearest to `x` (for the readout under the pointer), or None."""
        finite = np.isfinite(self.y)
        if not finite.any():
            return None
        xs, ys = self.x[finite], self.y[finite]
        i = int(np.argmin(np.abs(xs - x)))
        return float(xs[i]), float(ys[i])


_epochs_read: dict[Path, tuple[tuple[int, int], list[dict]]] = {}


def epoch_records(run_dir: Path) -> list[dict]:
    """The epoch records of a run's log, read again only when the log has changed: a
    long run's log (thousands of step lines) takes some 80 ms to parse, and the window
    redraws on every choice and every epoch."""
    path = Path(run_dir) / LOG_FILE
    try:
        stat = path.stat()
    except OSError:
        return []
    stamp = (stat.st_mtime_ns, stat.st_size)
    kept = _epochs_read.get(path)
    if kept is None or kept[0] != stamp:
        kept = _epochs_read[path] = (stamp, read_log(path)[1])
    return kept[1]


def run_curve(run_dir: Path, figure: str, axis: str, label: str | None = None) -> Curve:
    """`figure` (a key of FIGURES) of the run in `run_dir` against `axis` (one of AXES)."""
    epochs = epoch_records(run_dir)
    pick = FIGURES[figure]
    y = np.array([_number(pick(record)) for record in epochs], dtype=float)
    if axis == "epoch":
        x = np.array([_number(r.get("epoch")) for r in epochs], dtype=float)
    elif axis == "step":
        x = np.array([_number(r.get("step")) for r in epochs], dtype=float)
    elif axis == AXES[2]:
        seconds = np.array([_number(r.get("seconds")) for r in epochs], dtype=float)
        x = np.cumsum(np.nan_to_num(seconds)) / 60.0
    else:
        raise ValueError(f"unknown axis {axis!r}: use one of {', '.join(AXES)}")
    return Curve(label or Path(run_dir).name, x, y)


def write_curves_csv(path: str | os.PathLike, curves: Mapping[str, Curve], figure: str, axis: str):
    """The curves as CSV, one line per run and point (run, axis, figure), atomically."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["run", axis, figure])
    for label, curve in curves.items():
        for x, y in zip(curve.x, curve.y, strict=True):
            writer.writerow([label, repr(float(x)), "" if math.isnan(y) else repr(float(y))])
    atomic_write_text(path, text.getvalue())


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan

"""A sweep's results: their type, their models' names, and the finished ones kept.

`SweepResults` is what a sweep gives (`services.evaluation` runs it, in a job's process
for the window) and what the Evaluate panel draws and the CSV holds; `sweep_labels`
names its models as both front ends do.

Finished sweeps are kept: a model's sweep is run once per test set, seed and protocol.
Why: a sweep of 200 sequences takes a minute or more, and the Evaluate panel used to
throw it away, running the first model again when a second was added to compare, and
forgetting everything at a restart. The `SweepStore` keeps each finished sweep in the
workspace (`<workspace>/sweeps/<key>.csv`, the command line's CSV layout), keyed by the
model's and the test set's files (path, size and modification time: a retrained or
replaced file is swept again) and the sweep's settings. The shipped models come with
their sweeps on their scene's paper file (`resources/models/<scene>-sweep-original*.csv`),
which the store serves as if it had run them.

Qt-free and torch-free: the window imports it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from kvae_studio.services.file_names import SWEEP_PROTOCOL_SUFFIX, sweep_name
from kvae_studio.services.model_names import display_name
from kvae_studio.services.resources import shipped_models, shipped_test_set
from model.sweep_csv import HAMMING_KEYS, write_sweep_csv

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


class SweepStore:
    """Finished sweeps in `folder`, and the shipped models' own."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)

    def get(
        self, model: Path, test: Path, sequences: int | None, seed: int, protocol: str
    ) -> SweepRows | None:
        """The sweep of `model` on `test` with these settings, if one was kept."""
        shipped = _shipped_sweep(model, test, sequences, seed, protocol)
        for path in (self._path(model, test, sequences, seed, protocol), shipped):
            if path is not None and path.is_file():
                rows = read_sweep_rows(path)
                if rows:
                    return rows
        return None

    def put(
        self,
        model: Path,
        test: Path,
        sequences: int | None,
        seed: int,
        protocol: str,
        rows: SweepRows,
    ) -> None:
        """Keep a finished sweep (written atomically; a failure to write loses nothing
        but the saving of time, so it is not raised)."""
        path = self._path(model, test, sequences, seed, protocol)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_sweep_csv(path, {Path(model).name: rows})
        except OSError:
            pass

    def _path(
        self, model: Path, test: Path, sequences: int | None, seed: int, protocol: str
    ) -> Path | None:
        identity = [_file_identity(model), _file_identity(test)]
        if None in identity:
            return None
        key = json.dumps([*identity, sequences, seed, protocol])
        return self.folder / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.csv"


def read_sweep_rows(path: Path) -> SweepRows:
    """One model's rows of a sweep CSV, as `model.evaluation.sweep` gives them ([] if the
    file is not a sweep CSV)."""
    rows: SweepRows = []
    try:
        with path.open(newline="") as f:
            for record in csv.DictReader(f):
                kind = record["kind"]
                x = int(record["x"]) if kind == "planning" else float(record["x"])
                values = {key: float(record[key]) for key in HAMMING_KEYS}
                rows.append({"protocol": record["protocol"], "kind": kind, "x": x, **values})
    except (OSError, KeyError, ValueError, TypeError, csv.Error, UnicodeDecodeError):
        return []
    return rows


def _file_identity(path: Path) -> list | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return [str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns]


def _shipped_sweep(
    model: Path, test: Path, sequences: int | None, seed: int, protocol: str
) -> Path | None:
    """A shipped model's own sweep, when asked for what it holds: the whole paper file
    of its scene, seed 0."""
    if sequences is not None or seed != 0 or protocol not in SWEEP_PROTOCOL_SUFFIX:
        return None
    for scene, path in shipped_models().items():
        if _same_file(path, model) and _same_file(shipped_test_set(scene), test):
            return path.with_name(sweep_name(scene, protocol))
    return None


def _same_file(a: Path | None, b: Path | None) -> bool:
    if a is None or b is None:
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False

"""The sweep CSV, the one layout of `kvae-studio evaluate --sweep` and the Evaluate panel.

Apart from `model.evaluation` (which scores with torch) so that the window, which
writes the panel's sweeps, needs no torch for it.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping

from model.temp_files import atomic_write_text

HAMMING_KEYS = ("smoothing", "filtering", "generation", "baseline")
SWEEP_COLUMNS = ("model", "protocol", "kind", "x", *HAMMING_KEYS)


def write_sweep_csv(path: str | os.PathLike, results: Mapping[str, list[dict]]) -> None:
    """Sweeps as CSV, one line per model and point (SWEEP_COLUMNS), written atomically.

    The one layout of the command line and the Evaluate panel; results maps a model's
    label to its `sweep` rows."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(SWEEP_COLUMNS)
    for label, rows in results.items():
        for r in rows:
            values = (repr(float(r[m])) for m in SWEEP_COLUMNS[4:])
            writer.writerow([label, r["protocol"], r["kind"], r["x"], *values])
    # (the studio's one atomic writer: readable by others, as a mkstemp file is not)
    atomic_write_text(path, text.getvalue())

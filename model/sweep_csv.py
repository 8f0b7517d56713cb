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

PAPER_FIGURE_3_BOX = {
    "planning": {
        "x": (1, 3, 5, 7, 9, 11, 13, 15),
        "smoothing": (0.0061, 0.0077, 0.0098, 0.0121, 0.0148, 0.0173, 0.0200, 0.0227),
        "filtering": (0.0081, 0.0112, 0.0144, 0.0172, 0.0197, 0.0220, 0.0238, 0.0255),
    },
    "random": {
        "x": (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
        "smoothing": (
            0.0057,
            0.0060,
            0.0062,
            0.0067,
            0.0075,
            0.0082,
            0.0095,
            0.0128,
            0.0188,
            0.027,
        ),
        "filtering": (
            0.0078,
            0.0078,
            0.0080,
            0.0089,
            0.0102,
            0.0117,
            0.0123,
            0.0158,
            0.0213,
            0.0266,
        ),
    },
}
"""The paper's Figure 3 (box scene) as read off the plot (kvae-model.md, section 11): the
Hamming distance of smoothing and filtering at each point of the two sweeps."""


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

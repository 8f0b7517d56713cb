"""FastCurveItem gives the same bounds as pyqtgraph's PlotCurveItem, NaN gaps included,
and falls back to pyqtgraph's code for the cases it does not handle itself."""

from __future__ import annotations

import numpy as np
import pytest

from kvae_studio.app.plot_parts import FastCurveItem
from kvae_studio.app.qtsetup import pg

NAN = np.nan


@pytest.mark.parametrize(
    "y",
    [
        [0.5, -2.0, 3.0, 1.0],
        [NAN, -2.0, NAN, 1.0],  # the ellipses' NaN separators
        [NAN, NAN, NAN, NAN],  # all NaN: pyqtgraph's answer
        [0.0, np.inf, 1.0, -1.0],  # an infinity: pyqtgraph's answer
    ],
)
def test_bounds_match_pyqtgraph(qapp, y):
    x = np.arange(4.0)
    ours, theirs = FastCurveItem(), pg.PlotCurveItem()
    for curve in (ours, theirs):
        curve.setData(x, np.asarray(y))
    for kwargs in ({"ax": 0}, {"ax": 1}, {"ax": 1, "frac": 0.5}, {"ax": 1, "orthoRange": (1, 3)}):
        same(ours.dataBounds(**kwargs), theirs.dataBounds(**kwargs))


def same(a, b) -> None:
    """Bounds equal, NaN for NaN (pyqtgraph gives (nan, nan) for an all-NaN curve)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    np.testing.assert_array_equal(a, b)


def test_bounds_follow_new_data_and_non_cosmetic_pens(qapp):
    curve = FastCurveItem()
    curve.setData([0.0, 1.0], [0.0, 1.0])
    assert curve.dataBounds(1) == (0.0, 1.0)
    curve.setData([0.0, 1.0], [5.0, -5.0])  # the cache is dropped with the data
    assert curve.dataBounds(1) == (-5.0, 5.0)
    pen = pg.mkPen("r", width=2.0)
    pen.setCosmetic(False)  # a pen in data units widens the bounds: pyqtgraph's code
    wide, reference = FastCurveItem(pen=pen), pg.PlotCurveItem(pen=pen)
    for curve in (wide, reference):
        curve.setData([0.0, 1.0], [0.0, 1.0])
    assert wide.dataBounds(1) == reference.dataBounds(1) != (0.0, 1.0)

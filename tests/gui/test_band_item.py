"""The time plots' bands: the outline runs along the upper edge and back along the lower
one, and points with a NaN anywhere are left out."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF

from kvae_studio.app.explore.band_item import BandItem
from kvae_studio.app.qtsetup import pg


def outline(band: BandItem) -> list[tuple[float, float]]:
    polygon = band.path().toFillPolygon()
    return [(p.x(), p.y()) for p in polygon]


def test_band_outline_follows_both_edges_and_skips_nan(qapp):
    band = BandItem(pg.mkBrush("#ff0000"))
    x = np.array([0.0, 1.0, 2.0, 3.0])
    lower = np.array([-1.0, -2.0, np.nan, -4.0])
    upper = np.array([1.0, 2.0, 3.0, 4.0])
    band.set_band(x, lower, upper)
    points = outline(band)
    expected = [(0, 1), (1, 2), (3, 4), (3, -4), (1, -2), (0, -1)]
    assert points[: len(expected)] == [(float(a), float(b)) for a, b in expected]
    assert points[-1] == points[0]  # closed
    assert band.path().contains(QPointF(0.5, 0.0))
    assert not band.path().contains(QPointF(0.5, 3.0))
    band.set_band(x[:1], lower[:1], upper[:1])  # one point: no area
    assert band.path().isEmpty()

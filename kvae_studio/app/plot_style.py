"""How the studio's analysis plots look: no context menu or auto-range button (the views
have their own controls), plain tick numbers (no "×1e-3" SI prefixes on a code axis),
a faint grid, axes drawn through a pixmap cache (`fast_axes`), and, for a plot of one
space such as a-space or the complex plane, equal units on both axes."""

from __future__ import annotations

from kvae_studio.app.fast_axes import cache_axes
from kvae_studio.app.qtsetup import pg

GRID_ALPHA = 0.12


def plain_plot(
    plot: pg.PlotItem,
    bottom: str | None = None,
    left: str | None = None,
    grid: bool = True,
    to_scale: bool = False,
) -> pg.PlotItem:
    """Style `plot` as above, with axis labels `bottom` and `left` where given."""
    if bottom is not None:
        plot.setLabel("bottom", bottom)
    if left is not None:
        plot.setLabel("left", left)
    if grid:
        plot.showGrid(x=True, y=True, alpha=GRID_ALPHA)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    cache_axes(plot)
    for axis in ("bottom", "left"):
        plot.getAxis(axis).enableAutoSIPrefix(False)
    if to_scale:
        plot.getViewBox().setAspectLocked(True)
    return plot

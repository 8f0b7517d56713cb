"""Plot helpers shared by the panels: palette-aware style, pens, legends.

Plots take their colours from the Qt palette, so they follow a light or dark theme.
pyqtgraph's global options are set once at start-up by `kvae_studio.app.qtsetup.start`.
"""

from __future__ import annotations

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QWidget

from kvae_studio import colors
from kvae_studio.app.qtsetup import pg

COLORS = colors.SERIES  # for sweep_plot; new code takes colors.SERIES


def palette_colors(widget: QWidget) -> tuple:
    """(background, foreground) of the widget's palette, for plots that blend in."""
    pal = widget.palette()
    return pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text)


def style_plot(
    plot: pg.PlotItem, background_owner: QWidget | None = None, grid: bool = False
) -> None:
    """Axis pens in the palette's text colour; a grid only where asked.

    A grid costs two thirds of a plot's repaint in software rendering (measured: 6 ms
    without, 16-30 ms with, per redraw of the Train panel's curves), so live plots go
    without and static ones (the sweep figure) have one.
    """
    fg = palette_colors(background_owner)[1] if background_owner is not None else None
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        if fg is not None:
            axis.setPen(fg)
            axis.setTextPen(fg)
    if grid:
        plot.showGrid(x=True, y=True, alpha=0.15)


def make_plot_widget(
    title: str = "", grid: bool = False, parent: QWidget | None = None
) -> pg.PlotWidget:
    widget = pg.PlotWidget(parent=parent)
    bg, _ = palette_colors(widget)
    widget.setBackground(bg)
    style_plot(widget.getPlotItem(), widget, grid=grid)
    if title:
        widget.getPlotItem().setTitle(title, color=palette_colors(widget)[1], size="10pt")
    return widget


def make_layout_widget(parent: QWidget | None = None) -> pg.GraphicsLayoutWidget:
    widget = pg.GraphicsLayoutWidget(parent=parent)
    widget.setBackground(palette_colors(widget)[0])
    return widget


def pen(color: str, width: float = 1.5, alpha: int = 255, dash: bool = False) -> object:
    c = pg.mkColor(color)
    c.setAlpha(alpha)
    style = pg.QtCore.Qt.PenStyle.DashLine if dash else pg.QtCore.Qt.PenStyle.SolidLine
    return pg.mkPen(c, width=width, style=style)


def add_legend(plot: pg.PlotItem, owner: QWidget, offset: tuple[int, int] = (-10, 10)) -> None:
    """A legend readable over the curves: palette text on a translucent background."""
    bg, fg = palette_colors(owner)
    bg.setAlpha(210)
    plot.addLegend(offset=offset, labelTextColor=fg, brush=bg, labelTextSize="8pt")

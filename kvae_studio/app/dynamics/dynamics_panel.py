"""The Dynamics tab: what a model has learned about motion, over a whole data set.

A header names the model and the data set, says how far the computation has come and
what went wrong, and holds the Compute button. Below, one tab per question: where does
each regime act (the regime map beside the regime weights over a-space), what are the
regimes (matrices and eigenvalues), what does the model imagine on its own, and how
does its error grow with time. The panel only draws what it is given and forwards the
views' requests; the computations run in a model process that the window wires to it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kvae_studio import colors
from kvae_studio.app.dynamics.alpha_map import AlphaMapView
from kvae_studio.app.dynamics.error_view import ErrorOverTimeView
from kvae_studio.app.dynamics.imagination_view import ImaginationView
from kvae_studio.app.dynamics.point_cloud import PointCloud
from kvae_studio.app.dynamics.regime_map import RegimeMapView
from kvae_studio.app.dynamics.regimes_view import RegimesView
from kvae_studio.app.dynamics.view_frame import split
from kvae_studio.app.elided_label import ElidedLabel
from kvae_studio.services import dynamics as results

TABS = ("Regime map", "Regimes", "Imagination", "Error over time")


class DynamicsPanel(QWidget):
    """The views of a model's dynamics, fed by the `add_`/`set_` methods."""

    refreshRequested = Signal()
    dataRequested = Signal()  # the user wants another data set
    openInExplore = Signal(int, int)  # sequence, frame
    stepRequested = Signal(int)  # the LSTM alpha map's step
    maskRequested = Signal(str, float)  # the error curves' mask: kind, value

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.cloud = PointCloud()  # the regime map's points, also behind imagined paths
        self.regime_map = RegimeMapView(self.cloud)
        self.alpha_map = AlphaMapView()
        self.regimes = RegimesView()
        self.imagination = ImaginationView(self.cloud)
        self.error = ErrorOverTimeView()
        self.regime_map.pointClicked.connect(self.openInExplore)
        self.alpha_map.stepRequested.connect(self.stepRequested)
        self.error.maskRequested.connect(self.maskRequested)
        for view in (self.regime_map, self.alpha_map, self.regimes, self.imagination, self.error):
            view.export.failed.connect(self.set_message)

        self.source = ElidedLabel("No model")
        self.source.setToolTip("The model and the data set the views describe")
        self.progress_text = QLabel()
        self.progress_text.setStyleSheet(f"color: {colors.MUTED}")
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(160)
        self.progress.setMaximumHeight(10)
        self.progress.setVisible(False)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {colors.ERROR}")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setVisible(False)
        self.compute = QPushButton("Compute")
        self.compute.setToolTip(
            "Encode the data set and compute the regime map, the regimes, the imagined\n"
            "sequences and the error curves with the current model"
        )
        self.compute.clicked.connect(self.refreshRequested)
        self.choose_data = QPushButton("Data set…")
        self.choose_data.setToolTip(
            "Describe the model on another data set (by default its scene's test set)"
        )
        self.choose_data.clicked.connect(self.dataRequested)
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.source, 1)
        header.addWidget(self.progress_text)
        header.addWidget(self.progress)
        header.addWidget(self.choose_data)
        header.addWidget(self.compute)

        top = split(Qt.Orientation.Horizontal, (self.regime_map, 3), (self.alpha_map, 2))
        self.map_splitter = top
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for widget, name in zip(
            (top, self.regimes, self.imagination, self.error), TABS, strict=True
        ):
            self.tabs.addTab(widget, name)
        self.tabs.setTabToolTip(0, "Every code of the data set, coloured by its regime weights")
        self.tabs.setTabToolTip(1, "The K linear regimes: matrices and eigenvalues")
        self.tabs.setTabToolTip(2, "Sequences the model runs on its own from a few frames")
        self.tabs.setTabToolTip(3, "Hamming distance per step across the data set")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(header)
        layout.addWidget(self.message)
        layout.addWidget(self.tabs, 1)
        self.set_progress(0, 0)

    # -- header -----------------------------------------------------------------------------

    def set_source(self, model_text: str, data_text: str) -> None:
        """Name the model and the data set being described."""
        self.source.setText(f"<b>{model_text}</b> &nbsp;on&nbsp; {data_text}")

    def set_progress(self, done: int, total: int) -> None:
        """The regime map's progress: `done` of `total` sequences (total 0: idle)."""
        if total <= 0:
            self.progress.setVisible(False)
            self.progress_text.setText("")
            return
        self.progress_text.setText(f"Regime map: {done} of {total} sequences")
        self.progress.setRange(0, total)
        self.progress.setValue(min(done, total))
        self.progress.setVisible(done < total)

    def set_message(self, text: str) -> None:
        """A problem to show (an empty text hides the line)."""
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def set_busy(self, busy: bool) -> None:
        """While a computation runs the button cannot start another."""
        self.compute.setEnabled(not busy)

    # -- results ----------------------------------------------------------------------------

    def add_regime_chunk(self, chunk: results.RegimeChunk) -> None:
        """A streamed piece of the regime map; the progress follows it."""
        self.regime_map.add_chunk(chunk)
        self.imagination.points_changed()
        self.set_progress(chunk.first + len(chunk.codes), chunk.total)
        self.compute.setText("Refresh")

    def set_matrices(self, m: results.RegimeMatrices) -> None:
        self.regimes.set_matrices(m)

    def set_alpha_map(self, m: results.AlphaMap) -> None:
        self.alpha_map.set_alpha_map(m)

    def set_recurrent(self, recurrent: bool) -> None:
        """An LSTM dynamics network: the alpha map has a step to choose."""
        self.alpha_map.set_recurrent(recurrent)

    def set_step_range(self, first: int, last: int) -> None:
        self.alpha_map.set_step_range(first, last)

    def set_flow(self, flow: results.RegimeFlow) -> None:
        self.regime_map.set_flow(flow)

    def set_imagination(self, im: results.Imagination) -> None:
        """The imagined sequences, and their mean paths over the regime map."""
        self.imagination.set_imagination(im)
        self.regime_map.set_paths(im.mean_codes, "imagined (mean roll-outs)")

    def set_error(self, e: results.ErrorOverTime) -> None:
        self.error.set_error(e)

    def clear(self) -> None:
        """Empty every view (a new model or data set)."""
        self.regime_map.clear()
        self.imagination.points_changed()
        self.alpha_map.clear()
        self.regimes.clear()
        self.imagination.clear()
        self.error.clear()
        self.set_progress(0, 0)
        self.set_message("")
        self.compute.setText("Compute")

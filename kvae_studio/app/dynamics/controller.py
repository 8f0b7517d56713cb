"""The Dynamics tab's wiring: what the panel asks for goes to the analysis process as
tasks (`services.dynamics_tasks`), what comes back goes into the panel.

One analysis process (`app.work_bridge`) serves the tab and Explore's samples view; it
keeps the model and the data set between requests. Each kind of request has its own
channel, so the newest one wins (a new step of the alpha map replaces the one still
computing) and a new model or data set supersedes every view's request at once. Nothing
is computed until the tab is first shown: opening the studio costs Explore nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from kvae_studio.app.dynamics.dynamics_panel import DynamicsPanel
from kvae_studio.app.work_bridge import Task, WorkBridge
from kvae_studio.services.dynamics import Source, SourceSummary
from kvae_studio.services.model_ref import ModelRef

TASKS = "kvae_studio.services.dynamics_tasks"
VIEWS = ("summary", "regimes", "matrices", "alpha", "flow", "imagination", "error")
AFTER_CODES = ("alpha", "flow", "imagination", "error")
"""The views asked for once the regime map has made the data set's codes."""


class DynamicsController(QObject):
    """Feeds a `DynamicsPanel` from the analysis process, for one model and data set."""

    sourceChanged = Signal()
    finished = Signal()  # every view of the current source has its answer (tests, bench)

    def __init__(self, panel: DynamicsPanel, bridge: WorkBridge, parent: QObject | None = None):
        super().__init__(parent)
        self.panel = panel
        self.bridge = bridge
        self.source: Source | None = None
        self.summary: SourceSummary | None = None
        self.computed_for: Source | None = None  # the source the views show
        self.pending: set[str] = set()
        self.tasks: dict[str, Task] = {}
        self.data_chooser: Callable[[], str | None] | None = None  # set by the window
        panel.refreshRequested.connect(self.compute)
        panel.stepRequested.connect(self._alpha_step)
        panel.maskRequested.connect(self._error_mask)
        panel.dataRequested.connect(self._choose_data)

    # What to describe.
    def set_source(self, model: ModelRef | None, data_path: str | None) -> None:
        """Describe `model` on `data_path`; computed when the tab is shown (`show`)."""
        if model is None or not isinstance(model, ModelRef) or data_path is None:
            self.source = None
            self.panel.set_source(_model_text(model), "no data set")
            return
        source = Source(model, str(data_path))
        if self.source is not None and _same(self.source, source):
            return
        self.source = source
        self.panel.set_source(_model_text(model), Path(data_path).name)
        self.sourceChanged.emit()

    def show(self) -> None:
        """The tab is on screen: compute what its views lack for the current source."""
        if self.source is not None and not _same(self.computed_for, self.source):
            self.compute()

    @property
    def busy(self) -> bool:
        return bool(self.pending)

    # Requests.
    def compute(self) -> None:
        """Every view, for the current source; earlier answers are superseded."""
        source = self.source
        if source is None:
            self.panel.set_message("Open a model and a data set in Explore first")
            return
        self.computed_for = source
        self.panel.clear()
        self.panel.set_busy(True)
        self.pending = set(VIEWS)
        self._ask("summary", "summary", source, on_result=self._on_summary)
        self._ask(
            "regimes",
            "regime_map",
            source,
            on_item=self.panel.add_regime_chunk,
            on_result=lambda _: self._then_after_codes(source),
        )
        self._ask("matrices", "regime_matrices", source, on_result=self.panel.set_matrices)

    def _then_after_codes(self, source: Source) -> None:
        """What needs the data set's codes, once the regime map has made them."""
        self._ask_alpha(source)
        self._ask("flow", "regime_flow", source, on_result=self.panel.set_flow)
        self._ask("imagination", "imagination", source, on_result=self.panel.set_imagination)
        kind, value = self.panel.error.mask_choice()
        self._ask_error(source, kind, value)

    def _ask_alpha(self, source: Source) -> None:
        recurrent = self.summary is not None and self.summary.recurrent
        args = (self.panel.alpha_map.sequence, self.panel.alpha_map.step) if recurrent else ()
        self._ask("alpha", "alpha_map", source, *args, on_result=self.panel.set_alpha_map)

    def _alpha_step(self, _step: int) -> None:
        if self.computed_for is not None:
            self._ask_alpha(self.computed_for)

    def _error_mask(self, kind: str, value: float) -> None:
        if self.computed_for is not None:
            self._ask_error(self.computed_for, kind, value)

    def _ask_error(self, source: Source, kind: str, value: float) -> None:
        """The error curves stream: drawn after the first hundred sequences, refined."""
        show = self.panel.set_error
        self._ask("error", "error_over_time", source, kind, value, on_item=show, on_result=_ignore)

    def _choose_data(self) -> None:
        if self.data_chooser is None or self.source is None:
            return
        path = self.data_chooser()
        if path:
            self.set_source(self.source.model, path)
            self.compute()

    def _ask(
        self,
        view: str,
        task_name: str,
        *args: Any,
        on_result: Callable[[Any], None],
        on_item: Callable[[Any], None] | None = None,
    ) -> None:
        self.pending.add(view)
        task = self.bridge.submit(f"{TASKS}:{task_name}", *args, channel=f"dynamics-{view}")
        self.tasks[view] = task
        if on_item is not None:
            task.item.connect(on_item)
        task.result.connect(on_result)
        task.failed.connect(lambda message: self._failed(view, task, message))
        task.finished.connect(lambda: self._done(view, task))

    def _on_summary(self, summary: SourceSummary) -> None:
        self.summary = summary
        self.panel.set_recurrent(summary.recurrent)
        self.panel.alpha_map.set_sequence_count(summary.sequences)
        self.panel.set_step_range(0, summary.steps - 1)

    def _failed(self, view: str, task: Task, message: str) -> None:
        if self.tasks.get(view) is not task:
            return  # a request since superseded: its failure says nothing of the views
        self.panel.set_message(message)
        if view == "regimes":
            # No codes, so the views that wait for them are never asked: the tab would
            # stay busy for good (a data set that cannot be read fails here first).
            self.pending.difference_update(AFTER_CODES)

    def _done(self, view: str, task: Task) -> None:
        if self.tasks.get(view) is not task:
            return  # a newer request of this view is out
        self.pending.discard(view)
        if not self.pending:
            self.panel.set_busy(False)
            self.panel.set_progress(0, 0)
            self.finished.emit()


def _ignore(_value: Any) -> None:
    """A streaming task's result: nothing beyond its items."""


def _same(a: Source | None, b: Source | None) -> bool:
    """The same model file (or untrained model) and data set: models are compared by
    what names them, not by identity, so reopening a file is no change."""
    if a is None or b is None:
        return a is b
    return (
        a.model.path == b.model.path
        and (a.model.path is not None or a.model is b.model)
        and os.path.realpath(a.data_path) == os.path.realpath(b.data_path)
        and a.sequences == b.sequences
    )


def _model_text(model: Any) -> str:
    if isinstance(model, ModelRef) and model.path:
        return Path(model.path).name
    return "untrained model" if isinstance(model, ModelRef) else "no model"

"""A job the window waits for without blocking: a modal state, not a nested event loop.

Some work must finish before the user goes on (a model file checked before it opens, a
video written before the next export), but the window must keep painting and must be
able to say "cancel". While such a job runs, a window-modal progress dialog (opened,
never exec'd) takes the input; the job's signals end it. This replaces `run_and_wait`,
whose local event loop let queued events of other windows run inside a caller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressDialog, QWidget

from kvae_studio.app.panels.jobs import Job


def run_modal(
    window: QWidget,
    job: Job,
    text: str,
    on_result: Callable[[Any], object],
    on_failed: Callable[[str], object],
    title: str = "KVAE Studio",
) -> QProgressDialog:
    """Start `job` behind a window-modal progress dialog with Cancel; `on_result` or
    `on_failed` runs after the dialog has closed (nothing runs on cancel)."""
    dialog = QProgressDialog(text, "Cancel", 0, 0, window)
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.canceled.connect(job.cancel)

    def close() -> None:
        if dialog.isVisible() or not dialog.isHidden():
            dialog.canceled.disconnect(job.cancel)
            dialog.close()
        dialog.deleteLater()

    def progressed(done: int, total: int) -> None:
        dialog.setRange(0, max(total, 1))
        dialog.setValue(min(done, total))

    job.progress.connect(progressed)
    job.result.connect(lambda value: (close(), on_result(value)))
    job.failed.connect(lambda message: (close(), on_failed(message)))
    job.cancelled.connect(close)
    dialog.open()
    job.start()
    return dialog

"""`Cancelled`: how background work stops at a safe point. No Qt, so the work modules
(`scene_work`, `evaluate_work`) that raise it run and are tested without a display."""

from __future__ import annotations


class Cancelled(Exception):
    """Raised inside a job (by `TaskContext.check`, or by the work itself) to stop it."""

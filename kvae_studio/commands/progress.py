"""Progress on the terminal for the commands, drawn by tqdm.

Only on a terminal: piped to a file or a log, a command prints its summary lines alone.
"""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm


def on_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def progress_bar(label: str, total: int, unit: str, enabled: bool = True, **options: Any) -> tqdm:
    """A bar on stderr, drawn only when `enabled` and stderr is a terminal."""
    return tqdm(
        total=total,
        desc=label,
        unit=unit,
        file=sys.stderr,
        disable=not (enabled and on_terminal()),
        dynamic_ncols=True,
        **options,
    )


def count_to(bar: tqdm):
    """A `progress(done, total)` callback (the simulator's) that moves `bar` to `done`."""

    def update(done: int, total: int) -> None:
        bar.update(done - bar.n)

    return update

"""The commands on a terminal: text from files made safe to print, and progress bars.

Why `shown`: a model's summary, an array's name or a path inside a data file is whatever
its author wrote; printed as it is, an escape sequence in it would move the cursor,
recolour or retitle the terminal, or hide the lines before it. Every text the command
line prints from a file goes through `shown`, which writes control characters as
Python's repr does (``\\x1b``); the commands' own line breaks stay, since they are added
afterwards.

Progress is drawn by tqdm, and only on a terminal: piped to a file or a log, a command
prints its summary lines alone.

Standard library only at import (tqdm is imported by `progress_bar`): command modules
import this at the top, and a command's start-up pays for no more than it uses.
"""

from __future__ import annotations

import sys
import unicodedata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tqdm import tqdm


def shown(text: object) -> str:
    """`text` with its control and format characters (C0, C1, DEL, the bidirectional
    overrides) escaped as repr does, line breaks and tabs included: one line of text."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(_escaped(c) for c in text)


def _escaped(char: str) -> str:
    if char.isprintable() or unicodedata.category(char) not in ("Cc", "Cf", "Zl", "Zp"):
        return char
    return repr(char)[1:-1]


def on_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def progress_bar(label: str, total: int, unit: str, enabled: bool = True, **options: Any) -> tqdm:
    """A bar on stderr, drawn only when `enabled` and stderr is a terminal."""
    from tqdm import tqdm

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

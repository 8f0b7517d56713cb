"""Text from files made safe to print on a terminal.

Why: a model's summary, an array's name or a path inside a data file is whatever its
author wrote; printed as it is, an escape sequence in it would move the cursor, recolour or
retitle the terminal, or hide the lines before it. Every text the command line prints from
a file goes through `shown`, which writes control characters as Python's repr does
(``\\x1b``); the commands' own line breaks stay, since they are added afterwards.
Standard library only: command modules import this at the top.
"""

from __future__ import annotations

import unicodedata


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

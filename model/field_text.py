"""A dataclass field's value as text and back: one parser for every front end.

The command line (`simulate`'s scene flags, `train`'s config flags and `--set K=V`) and
the Train and Scene panels' forms all turn typed text into a field's value. They used
three hand-written parsers that had drifted (one took `32;32`, another not); this is the
one they share. The field's default decides the type: bool, int, float, str, a tuple of
whole numbers (`32, 32, 32`), or a tuple of points (`COL,ROW COL,ROW ...`).
"""

from __future__ import annotations

from typing import Any

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def is_points(default: Any) -> bool:
    return isinstance(default, tuple) and bool(default) and isinstance(default[0], tuple)


def describe(default: Any) -> str:
    """What a value of this field is, for messages: 'a whole number', 'points ...'."""
    if isinstance(default, bool):
        return "yes or no (" + "/".join(TRUE_WORDS[1:3]) + " or " + "/".join(FALSE_WORDS[1:3]) + ")"
    if isinstance(default, int):
        return "a whole number"
    if isinstance(default, float):
        return "a number"
    if is_points(default):
        return "points 'COL,ROW COL,ROW ...'"
    if isinstance(default, tuple):
        return "whole numbers separated by commas, e.g. 32,32,32"
    return "text"


def metavar(default: Any) -> str:
    """The placeholder a command line's help shows for the field's value."""
    if isinstance(default, bool):
        return "yes|no"
    if isinstance(default, int):
        return "N"
    if isinstance(default, float):
        return "X"
    if is_points(default):
        return "'COL,ROW COL,ROW ...'"
    return "N,N,..." if isinstance(default, tuple) else "TEXT"


def parse_text(text: str, default: Any, name: str = "value") -> Any:
    """The value `text` stands for in a field whose default is `default`; ValueError (one
    line naming the field and what it expects) if it stands for none."""
    raw = text.strip()
    try:
        value = _parse(raw, default)
    except (ValueError, TypeError):
        value = None
    if value is None:
        raise ValueError(f"{name} must be {describe(default)}, got {text!r}")
    return value


def show_text(value: Any) -> str:
    """The text `parse_text` reads back as `value` (and a person reads easily)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if is_points(value):
        return " ".join(",".join(f"{c:g}" for c in point) for point in value)
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _parse(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        word = raw.lower()
        return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)  # nan and inf too: the field's range check names its range
    if is_points(default):
        points = tuple(
            tuple(float(c) for c in pair.split(",")) for pair in raw.replace(";", " ").split()
        )
        return points if points and all(len(p) == 2 for p in points) else None
    if isinstance(default, tuple):
        parts = raw.strip("()[] ").replace(";", ",").replace(" ", ",").split(",")
        values = tuple(int(p) for p in parts if p.strip())
        return values or None
    return raw

"""argparse ``type=`` functions that check an option's range where it is parsed.

Why here and not after parsing: argparse then names the option in its one-line error
(``argument --seed: must be a whole number in [0, 2147483647], got '-1'``) and nothing
has started yet. Standard library only at import: every command module imports this at
the top.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable

SEED_MAX = 2**31 - 1
"""Largest seed: the studio's seed boxes are 32-bit; numpy and torch take any of these."""


def whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """A parser of whole numbers in [low, high] (no upper bound when high is None)."""
    span = f"[{low}, {high}]" if high is not None else f"at least {low}"
    wanted = f"a whole number in {span}" if high is not None else f"a whole number of {span}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}")
        return value

    parse.__name__ = "whole number"
    return parse


def number(low: float, high: float, open_low: bool = False) -> Callable[[str], float]:
    """A parser of finite numbers in [low, high], or (low, high] when `open_low`."""
    wanted = f"a number in {'(' if open_low else '['}{low:g}, {high:g}]"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}") from None
        above = value > low if open_low else value >= low
        if not (math.isfinite(value) and above and value <= high):
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}")
        return value

    parse.__name__ = "number"
    return parse


seed = whole_number(0, SEED_MAX)
positive = whole_number(1)
probability = number(0.0, 1.0)


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (the usage block is in ``--help``).

    Subcommand parsers made by `add_subparsers` inherit the class.
    """

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def shipped_files(suffix: str) -> dict[str, str]:
    """`resources.shipped_files` as text (imported here, not at the top: see above)."""
    from kvae_studio.services.resources import shipped_files as found

    return {stem: str(path) for stem, path in found(suffix).items()}


def file_or_shipped(text: str) -> str:
    """`text`, or the shipped model or data set it names ("box", "paper-pong-test") when
    no file of that name is here. Why: installed from a wheel, the shipped files lie under
    the environment's share/kvae-studio, a path nobody should have to type; a file of
    the same name in the working folder still wins."""
    if os.path.exists(text):
        return text
    shipped = {**shipped_files(".npz"), **shipped_files(".safetensors")}.get(text)
    if shipped is None:
        return text
    # Said, since a user's "box.safetensors" here is not what "box" names.
    print(f"{text}: the studio's shipped {os.path.basename(shipped)}", file=sys.stderr)
    return shipped


def shipped_names(suffix: str) -> str:
    """', '.join of the shipped files' names, for a help text ('' if none)."""
    return ", ".join(shipped_files(suffix))


def model_and_data(parser: argparse.ArgumentParser, data: str = "sequences") -> None:
    """The two positionals of every command that runs a model on a data set; either may
    name a shipped file (`file_or_shipped`)."""
    models, datasets = shipped_names(".safetensors"), shipped_names(".npz")
    parser.add_argument(
        "model",
        type=file_or_shipped,
        help="a .safetensors model file"
        + (f", or a shipped model by name: {models}" if models else ""),
    )
    parser.add_argument(
        "data",
        type=file_or_shipped,
        help=f"{data} (.npz in the original format)"
        + (f", or a shipped data set by name: {datasets}" if datasets else ""),
    )

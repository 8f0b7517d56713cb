"""argparse ``type=`` functions that check an option's range where it is parsed.

Why here and not after parsing: argparse then names the option in its one-line error
(``argument --seed: must be a whole number in [0, 2147483647], got '-1'``) and nothing
has started yet. Standard library only: every command module imports this at the top.
"""

from __future__ import annotations

import argparse
import math
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


def model_and_data(parser: argparse.ArgumentParser, data: str = "sequences") -> None:
    """The two positionals of every command that runs a model on a data set."""
    parser.add_argument("model", help="a .safetensors model file")
    parser.add_argument("data", help=f"{data} (.npz in the original format)")

"""One command-line flag per field of a dataclass: `--ball-radius 2`, `--K 5`.

`simulate` (the scene parameters) and `train` (every `KVAEConfig` option) make their
option flags here, from the fields' defaults and one help text per field, so both
commands spell options alike and parse values with the forms' parser
(`model.field_text`). A value outside its range is refused by argparse itself, which
names the flag, before any work starts.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any

from model.field_text import metavar, parse_text


def flag(name: str) -> str:
    """'--ball-radius' of 'ball_radius' ('--K' of 'K')."""
    return "--" + name.replace("_", "-")


def field_type(
    name: str, default: Any, problem: Callable[[str, Any], str | None] | None = None
) -> Callable[[str], Any]:
    """An argparse `type=` for a field: its value from text, then `problem(name, value)`
    (a range check, say) if given; errors become argparse's one-line errors."""

    def parse(text: str) -> Any:
        try:
            value = parse_text(text, default, name)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
        if problem is not None and (why := problem(name, value)):
            raise argparse.ArgumentTypeError(why)
        return value

    parse.__name__ = name
    return parse


def add_field_options(
    group: argparse._ArgumentGroup | argparse.ArgumentParser,
    defaults: Mapping[str, Any],
    help_of: Callable[[str], str],
    dest_prefix: str,
    problem: Callable[[str, Any], str | None] | None = None,
) -> None:
    """A flag per field in `defaults` (name -> default); its value lands in
    `dest_prefix + name`, None when not given (see `given_fields`)."""
    for name, default in defaults.items():
        group.add_argument(
            flag(name),
            dest=dest_prefix + name,
            type=field_type(name, default, problem),
            metavar=metavar(default),
            help=help_of(name),
        )


def given_fields(args: argparse.Namespace, dest_prefix: str) -> dict[str, Any]:
    """The fields given on the command line, by name."""
    return {
        key[len(dest_prefix) :]: value
        for key, value in vars(args).items()
        if key.startswith(dest_prefix) and value is not None
    }

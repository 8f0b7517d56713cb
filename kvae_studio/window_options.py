"""What the studio window is opened with, parsed once by the command line.

`kvae-studio [--screenshot PATH [--size WxH]] [--scene S] [--seed N] [--tab NAME]`: the
command line (`kvae_studio.cli`) checks the flags and hands a `WindowOptions` to
`kvae_studio.app.main.run_app`, which parses nothing itself. Qt-free and import-light, so
that `--help` and the subcommands do not load the window to check its flags.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

TABS = ("explore", "dynamics", "scene", "train", "evaluate")  # in the window's order
SCREENSHOT_SIZE = (1400, 900)


@dataclass(frozen=True)
class WindowOptions:
    """The window's flags: a screenshot to save and quit, the scene and seed to open
    with, the screenshot's window size, the tab shown."""

    screenshot: str | None = None
    scene: str | None = None
    seed: int = 0
    size: tuple[int, int] = SCREENSHOT_SIZE
    tab: str | None = None


def window_size(text: str) -> tuple[int, int]:
    """'1024x700' -> (1024, 700): the window size of a screenshot."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT, e.g. 1024x700, got {text!r}"
        ) from None
    if width < 200 or height < 200:
        raise argparse.ArgumentTypeError(f"{text}: at least 200x200")
    return width, height


def tab_name(text: str) -> str:
    """A tab's name, any case: 'Dynamics' -> 'dynamics'."""
    name = text.lower()
    if name not in TABS:
        raise argparse.ArgumentTypeError(f"unknown tab {text!r}; choose from {', '.join(TABS)}")
    return name

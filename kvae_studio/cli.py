"""The ``kvae-studio`` command: the studio window, or one of the subcommands.

Each subcommand lives in ``kvae_studio/commands/<name>.py`` and exposes
``register(subparsers)`` (add its parser) and ``run(args) -> int`` (its exit code). Command
modules import only the standard library at the top and their heavy dependencies (torch, Qt)
inside ``run``, so that ``--help``, ``simulate`` and ``info`` start fast; a test holds them
to that.

With no subcommand, ``kvae-studio [--screenshot PATH [--size WxH]] [--scene S] [--seed N]
[--tab NAME]`` opens the studio window: the flags are checked here, once, and
``kvae_studio.app.main.run_app`` receives them as a ``WindowOptions``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

from kvae_studio import __version__
from kvae_studio.commands._options import OneLineParser, seed
from kvae_studio.window_options import WindowOptions, tab_name, window_size

COMMANDS = ("simulate", "info", "train", "evaluate", "export", "inspect")
"""Subcommand modules in ``kvae_studio.commands``, in the order ``--help`` lists them.

A name whose module does not exist (yet) is left out rather than failing.
"""

_WINDOW_FLAGS = ("window_screenshot", "window_scene", "window_seed", "window_size", "window_tab")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="kvae-studio",
        description="KVAE Studio: see what a Kalman Variational Auto-Encoder has understood "
        "of a video. Without a command, opens the studio window.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    window = parser.add_argument_group("studio window (no command)")
    window.add_argument(
        "--screenshot", dest="window_screenshot", metavar="PATH", help="save a picture and quit"
    )
    window.add_argument("--scene", dest="window_scene", metavar="S", help="scene to open with")
    window.add_argument("--seed", dest="window_seed", type=seed, metavar="N", help="random seed")
    window.add_argument(
        "--size",
        dest="window_size",
        metavar="WxH",
        type=window_size,
        help="window size of --screenshot (1400x900)",
    )
    window.add_argument(
        "--tab",
        dest="window_tab",
        metavar="NAME",
        type=tab_name,
        help="tab to open on: explore, dynamics, scene, train or evaluate",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = _command_module(name)
        if module is None:
            continue
        before = set(subparsers.choices)
        module.register(subparsers)
        for added in set(subparsers.choices) - before:
            subparsers.choices[added].set_defaults(command_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command; Ctrl+C at any point (even while the commands load) is one line."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return _run_window(_window_options(args))
    given = [
        f"--{name.split('_', 1)[1]}" for name in _WINDOW_FLAGS if getattr(args, name) is not None
    ]
    if given:
        parser.error(f"{', '.join(given)} only apply to the studio window (no command)")
    return int(args.command_run(args) or 0)


def _command_module(name: str) -> ModuleType | None:
    qualified = f"kvae_studio.commands.{name}"
    try:
        return importlib.import_module(qualified)
    except ModuleNotFoundError as err:
        if err.name == qualified:
            return None
        raise


def _window_options(args: argparse.Namespace) -> WindowOptions:
    given = {
        "screenshot": args.window_screenshot,
        "scene": args.window_scene,
        "seed": args.window_seed,
        "size": args.window_size,
        "tab": args.window_tab,
    }
    return WindowOptions(**{name: value for name, value in given.items() if value is not None})


def _run_window(options: WindowOptions) -> int:
    try:
        from kvae_studio.app.main import run_app
    except ModuleNotFoundError as err:
        if err.name in ("kvae_studio.app", "kvae_studio.app.main"):
            print(
                "kvae-studio: the studio window is not part of this build; "
                "see `kvae-studio --help` for the commands",
                file=sys.stderr,
            )
            return 1
        if err.name and err.name.split(".")[0] in ("PySide6", "pyqtgraph"):
            print(f"kvae-studio: the studio window needs {err.name}: {err}", file=sys.stderr)
            return 1
        raise
    return int(run_app(options) or 0)

"""Subcommands of ``kvae-studio``: one module each, listed in ``kvae_studio.cli.COMMANDS``.

A command module exposes ``register(subparsers)``, which adds its parser, and
``run(args) -> int``, which returns the exit code: 0 done, 1 failed, 2 bad input (print one
``error: ...`` line on stderr, no traceback), 130 interrupted. Import torch, Qt and other
heavy modules inside ``run``, never at the top: ``kvae-studio --help`` imports every command
module.
"""

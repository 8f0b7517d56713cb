"""``python -m kvae_studio``: the same as the ``kvae-studio`` command."""

from kvae_studio.cli import main

if __name__ == "__main__":  # not when the model's process (spawn) imports the main module
    raise SystemExit(main())

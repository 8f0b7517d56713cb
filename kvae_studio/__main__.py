"""``python -m kvae_studio``: the same as the ``kvae-studio`` command."""

from kvae_studio.cli import main

raise SystemExit(main())

"""Run `kvae-studio` as a user does, in a fresh interpreter (`python -m kvae_studio`), with
one thread for torch so that tests beside each other do not oversubscribe the cores."""

from __future__ import annotations

import os
import subprocess
import sys


def kvae_studio(*args: str, timeout: float = 300, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, "-m", "kvae_studio", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
    )

"""A one-line text progress bar for the commands (no tqdm)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """``[#######.......]  1200/5000  2.1 s, 3.4 s left`` redrawn in place on a terminal.

    Call it as ``bar(done, total)`` (the signature of the simulator's progress callback);
    ``close()`` ends the line. Does nothing when ``enabled`` is false, which is the default
    when the stream is not a terminal.
    """

    def __init__(
        self,
        label: str = "",
        stream: TextIO | None = None,
        enabled: bool | None = None,
        width: int = 30,
        interval: float = 0.1,
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.enabled = _isatty(self.stream) if enabled is None else enabled
        self.label = label
        self.width = width
        self.interval = interval
        self.started = time.perf_counter()
        self._last = -interval
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if done < total and now - self._last < self.interval:
            return
        self._last = now
        elapsed = now - self.started
        fraction = done / total if total else 1.0
        filled = round(self.width * fraction)
        left = f", {elapsed / fraction - elapsed:.1f} s left" if 0 < fraction < 1 else ""
        line = (
            f"{self.label}[{'#' * filled}{'.' * (self.width - filled)}] "
            f"{done}/{total}  {elapsed:.1f} s{left}"
        )
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False

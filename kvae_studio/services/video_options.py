"""What the window's video shows, and `kvae-studio export --views --scale` with it: the views
side by side, the frames per second, the scale. Apart from `export` (which draws with
OpenCV) so that the command line reads its options without importing cv2."""

from __future__ import annotations

from dataclasses import dataclass

VIEWS: dict[str, str] = {
    "truth": "the true frames",
    "observed": "what the model was shown (hidden pixels tinted)",
    "filtered": "the filter's frames (past frames only)",
    "smoothed": "the smoother's frames (past and future)",
    "imputed": "the smoothed frames with the visible pixels kept",
    "generated": "the free-running roll-out from the first frames",
}
"""The views a video can show side by side, in their order, and what each shows."""
DEFAULT_VIEWS = ("truth", "observed", "imputed")
DEFAULT_SCALE = 6
MAX_SCALE = 16


@dataclass(frozen=True)
class VideoOptions:
    """What the window's video shows: which views side by side (in `VIEWS`' order), its
    frames per second (None: the timeline's rate) and how many video pixels per frame
    pixel."""

    views: tuple[str, ...] = DEFAULT_VIEWS
    fps: float | None = None
    scale: int = DEFAULT_SCALE

    def __post_init__(self) -> None:
        unknown = [v for v in self.views if v not in VIEWS]
        if unknown:
            raise ValueError(f"no view {', '.join(unknown)}; choose from {', '.join(VIEWS)}")
        if not self.views:
            raise ValueError("choose at least one view")
        if not 1 <= self.scale <= MAX_SCALE:
            raise ValueError(f"scale {self.scale}: choose from 1 to {MAX_SCALE}")
        ordered = tuple(v for v in VIEWS if v in self.views)
        object.__setattr__(self, "views", ordered)

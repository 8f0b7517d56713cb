"""Settings every test needs: no display, no sound, nothing that opens a window."""

import os

for _key, _value in {
    "QT_QPA_PLATFORM": "offscreen",
    "SDL_VIDEODRIVER": "dummy",
    "SDL_AUDIODRIVER": "dummy",
    "MPLBACKEND": "Agg",
}.items():
    os.environ.setdefault(_key, _value)

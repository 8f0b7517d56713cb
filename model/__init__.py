"""The KVAE in PyTorch: no Qt, usable headless on a GPU server.

``import model.data`` stays light (numpy only): torch is imported on first use of
``model.KVAE`` or ``model.KVAEConfig``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from model.config import KVAEConfig
    from model.kvae import KVAE

__all__ = ["KVAE", "KVAEConfig"]


def __getattr__(name: str):
    if name == "KVAE":
        from model.kvae import KVAE

        return KVAE
    if name == "KVAEConfig":
        from model.config import KVAEConfig

        return KVAEConfig
    raise AttributeError(f"module 'model' has no attribute {name!r}")

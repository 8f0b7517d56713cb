"""The KVAE in PyTorch: no Qt, usable headless on a GPU server."""

from model.config import KVAEConfig
from model.kvae import KVAE

__all__ = ["KVAE", "KVAEConfig"]

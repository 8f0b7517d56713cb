"""KVAE Studio: see what a Kalman Variational Auto-Encoder has understood of a video."""

__version__ = "0.1.0"

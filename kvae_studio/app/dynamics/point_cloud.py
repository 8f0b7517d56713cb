"""The codes of a whole data set as one graphics item: up to ~20 000 coloured points.

Each point has its own colour (its regime weights mixed over the regime colours), so
pyqtgraph's ScatterPlotItem needs one QBrush and one symbol-atlas entry per point:
measured (offscreen, 2 busy cores) at 110-150 ms to add each chunk of 2 000 such points.
This item keeps plain arrays (adding a chunk: under 2 ms) and, when painted, maps the
points to device pixels with numpy and stamps a small disc per point into one image the
size of what is visible (3-7 ms for 20 000 points); the image is kept until the view or
the points change, so a hover label moving over the plot repaints from it (0.5 ms).

`PointCloud` is the data (codes, weights, colours, which sequence and frame), shared by
the items that draw it: the regime map and the faint copy behind imagined paths.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QImage, QPainter

from kvae_studio import colors
from kvae_studio.app.plot_parts import PixelSizedItem

RADIUS = 2.0  # pixels: a disc 5 pixels across
MAX_PIXELS = 64_000_000  # the largest image one paint may stamp points into


def regime_colours(k: int) -> np.ndarray:
    """(k, 3) float RGB in [0, 1] of the first k regimes (the palette repeats past six)."""
    return np.stack([colors.rgb(colors.REGIMES[i % len(colors.REGIMES)]) for i in range(k)])


def mix_colours(alpha: np.ndarray) -> np.ndarray:
    """Regime weights (..., K) -> RGB (..., 3): alpha @ the regimes' colours, in [0, 1]."""
    alpha = np.nan_to_num(np.asarray(alpha, dtype=np.float32))
    return np.clip(alpha @ regime_colours(alpha.shape[-1]), 0.0, 1.0)


def pack_argb(rgb: np.ndarray) -> np.ndarray:
    """RGB floats (N, 3) -> opaque 0xAARRGGBB uint32 (N,), QImage's ARGB32 layout."""
    c = np.rint(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint32)
    return np.uint32(0xFF000000) | (c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2]


def _disc(radius: float) -> tuple[np.ndarray, np.ndarray]:
    r = int(np.ceil(radius))
    dy, dx = np.mgrid[-r : r + 1, -r : r + 1]
    inside = dx**2 + dy**2 <= radius**2 + 0.5
    return dy[inside], dx[inside]


class PointCloud:
    """Codes (N, da), weights (N, K) and where each came from, appended chunk by chunk.

    Arrays grow by doubling, so appending a chunk copies only that chunk. `version`
    changes with every change, for the items' caches.
    """

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.count = 0
        self.version = 0
        self.total_sequences = 0
        self.frames_per_sequence = 0
        self._codes = np.zeros((0, 2), np.float32)
        self._alpha = np.zeros((0, 1), np.float32)
        self._argb = np.zeros(0, np.uint32)
        self._sequence = np.zeros(0, np.int32)
        self._frame = np.zeros(0, np.int32)

    def append(self, first: int, codes: np.ndarray, alpha: np.ndarray, total: int = 0) -> None:
        """Sequences first .. first + n - 1: codes (n, T, da), alpha (n, T, K)."""
        codes = np.asarray(codes, dtype=np.float32)
        alpha = np.asarray(alpha, dtype=np.float32)
        n, t = codes.shape[:2]
        m = n * t
        if self.count == 0:
            rows = max(m, total * t)
            self._codes = np.zeros((rows, codes.shape[2]), np.float32)
            self._alpha = np.zeros((rows, alpha.shape[2]), np.float32)
            self._argb = np.zeros(rows, np.uint32)
            self._sequence = np.zeros(rows, np.int32)
            self._frame = np.zeros(rows, np.int32)
            self.frames_per_sequence = t
        elif codes.shape[2] != self._codes.shape[1] or alpha.shape[2] != self._alpha.shape[1]:
            raise ValueError("a chunk with other dimensions than the ones before it")
        self._reserve(self.count + m)
        end = self.count + m
        self._codes[self.count : end] = codes.reshape(m, -1)
        self._alpha[self.count : end] = alpha.reshape(m, -1)
        self._argb[self.count : end] = pack_argb(mix_colours(alpha.reshape(m, -1)))
        self._sequence[self.count : end] = np.repeat(np.arange(first, first + n), t)
        self._frame[self.count : end] = np.tile(np.arange(t), n)
        self.count = end
        self.total_sequences = max(self.total_sequences, total, first + n)
        self.version += 1

    def _reserve(self, rows: int) -> None:
        have = len(self._argb)
        if rows <= have:
            return
        size = max(rows, 2 * have)
        for name in ("_codes", "_alpha", "_argb", "_sequence", "_frame"):
            old = getattr(self, name)
            new = np.zeros((size, *old.shape[1:]), old.dtype)
            new[: self.count] = old[: self.count]
            setattr(self, name, new)

    @property
    def codes(self) -> np.ndarray:
        return self._codes[: self.count]

    @property
    def alpha(self) -> np.ndarray:
        return self._alpha[: self.count]

    @property
    def argb(self) -> np.ndarray:
        return self._argb[: self.count]

    @property
    def sequence(self) -> np.ndarray:
        return self._sequence[: self.count]

    @property
    def frame(self) -> np.ndarray:
        return self._frame[: self.count]

    @property
    def regimes(self) -> int:
        return self._alpha.shape[1] if self.count else 0

    def xy(self) -> tuple[np.ndarray, np.ndarray]:
        """The first two code dimensions (a 1-d code is drawn on y = 0)."""
        codes = self.codes
        y = codes[:, 1] if codes.shape[1] > 1 else np.zeros(len(codes), np.float32)
        return codes[:, 0], y

    def sequences_seen(self) -> int:
        return self.count // self.frames_per_sequence if self.frames_per_sequence else 0


class PointCloudItem(PixelSizedItem):
    """Draws a `PointCloud` (call `points_changed` after changing it); `opacity` < 1 for
    a faint copy. `nearest(scene_pos)` finds the point under the cursor."""

    def __init__(self, cloud: PointCloud, radius: float = RADIUS, opacity: float = 1.0):
        super().__init__()
        self.cloud = cloud
        self.radius = radius
        self.opacity = opacity
        self._stencil = _disc(radius)
        self._cache: tuple | None = None  # (key, QImage, buffer, target rect)

    def points_changed(self) -> None:
        self._cache = None
        super().points_changed()

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        if self.cloud.count == 0:
            return None, None
        values = self.cloud.xy()[ax]
        values = values[np.isfinite(values)]
        if values.size == 0:
            return None, None
        return float(values.min()), float(values.max())

    def pixelPadding(self) -> float:
        return self.radius + 1.0

    def pad_pixels(self) -> float:
        return self.radius + 2.0

    def paint(self, painter: QPainter, *args) -> None:
        if self.cloud.count == 0:
            return
        transform = painter.transform()
        dpr = painter.device().devicePixelRatioF()
        view = self.viewRect()
        key = (
            self.cloud.version,
            dpr,
            tuple(
                round(v, 6)
                for v in (
                    transform.m11(),
                    transform.m12(),
                    transform.m21(),
                    transform.m22(),
                    transform.dx(),
                    transform.dy(),
                )
            ),
            None if view is None else (view.x(), view.y(), view.width(), view.height()),
        )
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, *self._render(transform, dpr, view))
        _, image, _buffer, target = self._cache
        if image is None:
            return
        painter.save()
        painter.resetTransform()
        painter.setOpacity(painter.opacity() * self.opacity)
        painter.drawImage(target, image)
        painter.restore()

    def _render(self, transform, dpr: float, view: QRectF | None) -> tuple:
        """The visible points stamped into one ARGB image, in device pixels."""
        x, y = self.cloud.xy()
        px = (transform.m11() * x + transform.m21() * y + transform.dx()) * dpr
        py = (transform.m12() * x + transform.m22() * y + transform.dy()) * dpr
        ok = np.isfinite(px) & np.isfinite(py)
        if view is not None:  # the view box's visible rectangle, in device pixels
            corners = [transform.map(view.topLeft()), transform.map(view.bottomRight())]
            xs = [c.x() * dpr for c in corners]
            ys = [c.y() * dpr for c in corners]
            ok &= (px >= min(xs) - 1) & (px <= max(xs) + 1)
            ok &= (py >= min(ys) - 1) & (py <= max(ys) + 1)
        if not ok.any():
            return None, None, QRectF()
        r = int(np.ceil(self.radius * dpr))
        ix = np.floor(px[ok]).astype(np.int64)
        iy = np.floor(py[ok]).astype(np.int64)
        argb = self.cloud.argb[ok]
        x0, y0 = int(ix.min()) - r, int(iy.min()) - r
        w, h = int(ix.max()) + r + 1 - x0, int(iy.max()) + r + 1 - y0
        if w * h > MAX_PIXELS:  # no view to cull by and points far apart: draw nothing
            return None, None, QRectF()
        buffer = np.zeros((h, w), np.uint32)
        ix -= x0
        iy -= y0
        dys, dxs = self._stencil if dpr == 1.0 else _disc(self.radius * dpr)
        for dy, dx in zip(dys.tolist(), dxs.tolist(), strict=True):
            buffer[iy + dy, ix + dx] = argb  # later points over earlier ones
        image = QImage(buffer.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied)
        target = QRectF(QPointF(x0 / dpr, y0 / dpr), QPointF((x0 + w) / dpr, (y0 + h) / dpr))
        return image, buffer, target

    def nearest(self, scene_pos: QPointF, within: float = 6.0) -> int | None:
        """Index of the point drawn nearest `scene_pos` (scene pixels), None if none is
        within `within` pixels; of equally near points, the one drawn on top."""
        if self.cloud.count == 0 or not self.isVisible():
            return None
        t = self.sceneTransform()
        x, y = self.cloud.xy()
        sx = t.m11() * x + t.m21() * y + t.dx()
        sy = t.m12() * x + t.m22() * y + t.dy()
        d2 = (sx - scene_pos.x()) ** 2 + (sy - scene_pos.y()) ** 2
        d2 = np.where(np.isfinite(d2), d2, np.inf)
        last = len(d2) - 1 - int(np.argmin(d2[::-1]))
        return last if d2[last] <= within**2 else None

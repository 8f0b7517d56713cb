"""The whole sequence at a glance: what the model saw (top row) and its imputation (bottom).

Hidden frames are tinted red with a red bar, partly painted frames carry a small red
corner, the current frame is outlined. Thumbnails never shrink below MIN_THUMB pixels
(a ball and its walls stay visible, frame numbers apart): where the strip does not fit,
it scrolls sideways (`scroller()`), following the current frame. Clicking a frame
toggles whether the model sees it (and makes it current). Drawn in one paintEvent
from cached QImages: twenty frames do not deserve twenty widgets.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QFrame, QScrollArea, QSizePolicy, QStyle, QWidget

from kvae_studio import colors

ROW_LABELS = ("seen", "imputed")
LABEL_W = 58
GAP = 3
NUMBER_H = 14
MIN_THUMB = 24
MAX_THUMB = 72


def to_qimage(rgb: np.ndarray) -> QImage:
    """float (H, W, 3) in [0, 1] -> an RGB32 QImage that owns its pixels. RGB32 rather
    than RGB888: the raster engine scales it without converting it first, which made
    drawing a frame four times faster (0.024 against 0.1 ms for a 190-pixel cell)."""
    return _rgb32_images(rgb[None])[0]


def grey_qimages(frames: np.ndarray) -> list[QImage]:
    """float (N, H, W) in [0, 1] -> N grey RGB32 QImages, converted in one numpy pass
    (the imputed row is twenty frames per edit)."""
    return _rgb32_images(np.asarray(frames)[..., None])


def _rgb32_images(rgb: np.ndarray) -> list[QImage]:
    """(N, H, W, 3 or 1) floats in [0, 1] -> N RGB32 images (0xffRRGGBB per pixel)."""
    levels = (np.clip(rgb, 0.0, 1.0) * 255).astype(np.uint32)
    red, green, blue = (levels[..., min(c, levels.shape[-1] - 1)] for c in range(3))
    packed = np.ascontiguousarray(0xFF000000 | (red << 16) | (green << 8) | blue)
    h, w = packed.shape[1:]
    return [QImage(f.data, w, h, 4 * w, QImage.Format.Format_RGB32).copy() for f in packed]


class Filmstrip(QWidget):
    """Thumbnails of every frame in two rows; `frameClicked(t)` on a click."""

    frameClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self.setToolTip(
            "The whole sequence: top, what the model is shown (red = hidden from it);\n"
            "bottom, the smoothed imputation. Click a frame to hide it or show it again."
        )
        self._seen: list[QImage] = []
        self._imputed: list[QImage] = []
        self._hidden = np.zeros(0, dtype=bool)
        self._partial = np.zeros(0, dtype=bool)
        self._current = 0
        self._scroller: QScrollArea | None = None

    @property
    def steps(self) -> int:
        return len(self._seen)

    def set_seen(
        self,
        images: np.ndarray,
        hidden: np.ndarray,
        occluded: np.ndarray,
        frames: tuple[int, ...] | None = None,
    ) -> None:
        """Truth (T, H, W), hidden frames (T,), painted pixels (T, H, W); only `frames`
        are redrawn when given (a brush stroke touches one frame per mouse event), and
        those whose marks (hidden, painted) changed."""
        hidden = np.asarray(hidden, dtype=bool).copy()
        partial = occluded.any(axis=(1, 2)) & ~hidden
        resized = len(self._seen) != len(images)
        if frames is None or resized:
            frames = tuple(range(len(images)))
            self._seen = [QImage()] * len(images)
        else:
            marked = (hidden != self._hidden) | (partial != self._partial)
            frames = tuple(sorted({*frames, *np.flatnonzero(marked).tolist()}))
        self._hidden, self._partial = hidden, partial
        for t in frames:
            covered = np.ones_like(occluded[t]) if self._hidden[t] else occluded[t]
            self._seen[t] = to_qimage(colors.observed_rgb(images[t], covered))
        if resized:  # only then does the size change: a re-layout repaints the window
            self.updateGeometry()
            self.update()
        else:  # the frames' columns only: a stroke repaints one thumbnail, not forty
            for t in frames:
                self.update(self._column_rect(t))

    def set_imputed(self, frames: np.ndarray | None) -> None:
        if frames is None:
            self._imputed = []
        else:
            self._imputed = grey_qimages(frames)
        self.update(self._row_rect(1))

    def set_current(self, frame: int) -> None:
        if frame != self._current:
            for t in (self._current, frame):
                self.update(self._column_rect(t))
            self._current = frame
        if self._scroller is not None and 0 <= frame < self.steps:
            rect = self.thumb_rect(frame)
            self._scroller.ensureVisible(rect.center().x(), rect.center().y(), rect.width(), 0)

    def scroller(self) -> QScrollArea:
        """The strip in a sideways-scrolling area, as tall as the strip and its bar."""
        if self._scroller is None:
            area = QScrollArea()
            area.setWidget(self)
            area.setWidgetResizable(True)
            area.setFrameShape(QFrame.Shape.NoFrame)
            area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
            area.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            self._scroller = area
            self._fit_scroller()
        return self._scroller

    def _fit_scroller(self) -> None:
        if self._scroller is not None:
            bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
            self._scroller.setFixedHeight(self._height(MIN_THUMB) + bar)

    # Geometry.
    def _thumb(self) -> int:
        if not self.steps:
            return 32
        free = self.width() - LABEL_W - GAP * (self.steps + 1)
        return int(max(MIN_THUMB, min(MAX_THUMB, free // self.steps)))

    def thumb_rect(self, frame: int, row: int = 0) -> QRect:
        """Where thumbnail `frame` of `row` (0 = seen, 1 = imputed) is drawn."""
        s = self._thumb()
        x = LABEL_W + GAP + frame * (s + GAP)
        y = GAP + row * (s + GAP)
        return QRect(x, y, s, s)

    def _row_rect(self, row: int) -> QRect:
        """Where row `row` and the current frame's outline around it are drawn."""
        s = self._thumb()
        return QRect(0, row * (s + GAP), self.width(), s + 2 * GAP)

    def _column_rect(self, frame: int) -> QRect:
        """Where frame `frame`'s thumbnails, number and outline are drawn."""
        top = self.thumb_rect(frame, 0)  # the number's box is the widest: 4 px either side
        return QRect(top.x() - GAP - 1, 0, top.width() + 2 * GAP + 2, self.height())

    def frame_at(self, x: float, y: float) -> int | None:
        for row in range(len(ROW_LABELS)):
            for t in range(self.steps):
                if self.thumb_rect(t, row).adjusted(-1, -1, 1, 1).contains(int(x), int(y)):
                    return t
        return None

    @staticmethod
    def _height(thumb: int) -> int:
        return 2 * (thumb + GAP) + NUMBER_H + GAP

    def sizeHint(self) -> QSize:
        s = self._thumb()
        return QSize(LABEL_W + GAP + (s + GAP) * max(self.steps, 1), self._height(s))

    def minimumSizeHint(self) -> QSize:
        """Every thumbnail at MIN_THUMB: narrower, the strip scrolls."""
        width = LABEL_W + GAP + (MIN_THUMB + GAP) * max(self.steps, 1)
        return QSize(width, self._height(MIN_THUMB))

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        height = self.sizeHint().height()
        if self.height() != height:
            self.setFixedHeight(height)
            if self._scroller is not None:
                bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
                self._scroller.setFixedHeight(height + bar)

    # Input and drawing.
    def mousePressEvent(self, ev: QMouseEvent) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            t = self.frame_at(ev.position().x(), ev.position().y())
            if t is not None:
                self.frameClicked.emit(t)
        ev.accept()

    def paintEvent(self, ev: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        region = ev.rect()  # only what was asked for: a result repaints one row
        painter.fillRect(region, QColor(colors.BASE))
        muted = QColor(colors.MUTED)
        hidden = QColor(colors.HIDDEN)
        s = self._thumb()
        for row, (label, images) in enumerate(
            zip(ROW_LABELS, (self._seen, self._imputed), strict=True)
        ):
            painter.setPen(muted)
            painter.drawText(
                QRect(4, GAP + row * (s + GAP), LABEL_W - 8, s),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                label,
            )
            for t, image in enumerate(images):
                rect = self.thumb_rect(t, row)
                if not rect.intersects(region):
                    continue
                painter.drawImage(QRectF(rect), image)
                if row == 0 and t < len(self._hidden) and self._hidden[t]:
                    painter.fillRect(QRect(rect.x(), rect.y(), rect.width(), 3), hidden)
                if row == 0 and t < len(self._partial) and self._partial[t]:
                    painter.fillRect(QRect(rect.right() - 5, rect.y(), 6, 6), hidden)
        for t in range(self.steps):
            top = self.thumb_rect(t, 0)
            number = QRect(top.x() - 4, GAP + 2 * (s + GAP) - 1, s + 8, NUMBER_H)
            if number.intersects(region):
                painter.setPen(QColor(colors.TEXT) if t == self._current else muted)
                painter.drawText(number, Qt.AlignmentFlag.AlignCenter, str(t))
            if t == self._current:
                painter.setPen(QPen(QColor(colors.ACCENT), 2))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                span = top.united(self.thumb_rect(t, 1)).adjusted(-2, -2, 2, 2)
                painter.drawRect(span)
        painter.end()

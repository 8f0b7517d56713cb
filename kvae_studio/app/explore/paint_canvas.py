"""The observed frame, large, with the occlusion drawn as a red tint; the user paints on it.

The canvas only translates mouse input into image coordinates (x = column, y = row) and
reports it through signals; what a stroke does to the mask is `masking.MaskModel`'s job.
Left button paints with the current tool, right button erases with it. With the brush a
circle follows the pointer with the brush's real size, so the user sees what will be
covered; the rectangle and the lasso show what they cover as the drag goes (the mask
model covers it at once), the fill needs no preview.

It zooms and pans as napari's canvas does: the wheel zooms about the pointer (Ctrl+wheel
still sizes the brush), the middle button or Space held with the left button pans, and
`reset_zoom` shows the whole frame again. With `set_painting(False)` it only shows a
picture (another view of the frame, shown large) and ignores strokes.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QGraphicsEllipseItem,
    QLineEdit,
    QWidget,
)

from kvae_studio import colors
from kvae_studio.app.qtsetup import pg


class PaintCanvas(pg.GraphicsView):
    """One frame with its mask; emits strokes in image coordinates."""

    strokeStarted = Signal(float, float, bool)
    strokeMoved = Signal(float, float)
    strokeEnded = Signal()
    strokeAborted = Signal()
    sizeStepped = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent=parent, background=colors.BASE)
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.box = pg.ViewBox(lockAspect=True, enableMouse=False, invertY=True)
        self.box.setMenuEnabled(False)
        self.box.setDefaultPadding(0.0)
        self.box.setBorder(pg.mkPen(colors.BORDER))
        self.setCentralItem(self.box)
        self.frame = pg.ImageItem(axisOrder="row-major")
        self.overlay = pg.ImageItem(axisOrder="row-major")
        self.overlay.setZValue(1)
        self.box.addItem(self.frame)
        self.box.addItem(self.overlay)
        self.cursor_ring = QGraphicsEllipseItem()
        self.cursor_ring.setPen(pg.mkPen(colors.CURRENT, width=1.2, cosmetic=True))
        self.cursor_ring.setZValue(2)
        self.cursor_ring.setVisible(False)
        self.box.addItem(self.cursor_ring, ignoreBounds=True)
        self.brush_size = 4.0
        self.tool = "brush"  # what the ring shows: only the brush has a size
        self._pressed: Qt.MouseButton | None = None
        self._tint = colors.rgb(colors.HIDDEN)
        self.painting = True
        self._space = False  # Space held: the left button pans
        self._pan_from: QPointF | None = None
        self._hover = False  # the pointer is over the canvas (Space then pans)

    # Drawing.
    def show_frame(self, frame: np.ndarray, hidden_pixels: np.ndarray) -> None:
        """Grey frame (H, W) and the pixels the model does not see (H, W) bool."""
        first = self.frame.image is None or self.frame.image.shape != frame.shape
        self.frame.setImage(frame, autoLevels=False, levels=(0.0, 1.0))
        rgba = np.zeros((*frame.shape, 4), dtype=np.float32)
        rgba[..., :3] = self._tint
        rgba[..., 3] = hidden_pixels * colors.HIDDEN_ALPHA
        self.overlay.setImage(rgba, autoLevels=False, levels=(0.0, 1.0))
        if first:
            self.box.autoRange(padding=0.0)

    def show_picture(self, picture: np.ndarray) -> None:
        """A grey (H, W) or RGB (H, W, 3) picture in [0, 1] with no mask over it."""
        first = self.frame.image is None or self.frame.image.shape[:2] != picture.shape[:2]
        self.frame.setImage(picture, autoLevels=False, levels=(0.0, 1.0))
        self.overlay.setImage(np.zeros((*picture.shape[:2], 4), np.float32), autoLevels=False)
        if first:
            self.box.autoRange(padding=0.0)

    def set_painting(self, painting: bool) -> None:
        """Whether strokes paint (the observed frame) or the canvas only shows a picture."""
        self.painting = bool(painting)
        if not painting:
            self.abort()
            self.cursor_ring.setVisible(False)
        self.setCursor(Qt.CursorShape.CrossCursor if painting else Qt.CursorShape.ArrowCursor)

    # Zoom and pan.
    def reset_zoom(self) -> None:
        self.box.autoRange(padding=0.0)

    @property
    def zoom(self) -> float:
        """Magnification against the whole frame: 1 when all of it is shown."""
        image = self.frame.image
        if image is None:
            return 1.0
        (x0, x1), (y0, y1) = self.box.viewRange()
        return max(image.shape[1] / max(x1 - x0, 1e-9), image.shape[0] / max(y1 - y0, 1e-9))

    def zoom_by(self, factor: float, widget_pos: QPointF | None = None) -> None:
        """Magnify by `factor` about a point of the widget (its centre by default)."""
        if widget_pos is None:
            widget_pos = QPointF(self.viewport().rect().center())
        centre = self.box.mapSceneToView(self.mapToScene(widget_pos.toPoint()))
        self.box.scaleBy((1.0 / factor, 1.0 / factor), center=centre)

    def _pan(self, pos: QPointF) -> None:
        if self._pan_from is None:
            return
        before = self.box.mapSceneToView(self.mapToScene(self._pan_from.toPoint()))
        after = self.box.mapSceneToView(self.mapToScene(pos.toPoint()))
        self.box.translateBy(x=before.x() - after.x(), y=before.y() - after.y())
        self._pan_from = QPointF(pos)

    def set_tool(self, tool: str) -> None:
        """The paint tool in use: the brush's ring shows only with the brush."""
        self.tool = tool
        self._move_ring(self.cursor_ring.rect().center(), visible=self.cursor_ring.isVisible())

    def set_brush_size(self, size: float) -> None:
        self.brush_size = float(size)
        self._move_ring(self.cursor_ring.rect().center(), visible=self.cursor_ring.isVisible())

    # Coordinates.
    def image_position(self, widget_pos: QPointF) -> QPointF:
        """Widget coordinates -> image coordinates (x = column, y = row, continuous)."""
        return self.frame.mapFromScene(self.mapToScene(widget_pos.toPoint()))

    def widget_position(self, x: float, y: float) -> QPointF:
        """Image coordinates -> widget coordinates (tests and benchmarks aim with this)."""
        return QPointF(self.mapFromScene(self.frame.mapToScene(QPointF(x, y))))

    # Input.
    def mousePressEvent(self, ev: QMouseEvent) -> None:
        button = ev.button()
        pan = button == Qt.MouseButton.MiddleButton or (
            button == Qt.MouseButton.LeftButton and self._space
        )
        if pan and self._pressed is None:
            self._pan_from = QPointF(ev.position())
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            ev.accept()
            return
        if (
            not self.painting
            or self._pressed is not None
            or button
            not in (
                Qt.MouseButton.LeftButton,
                Qt.MouseButton.RightButton,
            )
        ):
            ev.accept()
            return
        self._pressed = button
        p = self.image_position(ev.position())
        self._move_ring(p, visible=True)
        self.strokeStarted.emit(p.x(), p.y(), button == Qt.MouseButton.RightButton)
        ev.accept()

    def enterEvent(self, ev) -> None:
        self._hover = True
        # Take the keyboard (for Space) unless the user is typing in a field.
        focus = QApplication.focusWidget()
        if not isinstance(focus, (QLineEdit, QAbstractSpinBox)):
            self.setFocus(Qt.FocusReason.MouseFocusReason)
        super().enterEvent(ev)

    def mouseMoveEvent(self, ev: QMouseEvent) -> None:
        self._hover = True
        if self._pan_from is not None:
            self._pan(ev.position())
            ev.accept()
            return
        p = self.image_position(ev.position())
        self._move_ring(p, visible=self.painting)
        if self._pressed is not None:
            self.strokeMoved.emit(p.x(), p.y())
        ev.accept()

    def mouseReleaseEvent(self, ev: QMouseEvent) -> None:
        if self._pan_from is not None:
            self._pan(ev.position())
            self._pan_from = None
            self.set_painting(self.painting)  # its cursor back
            ev.accept()
            return
        if self._pressed is not None and ev.button() == self._pressed:
            p = self.image_position(ev.position())
            self.strokeMoved.emit(p.x(), p.y())
            self._pressed = None
            self.strokeEnded.emit()
        ev.accept()

    def mouseDoubleClickEvent(self, ev: QMouseEvent) -> None:
        ev.accept()  # a double click is two dabs, nothing more

    def wheelEvent(self, ev: QWheelEvent) -> None:
        delta = ev.angleDelta().y()
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.sizeStepped.emit(1 if delta > 0 else -1)
        elif delta:
            self.zoom_by(1.25 ** (delta / 120.0), ev.position())
        ev.accept()

    def event(self, ev: QEvent) -> bool:
        # Space over the canvas pans (as in napari) instead of playing the sequence.
        if (
            ev.type() == QEvent.Type.ShortcutOverride
            and isinstance(ev, QKeyEvent)
            and ev.key() == Qt.Key.Key_Space
            and self._hover
        ):
            ev.accept()
            return True
        return super().event(ev)

    def keyPressEvent(self, ev: QKeyEvent) -> None:
        if ev.key() == Qt.Key.Key_Space and not ev.isAutoRepeat():
            self._space = True
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            ev.accept()
            return
        super().keyPressEvent(ev)

    def keyReleaseEvent(self, ev: QKeyEvent) -> None:
        if ev.key() == Qt.Key.Key_Space and not ev.isAutoRepeat():
            self._space = False
            self.set_painting(self.painting)
            ev.accept()
            return
        super().keyReleaseEvent(ev)

    def leaveEvent(self, ev) -> None:
        self._hover = False
        self.cursor_ring.setVisible(False)
        super().leaveEvent(ev)

    def focusOutEvent(self, ev) -> None:
        if self._pressed is not None:  # e.g. a dialog popped up mid-stroke
            self._pressed = None
            self.strokeAborted.emit()
        super().focusOutEvent(ev)

    def abort(self) -> None:
        """Escape: drop the stroke in progress."""
        if self._pressed is not None:
            self._pressed = None
            self.strokeAborted.emit()

    def _move_ring(self, centre: QPointF, visible: bool) -> None:
        r = self.brush_size / 2.0
        self.cursor_ring.setRect(QRectF(centre.x() - r, centre.y() - r, 2 * r, 2 * r))
        self.cursor_ring.setVisible(visible and self.tool == "brush")

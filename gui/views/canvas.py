"""The drawing pad: a square of paper drawn on with a round, antialiased pen.

Strokes are kept as point lists in unit-square coordinates (0..1 across the paper),
so the drawing survives any resize and renders at any size: on screen (dark ink on
paper) and, through `to_array()`, as an ink-high grey image for the network.
"""
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

ARRAY_SIZE = 280                 # side of the array `to_array()` returns (10x MNIST)
PEN_WIDTH_RANGE = (4, 48)        # pen diameters offered, in pixels of a 280-px canvas
DEFAULT_PEN_WIDTH = 20
MIN_STEP = 0.002                 # pen moves shorter than this (unit coords) add no point

PAPER = QColor("#fdfdfb")
INK = QColor("#16181d")
BORDER = QColor("#b9bcc4")
HINT = QColor("#a3a7b0")


@dataclass
class Stroke:
    """One pen-down..pen-up movement."""
    width: float                                        # pen diameter as a fraction of the paper side
    points: list[QPointF] = field(default_factory=list)  # unit-square coordinates


def stroke_path(points: list[QPointF]) -> QPainterPath:
    """A smooth path through the points: quadratic curves between midpoints."""
    path = QPainterPath(points[0])
    for here, after in zip(points[1:-1], points[2:]):
        path.quadTo(here, (here + after) / 2)
    path.lineTo(points[-1])
    return path


def paint_strokes(painter: QPainter, strokes: list[Stroke], color: QColor) -> None:
    """Draw strokes in unit coordinates; the caller scales the painter to the paper size."""
    for stroke in strokes:
        if len(stroke.points) == 1:          # a click without movement leaves a round dot
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            radius = stroke.width / 2
            painter.drawEllipse(stroke.points[0], radius, radius)
        else:
            pen = QPen(color, stroke.width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                       Qt.PenJoinStyle.RoundJoin)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(stroke_path(stroke.points))


def render(device, side: int, paper, background: QImage | None, strokes: list[Stroke], ink: QColor):
    """Fill a square `device` (QImage or QPixmap) of `side` pixels: paper, background image, strokes."""
    device.fill(paper)
    painter = QPainter(device)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    if background is not None:
        painter.drawImage(QRectF(0, 0, side, side), background)
    painter.scale(side, side)
    paint_strokes(painter, strokes, ink)
    painter.end()


def qimage_to_array(image: QImage) -> np.ndarray:
    """A Grayscale8 QImage as a (H, W) uint8 array (copied; row padding removed)."""
    height, width, stride = image.height(), image.width(), image.bytesPerLine()
    rows = np.frombuffer(image.constBits(), np.uint8, count=stride * height).reshape(height, stride)
    return rows[:, :width].copy()


def array_to_qimage(gray: np.ndarray) -> QImage:
    """A (H, W) uint8 array as a Grayscale8 QImage that owns its pixels."""
    gray = np.ascontiguousarray(gray, dtype=np.uint8)
    height, width = gray.shape
    return QImage(gray.data, width, height, width, QImage.Format.Format_Grayscale8).copy()


class DrawingCanvas(QWidget):
    """Mouse/pen drawing widget.

    `changed` fires on every change, pen movements included; `edited` after each finished edit:
    pen lifted, stroke undone, paper cleared, image or stroke added.
    """

    changed = Signal()
    edited = Signal()
    penWidthChanged = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._strokes: list[Stroke] = []
        self._current: Stroke | None = None
        self._background: QImage | None = None      # ink-high grey image put on the paper
        self._background_shown: QImage | None = None  # the same, ink dark, for the screen
        self._pen_width = DEFAULT_PEN_WIDTH
        self._cache: QPixmap | None = None            # paper + finished strokes at screen size
        self._arrays: dict[int, np.ndarray] = {}      # to_array() results until the drawing changes
        self.changed.connect(self._arrays.clear)       # connected first: cleared before anyone reads
        self.edited.connect(self._arrays.clear)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(220, 220)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setToolTip("Draw a digit with the mouse or a pen.\n"
                        "Ctrl+Z undoes the last stroke; Esc or Delete clears.")

    # ---- public API -------------------------------------------------------------------------
    def pen_width(self) -> int:
        """Pen diameter in pixels of a 280-px canvas."""
        return self._pen_width

    def set_pen_width(self, width: int) -> None:
        width = int(min(max(width, PEN_WIDTH_RANGE[0]), PEN_WIDTH_RANGE[1]))
        if width != self._pen_width:
            self._pen_width = width
            self.penWidthChanged.emit(width)

    def is_blank(self) -> bool:
        return not self._strokes and self._current is None and self._background is None

    def stroke_count(self) -> int:
        return len(self._strokes)

    def clear(self) -> None:
        """Remove every stroke and any image put on the paper."""
        if self.is_blank():
            return
        self._strokes.clear()
        self._current = None
        self._background = self._background_shown = None
        self._drawing_changed()
        self.edited.emit()

    def undo(self) -> None:
        """Remove the last finished stroke (or the image, once no strokes are left)."""
        if self._strokes:
            self._strokes.pop()
        elif self._background is not None:
            self._background = self._background_shown = None
        else:
            return
        self._drawing_changed()
        self.edited.emit()

    def add_stroke(self, points, width: int | None = None) -> None:
        """Add a finished stroke from (x, y) pairs in unit coordinates (scripts, demos)."""
        width = self._pen_width if width is None else width
        stroke = Stroke(width / ARRAY_SIZE, [QPointF(float(x), float(y)) for x, y in points])
        if stroke.points:
            self._strokes.append(stroke)
            self._drawing_changed()
            self.edited.emit()

    def set_image(self, image: np.ndarray) -> None:
        """Put a grey image (H, W), 0..255 ink-high (e.g. an MNIST digit), on a clean paper."""
        gray = np.clip(np.asarray(image, dtype=np.float32), 0, 255).astype(np.uint8)  # (H, W)
        self._strokes.clear()
        self._current = None
        self._background = array_to_qimage(gray)
        self._background_shown = array_to_qimage(255 - gray)
        self._drawing_changed()
        self.edited.emit()

    def to_array(self, size: int = ARRAY_SIZE) -> np.ndarray:
        """The drawing as a (size, size) uint8 array, ink 255 on 0, including a stroke in progress.

        Rendered once per change of the drawing (the network reads it again whenever its weights
        change: every training update, every time-machine step)."""
        if size not in self._arrays:
            image = QImage(size, size, QImage.Format.Format_Grayscale8)
            render(image, size, 0, self._background, self._all_strokes(), QColor(255, 255, 255))
            self._arrays[size] = qimage_to_array(image)
        return self._arrays[size].copy()

    # ---- geometry ---------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(440, 440)

    def paper_rect(self) -> QRectF:
        """The square of paper, centred in the widget with a small margin."""
        margin = 6
        side = max(min(self.width(), self.height()) - 2 * margin, 1)
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def _to_unit(self, pos: QPointF) -> QPointF:
        paper = self.paper_rect()
        return QPointF((pos.x() - paper.x()) / paper.width(), (pos.y() - paper.y()) / paper.height())

    # ---- pen input --------------------------------------------------------------------------
    def mousePressEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton:
            self._begin_stroke(event.position())
        event.accept()

    def mouseMoveEvent(self, event):
        if self._current is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self._extend_stroke(event.position())
        event.accept()

    def mouseReleaseEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton:
            self._end_stroke()
        event.accept()

    def tabletEvent(self, event):
        kind = event.type()
        if kind == event.Type.TabletPress:
            self._begin_stroke(event.position())
        elif kind == event.Type.TabletMove and self._current is not None:
            self._extend_stroke(event.position())
        elif kind == event.Type.TabletRelease:
            self._end_stroke()
        event.accept()                       # no synthesized mouse events on top

    def _begin_stroke(self, pos: QPointF) -> None:
        self._current = Stroke(self._pen_width / ARRAY_SIZE, [self._to_unit(pos)])
        self._update_around(self._current.points[-1:])
        self.changed.emit()

    def _extend_stroke(self, pos: QPointF) -> None:
        point = self._to_unit(pos)
        last = self._current.points[-1]
        if abs(point.x() - last.x()) + abs(point.y() - last.y()) < MIN_STEP:
            return
        self._current.points.append(point)
        self._update_around(self._current.points[-3:])
        self.changed.emit()

    def _end_stroke(self) -> None:
        if self._current is None:
            return
        self._strokes.append(self._current)
        self._current = None
        self._drawing_changed()
        self.edited.emit()

    # ---- painting ---------------------------------------------------------------------------
    def _all_strokes(self) -> list[Stroke]:
        return self._strokes + ([self._current] if self._current is not None else [])

    def _drawing_changed(self) -> None:
        self._cache = None
        self.update()
        self.changed.emit()

    def _update_around(self, points: list[QPointF]) -> None:
        """Repaint only the part of the paper the newest stroke segment touches."""
        paper = self.paper_rect()
        pad = self._pen_width / ARRAY_SIZE * paper.width() + 4
        xs = [paper.x() + p.x() * paper.width() for p in points]
        ys = [paper.y() + p.y() * paper.height() for p in points]
        self.update(QRectF(min(xs) - pad, min(ys) - pad, max(xs) - min(xs) + 2 * pad,
                           max(ys) - min(ys) + 2 * pad).toAlignedRect())

    def resizeEvent(self, event):
        self._cache = None
        super().resizeEvent(event)

    def _finished_pixmap(self, paper: QRectF) -> QPixmap:
        """Paper with the background image and finished strokes, cached until they change."""
        ratio = self.devicePixelRatioF()
        side = round(paper.width() * ratio)
        if self._cache is None or self._cache.width() != side:
            pixmap = QPixmap(side, side)
            render(pixmap, side, PAPER, self._background_shown, self._strokes, INK)
            pixmap.setDevicePixelRatio(ratio)
            self._cache = pixmap
        return self._cache

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        paper = self.paper_rect()
        painter.drawPixmap(paper.topLeft(), self._finished_pixmap(paper))
        painter.setPen(QPen(BORDER, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(paper.adjusted(-0.5, -0.5, 0.5, 0.5))
        if self._current is not None:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.save()
            painter.translate(paper.topLeft())
            painter.scale(paper.width(), paper.height())
            painter.setClipRect(QRectF(0, 0, 1, 1))
            paint_strokes(painter, [self._current], INK)
            painter.restore()
        elif self.is_blank():
            painter.setPen(HINT)
            font = painter.font()
            font.setPointSizeF(font.pointSizeF() * 1.4)
            painter.setFont(font)
            painter.drawText(paper, Qt.AlignmentFlag.AlignCenter, "Draw a digit here")

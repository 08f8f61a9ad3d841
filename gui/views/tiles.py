"""A grid of small pixel images (filters, feature maps, the network's input) with value tooltips."""
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

# tooltip(tile, row, col) -> text, for the pixel under the mouse
TooltipText = Callable[[int, int, int], str]

CAPTION_HEIGHT = 16
GAP = 6
FRAME = QColor("#9aa0aa")
HIGHLIGHT = QColor("#e8a317")


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """uint8 (H, W, 3) -> RGB888 QImage that owns a copy of the pixels."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width, _ = rgb.shape
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


class TileGrid(QWidget):
    """Square tiles laid out in `columns`, each shown with crisp (nearest-neighbour) pixels.

    Clicking a pixel emits pixelClicked(tile, row, col).
    """

    pixelClicked = Signal(int, int, int)

    def __init__(self, columns: int, min_tile: int = 28, captions: bool = True, parent=None):
        super().__init__(parent)
        self._columns = columns
        self._min_tile = min_tile
        self._captions = captions
        self._images: list[QImage] = []
        self._labels: list[str] = []
        self._tooltip: TooltipText | None = None
        self._placeholder = ""
        self._highlight = None      # (tile, row, col): one pixel outlined, e.g. the one being explained
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_tiles(self, rgb_tiles: list[np.ndarray], labels: list[str] | None = None,
                  tooltip: TooltipText | None = None) -> None:
        """Show uint8 (H, W, 3) images; `tooltip` gives the text for a hovered pixel."""
        self._images = [rgb_to_qimage(tile) for tile in rgb_tiles]
        self._labels = labels or [str(i + 1) for i in range(len(rgb_tiles))]
        self._tooltip = tooltip
        self.updateGeometry()
        self.update()

    def set_highlight(self, tile: int | None, row: int = 0, col: int = 0) -> None:
        """Outline pixel (row, col) of `tile`; None removes the outline."""
        self._highlight = None if tile is None else (tile, row, col)
        self.update()

    def set_placeholder(self, text: str) -> None:
        """Text shown instead of the tiles (e.g. "Draw a digit"); empty to show tiles."""
        self._placeholder = text
        self.update()

    def tile_count(self) -> int:
        return len(self._images)

    # ---- layout -----------------------------------------------------------------------------
    def _rows(self) -> int:
        return max(1, -(-max(len(self._images), 1) // self._columns))

    def _caption_height(self) -> int:
        return CAPTION_HEIGHT if self._captions else 0

    def _tile_side(self) -> int:
        across = (self.width() - GAP * (self._columns - 1)) // self._columns
        down = (self.height() - self._rows() * (self._caption_height() + GAP)) // self._rows()
        return max(4, min(across, down))

    def tile_rect(self, index: int) -> QRect:
        side = self._tile_side()
        row, col = divmod(index, self._columns)
        used_w = self._columns * side + (self._columns - 1) * GAP
        left = (self.width() - used_w) // 2
        return QRect(left + col * (side + GAP), row * (side + self._caption_height() + GAP), side, side)

    def minimumSizeHint(self) -> QSize:
        side = self._min_tile
        rows = self._rows()
        return QSize(self._columns * side + (self._columns - 1) * GAP,
                     rows * (side + self._caption_height() + GAP))

    def sizeHint(self) -> QSize:
        hint = self.minimumSizeHint()
        return QSize(hint.width() * 2, hint.height() * 2)

    # ---- painting and hover -----------------------------------------------------------------
    def paintEvent(self, event):
        painter = QPainter(self)
        if self._placeholder or not self._images:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.rect().adjusted(4, 0, -4, 0),                 # wrapped: never clipped
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._placeholder)
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for index, image in enumerate(self._images):
            rect = self.tile_rect(index)
            painter.drawImage(rect, image)
            painter.setPen(QPen(FRAME, 1))
            painter.drawRect(rect.adjusted(0, 0, -1, -1))
            if self._highlight is not None and self._highlight[0] == index:
                _, row, col = self._highlight
                scale_x, scale_y = rect.width() / image.width(), rect.height() / image.height()
                width, height = max(scale_x, 6), max(scale_y, 6)       # visible even on small tiles
                painter.setPen(QPen(HIGHLIGHT, 2))
                painter.drawRect(QRectF(rect.left() + (col + 0.5) * scale_x - width / 2,
                                        rect.top() + (row + 0.5) * scale_y - height / 2, width, height))
            if self._captions:
                painter.setPen(self.palette().text().color())
                caption = QRect(rect.left(), rect.bottom() + 1, rect.width(), CAPTION_HEIGHT)
                painter.drawText(caption, Qt.AlignmentFlag.AlignCenter, self._labels[index])

    def pixel_at(self, x: float, y: float) -> tuple[int, int, int] | None:
        """(tile, row, col) under widget point (x, y), or None."""
        for index, image in enumerate(self._images):
            rect = QRectF(self.tile_rect(index))
            if rect.contains(x, y):
                col = min(int((x - rect.left()) / rect.width() * image.width()), image.width() - 1)
                row = min(int((y - rect.top()) / rect.height() * image.height()), image.height() - 1)
                return index, row, col
        return None

    def mousePressEvent(self, event):
        hit = None if self._placeholder else self.pixel_at(event.position().x(), event.position().y())
        if hit is not None and event.button() == Qt.MouseButton.LeftButton:
            self.pixelClicked.emit(*hit)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event):
        hit = None if self._placeholder else self.pixel_at(event.position().x(), event.position().y())
        if hit is not None and self._tooltip is not None:
            QToolTip.showText(event.globalPosition().toPoint(), self._tooltip(*hit), self)
        else:
            QToolTip.hideText()
        super().mouseMoveEvent(event)


class ColorBar(QWidget):
    """A horizontal legend: the colour map with its -limit, 0 and +limit values."""

    def __init__(self, stops: list[tuple[float, tuple[int, int, int]]], parent=None):
        super().__init__(parent)
        self._stops = stops
        self._limit = 1.0
        self._set_size()

    def _set_size(self) -> None:
        self.setFixedHeight(30)
        self.setMinimumWidth(160)
        self.setMaximumWidth(360)

    def set_limit(self, limit: float) -> None:
        self._limit = limit
        self.setToolTip(f"One shared colour scale: blue = -{limit:.3g}, white = 0, red = +{limit:.3g}")
        self.update()

    def _paint_bar(self, painter: QPainter, bar: QRectF, low, high) -> None:
        """The colour map across `bar`, -limit at point `low` and +limit at `high`, framed; the pen
        is then left on the text colour for the labels."""
        gradient = QLinearGradient(low, high)
        for position, rgb in self._stops:
            gradient.setColorAt(position, QColor(*rgb))
        painter.fillRect(bar, gradient)
        painter.setPen(QPen(FRAME, 1))
        painter.drawRect(bar)
        painter.setPen(self.palette().text().color())

    def paintEvent(self, event):
        painter = QPainter(self)
        bar = QRectF(0, 0, self.width() - 1, 12)
        self._paint_bar(painter, bar, bar.topLeft(), bar.topRight())
        text = QRect(0, 13, self.width(), self.height() - 13)
        painter.drawText(text, Qt.AlignmentFlag.AlignLeft, f"-{self._limit:.3g}")
        painter.drawText(text, Qt.AlignmentFlag.AlignHCenter, "0")
        painter.drawText(text, Qt.AlignmentFlag.AlignRight, f"+{self._limit:.3g}")


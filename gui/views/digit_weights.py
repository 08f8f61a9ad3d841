"""What each digit looks for: the output layer's weights as a 10 x F grid of 13x13 pictures.

Row d, column f is the weight digit d gives each cell of pooled map f: red cells add to d's
score where filter f responds, blue cells subtract. One diverging scale for the whole grid.
"""
import numpy as np
from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QGroupBox, QLabel, QSizePolicy, QToolTip, QVBoxLayout, QWidget

from core import explain
from gui.views.colormap import diverging_rgb, gradient_stops, symmetric_limit
from gui.views.tiles import FRAME, ColorBar, rgb_to_qimage

HEADER = 18
GAP = 3


class WeightGrid(QWidget):
    """Rows of pictures with a digit at the left of each row and a filter number above each column."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._images = []          # rows of QImages
        self._pictures = None      # (10, F, 13, 13)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_pictures(self, pictures: np.ndarray, limit: float) -> None:
        """pictures (10, F, 13, 13) on the scale -limit..+limit."""
        self._pictures = pictures
        colours = diverging_rgb(pictures, limit)  # (10, F, 13, 13, 3), one colour-map call for all
        self._images = [[rgb_to_qimage(c) for c in row] for row in colours]
        self.updateGeometry()
        self.update()

    def shape(self) -> tuple[int, int]:
        return (len(self._images), len(self._images[0])) if self._images else (0, 0)

    def _side(self) -> int:
        rows, cols = self.shape()
        if not rows:
            return 0
        across = (self.width() - HEADER - GAP * cols) // cols
        down = (self.height() - HEADER - GAP * rows) // rows
        return max(4, min(across, down))

    def cell_rect(self, row: int, col: int) -> QRect:
        side = self._side()
        rows, cols = self.shape()
        left = (self.width() - (HEADER + cols * (side + GAP))) // 2 + HEADER
        return QRect(left + col * (side + GAP), HEADER + row * (side + GAP), side, side)

    def minimumSizeHint(self) -> QSize:
        rows, cols = self.shape() if self._images else (10, 8)
        return QSize(HEADER + cols * (18 + GAP), HEADER + rows * (18 + GAP))

    def sizeHint(self) -> QSize:
        rows, cols = self.shape() if self._images else (10, 8)
        return QSize(HEADER + cols * (30 + GAP), HEADER + rows * (30 + GAP))

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        text = self.palette().text().color()
        for r, row in enumerate(self._images):
            for c, image in enumerate(row):
                rect = self.cell_rect(r, c)
                painter.drawImage(rect, image)
                painter.setPen(QPen(FRAME, 1))
                painter.drawRect(rect.adjusted(0, 0, -1, -1))
                painter.setPen(text)
                if r == 0:
                    painter.drawText(QRect(rect.left(), 0, rect.width(), HEADER), Qt.AlignmentFlag.AlignCenter,
                                     str(c + 1))
                if c == 0:
                    painter.drawText(QRect(rect.left() - HEADER, rect.top(), HEADER, rect.height()),
                                     Qt.AlignmentFlag.AlignCenter, str(r))

    def picture_at(self, x: float, y: float):
        """(digit, filter, row, col) under the point, or None."""
        rows, cols = self.shape()
        for r in range(rows):
            for c in range(cols):
                rect = QRectF(self.cell_rect(r, c))
                if rect.contains(x, y):
                    row = min(int((y - rect.top()) / rect.height() * 13), 12)
                    col = min(int((x - rect.left()) / rect.width() * 13), 12)
                    return r, c, row, col
        return None

    def mouseMoveEvent(self, event):
        hit = self.picture_at(event.position().x(), event.position().y())
        if hit is not None:
            d, f, row, col = hit
            QToolTip.showText(event.globalPosition().toPoint(),
                              f"Digit {d}, filter {f + 1}, cell ({row + 1}, {col + 1}): "
                              f"weight {self._pictures[d, f, row, col]:+.4f}", self)
        super().mouseMoveEvent(event)


class DigitWeightsView(QWidget):
    """The output weights by digit (rows) and filter (columns), refreshed when the model changes."""

    def __init__(self, parent=None):
        super().__init__(parent)
        intro = QLabel("What each digit looks for: row d, column f holds the weights digit d gives to "
                       "filter f's pooled map. Red: a response there counts for d; blue: against. "
                       "Watch them form while the network trains.")
        intro.setWordWrap(True)
        self.grid = WeightGrid()
        self.legend = ColorBar(gradient_stops())
        box = QGroupBox("Output-layer weights: digits 0-9 (rows) x filters (columns)")
        box_layout = QVBoxLayout(box)
        box_layout.addWidget(self.grid, 1)
        box_layout.addWidget(self.legend, 0, Qt.AlignmentFlag.AlignHCenter)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(box, 1)
        self.limit = 1.0
        self._weights = None

    def show_state(self, model, image=None) -> None:
        """Redraw when the output weights changed (the drawing does not matter here)."""
        weights = model.params["softmax.weights"]
        if self._weights is not None and np.array_equal(weights, self._weights):
            return
        self._weights = weights.copy()
        pictures = explain.digit_pictures(model).astype(np.float64)  # (10, F, 13, 13)
        self.limit = symmetric_limit(pictures)
        self.grid.set_pictures(pictures, self.limit)
        self.legend.set_limit(self.limit)

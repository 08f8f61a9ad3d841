"""The filters as the centrepiece: big 3x3 tiles, how far each moved since the run began, hover values.

FilterBoard shows F filters (F, 3, 3) on one shared diverging scale, four to a row so each is
large (>= 96 px at the default window size). Under each tile a bar and a number give the
filter's distance from where the run began (core.replay.filter_change); the bars share one
scale, the longest filling its slot. Hovering a weight shows its value and its gradient at the
last training step, when the training process has sent one.
"""
import numpy as np
from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QGroupBox, QHBoxLayout

from core.replay import filter_change
from gui.views.colormap import diverging_rgb, gradient_stops, symmetric_limit
from gui.views.tiles import CAPTION_HEIGHT, ColorBar, TileGrid

COLUMNS = 4
MIN_TILE = 64          # the minimum; the default window gives each filter >= 96 px (tested)
BAR_HEIGHT = 6
BAR_COLOUR = QColor("#6b4fbb")
TRACK_COLOUR = QColor("#e3e0ea")
MIN_FULL_BAR = 0.01    # a change below this (shown as 0.00x) never fills a bar


class ChangeTileGrid(TileGrid):
    """TileGrid whose caption line is "number, bar, value": each tile's change as a share of the largest
    change any filter has shown since the run began (so scrubbing back shows shorter bars)."""

    def __init__(self, columns: int, min_tile: int, parent=None):
        super().__init__(columns, min_tile, captions=True, parent=parent)
        self._fractions: list[float] = []
        self._values: list[str] = []

    def set_changes(self, fractions, values: list[str]) -> None:
        """Per tile: the bar's length in 0..1 and the number shown after it (empty lists: no bars)."""
        self._fractions = [float(f) for f in fractions]
        self._values = list(values)
        self.update()

    def paintEvent(self, event):
        super().paintEvent(event)                  # tiles; the base captions are blank (see FilterBoard)
        if self._placeholder or not self._images:
            return
        painter = QPainter(self)
        metrics = painter.fontMetrics()
        for index in range(len(self._images)):
            rect = self.tile_rect(index)
            line = QRect(rect.left(), rect.bottom() + 1, rect.width(), CAPTION_HEIGHT)
            number = str(index + 1)
            painter.setPen(self.palette().text().color())
            painter.drawText(line, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, number)
            if len(self._fractions) != len(self._images):
                continue
            value = self._values[index]
            painter.drawText(line, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, value)
            left = line.left() + metrics.horizontalAdvance(number) + 4
            right = line.right() - metrics.horizontalAdvance(value) - 4
            track = QRect(left, line.center().y() - BAR_HEIGHT // 2, max(right - left, 0), BAR_HEIGHT)
            painter.fillRect(track, TRACK_COLOUR)
            painter.fillRect(QRect(track.left(), track.top(), round(track.width() * self._fractions[index]),
                                   BAR_HEIGHT), BAR_COLOUR)


class VerticalColorBar(ColorBar):
    """The shared scale as a narrow upright legend beside the tiles: +limit at the top, -limit below."""

    WIDTH = 66
    BAR = 12

    def _set_size(self) -> None:
        self.setFixedWidth(self.WIDTH)
        self.setMinimumHeight(120)

    def limit_text(self) -> tuple[str, str, str]:
        return f"+{self._limit:.3g}", "0", f"-{self._limit:.3g}"

    def paintEvent(self, event):
        painter = QPainter(self)
        bar = QRectF(2, 0, self.BAR, self.height() - 1)
        self._paint_bar(painter, bar, bar.bottomLeft(), bar.topLeft())           # -limit at the bottom
        text = QRect(self.BAR + 6, 0, self.width() - self.BAR - 6, self.height())
        top, middle, bottom = self.limit_text()
        painter.drawText(text, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft, top)
        painter.drawText(text, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, middle)
        painter.drawText(text, Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft, bottom)


class FilterBoard(QGroupBox):
    """The learned filters, large; set_filters / set_start / set_gradients, filters() / changes()."""

    def __init__(self, parent=None):
        super().__init__("Filters (3x3) · bars: change since the run began", parent)
        self.grid = ChangeTileGrid(COLUMNS, MIN_TILE)
        self.legend = VerticalColorBar(gradient_stops())      # beside the tiles: their height is the scarce one
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 4, 4)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.legend)
        self.setToolTip("The network's learned 3x3 filters on one shared scale: blue weights are negative, "
                        "red positive. Hover a weight for its value and its last gradient.")
        self.limit = 1.0
        self._filters = np.zeros((0, 3, 3))
        self._start: np.ndarray | None = None
        self._gradients: np.ndarray | None = None
        self._live = True             # False while the time machine shows an earlier network
        self._changes = np.zeros(0)
        self._change_scale = 0.0      # the largest change seen since the start: the bars' full width

    # ---- input ------------------------------------------------------------------------------
    def set_filters(self, filters: np.ndarray) -> None:
        """filters (F, 3, 3): the network shown now."""
        self._filters = np.array(filters, dtype=np.float64)                   # own copy, (F, 3, 3)
        if self._gradients is not None and self._gradients.shape != self._filters.shape:
            self._gradients = None
        self._redraw()

    def set_start(self, filters: np.ndarray | None) -> None:
        """The filters when the run began (F, 3, 3), or None: no run to compare with."""
        self._start = None if filters is None else np.array(filters, dtype=np.float64)
        self._change_scale = 0.0
        self._redraw()

    def set_gradients(self, gradients: np.ndarray | None) -> None:
        """The loss gradient w.r.t. each weight at the last step (F, 3, 3), or None."""
        self._gradients = None if gradients is None else np.array(gradients, dtype=np.float64)

    def set_live(self, live: bool) -> None:
        """False while the filters shown are a snapshot's (their gradients were not recorded)."""
        self._live = live

    # ---- output -----------------------------------------------------------------------------
    def filters(self) -> np.ndarray:
        return self._filters.copy()

    def changes(self) -> np.ndarray:
        """(F,) each filter's distance from the run's start (zeros without a start)."""
        return self._changes.copy()

    def tooltip_text(self, tile: int, row: int, col: int) -> str:
        weight = self._filters[tile, row, col]
        lines = [f"Filter {tile + 1}, row {row + 1}, column {col + 1}", f"weight {weight:+.4f}"]
        if not self._live:
            lines.append("gradient: recorded for the live network only (press Live)")
        elif self._gradients is not None:
            lines.append(f"gradient at the last step {self._gradients[tile, row, col]:+.2e}"
                         f" (the step moves the weight against it)")
        else:
            lines.append("gradient: none yet (train to see it)")
        if self._start is not None and self._start.shape == self._filters.shape:
            lines.append(f"filter moved {self._changes[tile]:.3f} since the run began")
        return "\n".join(lines)

    # ---- drawing ----------------------------------------------------------------------------
    def _redraw(self) -> None:
        filters = self._filters
        self.limit = symmetric_limit(filters)
        if self._start is None or self._start.shape != filters.shape:      # no run, or another network
            self._changes = np.zeros(len(filters))
        else:
            self._changes = filter_change(self._start, filters)                   # (F,)
        blank = [""] * len(filters)                                                # the grid paints its own captions
        self.grid.set_tiles([diverging_rgb(f, self.limit) for f in filters], blank, tooltip=self.tooltip_text)
        if len(self._changes):
            self._change_scale = max(self._change_scale, float(self._changes.max()))
        scale = max(self._change_scale, MIN_FULL_BAR)       # a run's first steps: short bars, not noise-sized full ones
        if self._start is None or self._start.shape != filters.shape:
            self.grid.set_changes([], [])
        else:
            fractions = self._changes / scale if scale > 0 else np.zeros(len(filters))
            self.grid.set_changes(fractions, [f"{c:.3f}" for c in self._changes])
        self.legend.set_limit(self.limit)

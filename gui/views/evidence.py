"""Evidence: where on the drawing, and through which filter, the network found its reasons.

For a digit d, each pooled cell adds weight x pooled value to d's score (core.explain.evidence).
The view draws that 13x13 map over the network input (red for, blue against), the same per
filter, and one bar per filter; bias + bars = the score exactly. "Why A rather than B" shows
the difference of two digits' maps (A = the prediction, B = the runner-up unless picked).
"""
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QGroupBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget,
)

from core import explain
from gui.views.axis_range import snapped_range
from gui.views.colormap import diverging_rgb, paper_rgb, symmetric_limit
from gui.views.tiles import TileGrid

AUTO = -1
BAR_FOR = "#d9544d"
BAR_AGAINST = "#4d7fd9"
BAR_BIAS = "#9aa0aa"
OVERLAY_STRENGTH = 0.8
PER_FILTER_TITLE = "Per filter (bias + bars = score)"
PER_FILTER_DIFFERENCE = "Per filter: A's minus B's"


def evidence_rgb(image, cells, limit) -> np.ndarray:
    """The input (28, 28) as dark ink on white, tinted by a (13, 13) evidence map: uint8 (28, 28, 3)."""
    grid = explain.on_input(cells)  # (28, 28)
    colour = diverging_rgb(grid, limit).astype(np.float64)  # (28, 28, 3)
    paper = paper_rgb(image).astype(np.float64)
    alpha = OVERLAY_STRENGTH * np.clip(np.abs(grid) / limit, 0, 1)[..., None]  # (28, 28, 1)
    # Ink stays visible: the tint is multiplied into the paper, so dark strokes remain dark.
    return np.clip(paper * ((1 - alpha) + alpha * colour / 255), 0, 255).astype(np.uint8)


class EvidenceView(QWidget):
    """Evidence for one digit, or for A rather than B, on the current drawing."""

    digitsChanged = Signal(int, int)   # A, B (B = -1 when not comparing)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.digit_combo = QComboBox()
        self.digit_combo.addItem("the prediction", AUTO)
        for d in range(10):
            self.digit_combo.addItem(str(d), d)
        self.digit_combo.setToolTip("Which digit's evidence to show")
        self.compare_box = QCheckBox("rather than")
        self.compare_box.setToolTip("Why A rather than B: A's evidence minus B's")
        self.other_combo = QComboBox()
        self.other_combo.addItem("the runner-up", AUTO)
        for d in range(10):
            self.other_combo.addItem(str(d), d)
        self.other_combo.setEnabled(False)
        for control in (self.digit_combo, self.other_combo):
            control.currentIndexChanged.connect(self._refresh)
        self.compare_box.toggled.connect(self.other_combo.setEnabled)
        self.compare_box.toggled.connect(self._refresh)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Evidence for"))
        controls.addWidget(self.digit_combo)
        controls.addWidget(self.compare_box)
        controls.addWidget(self.other_combo)
        controls.addStretch(1)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.picture = TileGrid(columns=1, min_tile=120, captions=False)
        self.picture.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.picture.setToolTip("Red: this part of your drawing counts for the digit; blue: against it.")
        self.filter_tiles = TileGrid(columns=8, min_tile=32)
        self.filter_tiles.setToolTip("The same evidence through each filter; the tiles add up to the big map.")
        self.bars = self._build_bars()

        per_filter = self.per_filter_box = QGroupBox(PER_FILTER_TITLE)
        per_filter_layout = QVBoxLayout(per_filter)
        per_filter_layout.addWidget(self.filter_tiles, 1)
        per_filter_layout.addWidget(self.bars, 1)
        panes = QHBoxLayout()
        picture_box = QGroupBox("Over the network input")
        QVBoxLayout(picture_box).addWidget(self.picture)
        panes.addWidget(picture_box, 2)
        panes.addWidget(per_filter, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.summary)
        layout.addLayout(panes, 1)

        self._model = None
        self._image = None
        self._shown = None            # (A, B or None, cells (13, 13, F), bar values (F,), bias)
        self._ticks = 0               # filter count the bar axis is labelled for
        self.show_state(None, None)

    def _build_bars(self):
        plot = pg.PlotWidget(background=None)
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(False, False)
        plot.hideButtons()
        plot.setMinimumHeight(100)
        plot.addLine(y=0, pen=pg.mkPen("#9aa0aa"))
        self.bar_item = pg.BarGraphItem(x=[], height=[], width=0.7)
        plot.addItem(self.bar_item)
        plot.getViewBox().disableAutoRange()   # set from the bars in round steps: one paint per refresh
        self._bar_range = None
        return plot

    # ---- public API ---------------------------------------------------------------------------
    def show_state(self, model, image) -> None:
        """The model and the network's input (28, 28) 0..255, or None for a blank pad."""
        self._model, self._image = model, image
        self._refresh()

    def set_digits(self, a: int, b: int | None = None) -> None:
        """Show digit a's evidence (AUTO: the prediction), or a rather than b when b is given."""
        self.digit_combo.setCurrentIndex(self.digit_combo.findData(a))
        self.compare_box.setChecked(b is not None)
        if b is not None:
            self.other_combo.setCurrentIndex(self.other_combo.findData(b))
        self._refresh()

    def shown(self):
        """(A, B or None, cells (13, 13, F), per-filter bar values (F,), bias) last drawn, or None."""
        return self._shown

    # ---- drawing ------------------------------------------------------------------------------
    def _refresh(self) -> None:
        model, image = self._model, self._image
        if model is None or image is None:
            self._shown = None
            self.summary.setText("Draw a digit to see which parts of it count for and against each digit.")
            self.picture.set_placeholder("—")
            self.filter_tiles.set_placeholder("")
            self.filter_tiles.set_tiles([])
            self.bar_item.setOpts(x=[], height=[])
            return
        breakdown = explain.score_breakdown(model, image)
        probabilities = breakdown["probabilities"]
        a = self.digit_combo.currentData()
        a = int(np.argmax(probabilities)) if a == AUTO else a
        b = None
        if self.compare_box.isChecked():
            b = self.other_combo.currentData()
            if b == AUTO:
                order = np.argsort(-probabilities, kind="stable")
                b = int(order[1] if order[0] == a else order[0])
        if b is None:
            cells = explain.evidence(model, image, a)  # (13, 13, F)
            bars, bias = breakdown["contributions"][a], breakdown["biases"][a]
            score = breakdown["logits"][a]
            self.summary.setText(
                f"Score of {a} = bias {bias:+.2f} + the {len(bars)} filter sums = {score:+.2f} "
                f"(probability {probabilities[a]:.1%}). Red cells count for {a}, blue against.")
        else:
            cells = explain.evidence_difference(model, image, a, b)
            bars = breakdown["contributions"][a] - breakdown["contributions"][b]
            bias = breakdown["biases"][a] - breakdown["biases"][b]
            gap = breakdown["logits"][a] - breakdown["logits"][b]
            self.summary.setText(
                f"Why {a} rather than {b}: score {a} − score {b} = {gap:+.2f} = bias difference "
                f"{bias:+.2f} + the filter sums. Red cells favour {a}, blue favour {b}.")
        self.per_filter_box.setTitle(PER_FILTER_TITLE if b is None else PER_FILTER_DIFFERENCE)
        self._shown = (a, b, cells, bars, bias)
        self._draw(image, cells, bars, bias)

    def _draw(self, image, cells, bars, bias) -> None:
        total = cells.sum(axis=2)  # (13, 13)
        limit = symmetric_limit(total)
        self.picture.set_tiles([evidence_rgb(image, total, limit)], tooltip=self._describe_pixel)
        self.picture.set_placeholder("")
        per_filter = np.moveaxis(cells, -1, 0)  # (F, 13, 13)
        colours = diverging_rgb(per_filter, symmetric_limit(per_filter))  # (F, 13, 13, 3), one call
        self.filter_tiles.set_tiles(
            list(colours),
            labels=[f"{v:+.1f}" for v in bars],
            tooltip=lambda f, r, c: f"Filter {f + 1}, cell ({r + 1}, {c + 1}): {per_filter[f, r, c]:+.3f}")
        self.filter_tiles.set_placeholder("")
        heights = np.append(bars, bias)
        brushes = [BAR_FOR if v >= 0 else BAR_AGAINST for v in bars] + [BAR_BIAS]
        x = np.arange(1, len(heights) + 1)
        self.bar_item.setOpts(x=x, height=heights, brushes=brushes)
        bar_range = (0.4, len(heights) + 0.6), snapped_range(min(0.0, heights.min()), max(0.0, heights.max()),
                                                             steps=5, min_span=0.1)
        if bar_range != self._bar_range:
            self._bar_range = bar_range
            self.bars.getViewBox().setRange(xRange=bar_range[0], yRange=bar_range[1], padding=0.05)
        if self._ticks != len(bars):
            self._ticks = len(bars)
            self.bars.getAxis("bottom").setTicks(
                [[(i, str(i)) for i in range(1, len(bars) + 1)] + [(len(bars) + 1, "bias")]])

    def _describe_pixel(self, tile, row, col) -> str:
        if self._shown is None or not (1 <= row <= 26 and 1 <= col <= 26):
            return "Outside every pooled window"
        cells = self._shown[2]
        r, c = (row - 1) // 2, (col - 1) // 2
        return f"Pooled cell ({r + 1}, {c + 1}): {cells[r, c].sum():+.3f} (all filters)"

"""Click any number, see its arithmetic: a feature-map pixel, a pooled cell or a probability.

The numbers come from core.explain; this module only lays them out. Arrow keys slide the
selected window over the map (the view takes focus when something is selected).
"""
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QGroupBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget,
)

from core import explain
from gui.views.colormap import diverging_rgb, paper_rgb, symmetric_limit
from gui.views.digit_buttons import digit_button_row
from gui.views.tiles import HIGHLIGHT, TileGrid, rgb_to_qimage

WINNER = QColor("#2e9e44")
PROMPT = ("Click a pixel of a feature map (above), a cell of a pooled map, or a digit's score "
          "to see the arithmetic that made it.")


@dataclass(frozen=True)
class Selection:
    """What the user clicked: kind "conv" (filter, row, col), "pool" (filter, row, col) or "score" (digit)."""

    kind: str
    index: int                 # filter, or digit for "score"
    row: int = 0
    col: int = 0

    def moved(self, d_row: int, d_col: int) -> "Selection":
        side = {"conv": explain.CONV_SIDE, "pool": explain.POOLED_SIDE}.get(self.kind)
        if side is None:
            return self
        return Selection(self.kind, self.index, min(max(self.row + d_row, 0), side - 1),
                         min(max(self.col + d_col, 0), side - 1))


class WindowPicture(QWidget):
    """A small image with one rectangle outlined (the window) and optionally one cell marked."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._image = None
        self._box = None           # (row, col, height, width) in image pixels
        self._mark = None          # (row, col)
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(150, 150)

    def set_picture(self, rgb, box=None, mark=None) -> None:
        self._image = None if rgb is None else rgb_to_qimage(rgb)
        self._box, self._mark = box, mark
        self.update()

    def paintEvent(self, event):
        if self._image is None:
            return
        painter = QPainter(self)
        side = min(self.width(), self.height())
        target = QRectF(0, 0, side, side)
        painter.drawImage(target, self._image)
        scale = side / self._image.width()
        if self._box is not None:
            row, col, height, width = self._box
            painter.setPen(QPen(HIGHLIGHT, 2))
            painter.drawRect(QRectF(col * scale, row * scale, width * scale, height * scale))
        if self._mark is not None:
            row, col = self._mark
            painter.setPen(QPen(WINNER, 2))
            painter.drawEllipse(QRectF((col + 0.2) * scale, (row + 0.2) * scale, 0.6 * scale, 0.6 * scale))


def number_grid(values, digits=3, mark=None) -> str:
    """A small HTML table of the numbers; `mark` (row, col) is shown bold and green."""
    rows = []
    for r, line in enumerate(np.atleast_2d(values)):
        cells = []
        for c, value in enumerate(line):
            text = f"{value:+.{digits}f}"
            if mark == (r, c):
                text = f"<b style='color:{WINNER.name()}'>{text}</b>"
            cells.append(f"<td align='right' style='padding:0 4px'>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table style='border:1px solid #9aa0aa' cellspacing='0'>" + "".join(rows) + "</table>"


def conv_text(result, selection: Selection) -> str:
    f, row, col = selection.index + 1, selection.row + 1, selection.col + 1
    return (f"<b>Feature map {f}, pixel ({row}, {col})</b> = the 3x3 patch of the network input under "
            f"the window (pixel / 255 − 0.5), times filter {f}, summed:"
            "<table><tr><td>patch</td><td></td><td>filter</td></tr><tr>"
            f"<td>{number_grid(result['patch'])}</td><td>×</td><td>{number_grid(result['filter'])}</td></tr>"
            "<tr><td>products</td></tr>"
            f"<tr><td>{number_grid(result['products'])}</td></tr></table>"
            f"sum of the nine products = <b>{result['sum']:+.4f}</b>; the network's own value: "
            f"{result['value']:+.4f}.<br>Arrow keys slide the window.")


def pool_text(result, selection: Selection) -> str:
    f, row, col = selection.index + 1, selection.row + 1, selection.col + 1
    top, left = result["origin"]
    win_r, win_c = result["winner"]
    return (f"<b>Pooled map {f}, cell ({row}, {col})</b> = the largest of the 2x2 window of feature "
            f"map {f} at rows {top + 1}-{top + 2}, columns {left + 1}-{left + 2}:"
            f"{number_grid(result['window'], 4, mark=result['winner'])}"
            f"max = <b>{result['value']:+.4f}</b> (the winner, at ({top + win_r + 1}, {left + win_c + 1})).<br>"
            "In training, the gradient reaches only the winner: the other three values did not "
            "change the output, so nudging them changes nothing (on a tie, the first in reading order "
            "wins). Arrow keys slide the window.")


def score_text(breakdown, digit: int) -> str:
    contributions = breakdown["contributions"][digit]
    bias, logit = breakdown["biases"][digit], breakdown["logits"][digit]
    soft = explain.softmax_arithmetic(breakdown["logits"])
    rows = [("bias", bias)] + [(f"filter {f + 1}", v) for f, v in enumerate(contributions)]
    terms = "".join(f"<tr><td>{'' if i == 0 else '+'}</td><td>{name}</td><td align='right'>{value:+.3f}</td></tr>"
                    for i, (name, value) in enumerate(rows))
    exps = " + ".join(f"{e:.3g}" for e in soft["exps"])
    return (f"<b>Digit {digit}</b>: score = bias + one sum per filter (weight × pooled value over "
            "its 13x13 cells):"
            f"<table cellspacing='0' cellpadding='1'>{terms}"
            f"<tr><td>=</td><td>score</td><td align='right'><b>{logit:+.3f}</b></td></tr></table>"
            f"Softmax: probability = e<sup>score − top score</sup> / sum over the ten digits<br>"
            f"= e<sup>{logit:+.3f} − {breakdown['logits'].max():+.3f}</sup> / ({exps})<br>"
            f"= {soft['exps'][digit]:.4g} / {soft['total']:.4g} = <b>{soft['probabilities'][digit]:.2%}</b>")


class ArithmeticView(QWidget):
    """The pooled maps (clickable), digit score buttons, and the arithmetic of what was clicked."""

    selectionChanged = Signal(object)   # Selection

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.pooled_grid = TileGrid(columns=8, min_tile=34)
        self.pooled_grid.setToolTip("The 13x13 pooled maps: the largest value of each 2x2 window of a "
                                    "feature map. Click a cell to see how it was chosen.")
        self.pooled_grid.pixelClicked.connect(lambda f, r, c: self.select(Selection("pool", f, r, c)))
        pooled_box = QGroupBox("Pooled maps (13x13), click a cell")
        QVBoxLayout(pooled_box).addWidget(self.pooled_grid)

        self.digit_buttons, digits_row = digit_button_row(
            self, lambda d: f"How the network's score and probability for {d} are made")
        digits_row.insertWidget(0, QLabel("Score of digit"))
        self.digit_buttons.idClicked.connect(lambda d: self.select(Selection("score", d)))

        self.picture = WindowPicture()
        self.text = QLabel(PROMPT)
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        detail = QHBoxLayout()
        detail.addWidget(self.picture, 0, Qt.AlignmentFlag.AlignTop)
        detail.addWidget(self.text, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(pooled_box, 1)
        layout.addLayout(digits_row)
        layout.addLayout(detail, 2)
        self._model = None
        self._image = None
        self._selection: Selection | None = None

    # ---- public API ---------------------------------------------------------------------------
    def show_state(self, model, image) -> None:
        """The model and the network's input (28, 28) 0..255, or None for a blank pad."""
        self._model, self._image = model, image
        if image is None:
            self.pooled_grid.set_placeholder("Draw a digit to see its pooled maps")
            self.picture.set_picture(None)
            self.text.setText(PROMPT)
            return
        pooled = explain.forward(model, image).pooled  # (13, 13, F)
        tiles = np.moveaxis(pooled.astype(np.float64), -1, 0)  # (F, 13, 13)
        limit = symmetric_limit(tiles)
        self.pooled_grid.set_tiles([diverging_rgb(t, limit) for t in tiles],
                                   tooltip=lambda f, r, c: f"Pooled map {f + 1} at ({r + 1}, {c + 1}): "
                                                           f"{tiles[f, r, c]:+.3f} (click for the arithmetic)")
        self.pooled_grid.set_placeholder("")
        self._render()

    def select(self, selection: Selection) -> None:
        self._selection = selection
        self.setFocus()
        self._render()
        if selection.kind == "pool":
            self.pooled_grid.set_highlight(selection.index, selection.row, selection.col)
        else:
            self.pooled_grid.set_highlight(None)
        self.selectionChanged.emit(selection)

    def selection(self) -> Selection | None:
        return self._selection

    def shown_text(self) -> str:
        return self.text.text()

    # ---- keys and drawing ---------------------------------------------------------------------
    def keyPressEvent(self, event):
        steps = {Qt.Key.Key_Left: (0, -1), Qt.Key.Key_Right: (0, 1), Qt.Key.Key_Up: (-1, 0),
                 Qt.Key.Key_Down: (1, 0)}
        step = steps.get(event.key())
        if step is not None and self._selection is not None and self._selection.kind != "score":
            self.select(self._selection.moved(*step))
            return
        super().keyPressEvent(event)

    def _render(self) -> None:
        selection, model, image = self._selection, self._model, self._image
        if selection is None or image is None or model is None:
            return
        if selection.index >= model.num_filters and selection.kind != "score":
            self._selection = selection = Selection(selection.kind, 0, selection.row, selection.col)
        self.picture.setVisible(selection.kind != "score")
        if selection.kind == "conv":
            result = explain.conv_arithmetic(model, image, selection.index, selection.row, selection.col)
            self.picture.set_picture(paper_rgb(image), box=(selection.row, selection.col, 3, 3))
            self.text.setText(conv_text(result, selection))
        elif selection.kind == "pool":
            result = explain.pool_arithmetic(model, image, selection.index, selection.row, selection.col)
            maps = explain.forward(model, image).conv[..., selection.index].astype(np.float64)  # (26, 26)
            top, left = result["origin"]
            winner = (top + result["winner"][0], left + result["winner"][1])
            self.picture.set_picture(diverging_rgb(maps, symmetric_limit(maps)), box=(top, left, 2, 2),
                                     mark=winner)
            self.text.setText(pool_text(result, selection))
        else:
            self.picture.set_picture(None)
            self.text.setText(score_text(explain.score_breakdown(model, image), selection.index))

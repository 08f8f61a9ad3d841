"""The network's answer: the predicted digit, large, and the ten probabilities as bars."""
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout

from core.mnist_format import NUM_CLASSES

BAR = "#7f8da3"
BAR_WINNER = "#d9544d"
BLANK_TEXT = "Draw a digit"


class PredictionView(QGroupBox):
    """Shows `set_probabilities(p (10,))`, or a prompt for a blank canvas (never a guess).

    Clicking a digit's bar emits digitClicked(digit).
    """

    digitClicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__("Prediction", parent)
        self.digit_label = QLabel()
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 5)
        font.setBold(True)
        self.digit_label.setFont(font)
        self.digit_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.digit_label.setMinimumWidth(80)
        self.confidence_label = QLabel()
        self.confidence_label.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.plot = pg.PlotWidget(background=None)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.setYRange(0, 1, padding=0.02)
        self.plot.setXRange(-0.6, NUM_CLASSES - 0.4, padding=0)
        self.plot.getAxis("bottom").setTicks([[(d, str(d)) for d in range(NUM_CLASSES)]])
        self.plot.getAxis("left").setTicks([[(v, f"{v:.0%}") for v in (0, 0.5, 1)]])
        self.plot.setMinimumSize(170, 110)
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.bars = pg.BarGraphItem(x=np.arange(NUM_CLASSES), height=np.zeros(NUM_CLASSES), width=0.7, brush=BAR, pen=None)
        self.plot.addItem(self.bars)
        self.plot.scene().sigMouseClicked.connect(self._clicked)

        answer = QVBoxLayout()
        answer.addStretch(1)
        answer.addWidget(self.digit_label)
        answer.addWidget(self.confidence_label)
        answer.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addLayout(answer)
        layout.addWidget(self.plot, 1)
        self.setToolTip("The digit the network thinks you drew and how sure it is of each digit.")
        self._probabilities = None
        self.set_probabilities(None)

    def set_probabilities(self, probabilities: np.ndarray | None) -> None:
        """probabilities (10,) summing to 1, or None when there is nothing to recognise."""
        if probabilities is None:
            self._probabilities = None
            self.digit_label.setText("–")
            self.confidence_label.setText(BLANK_TEXT)
            self.bars.setOpts(height=np.zeros(NUM_CLASSES), brushes=[BAR] * NUM_CLASSES)
            return
        self._probabilities = np.asarray(probabilities, dtype=np.float64)   # (10,)
        digit = int(np.argmax(self._probabilities))
        self.digit_label.setText(str(digit))
        self.confidence_label.setText(f"{self._probabilities[digit]:.0%} sure")
        brushes = [BAR_WINNER if d == digit else BAR for d in range(NUM_CLASSES)]
        self.bars.setOpts(height=self._probabilities, brushes=brushes)

    def _clicked(self, event) -> None:
        if self._probabilities is None:
            return
        x = self.plot.plotItem.vb.mapSceneToView(event.scenePos()).x()
        digit = int(round(x))
        if 0 <= digit <= 9 and abs(x - digit) <= 0.5:
            self.digitClicked.emit(digit)

    def shown_digit(self) -> int | None:
        return None if self._probabilities is None else int(np.argmax(self._probabilities))

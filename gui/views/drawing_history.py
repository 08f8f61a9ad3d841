"""Your drawing through the run: what the network said about the pad's digit at each step.

One line per digit that matters: the drawing's digit (thick) and its top rivals (thin); a
vertical cursor marks the step the time machine shows. The window feeds it whole series
(recomputed from the history when the drawing changes, core.replay.probabilities_through_run)
and single live points while training runs.
"""
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QVBoxLayout, QWidget

from core.replay import top_rivals
from gui.views.axis_range import snapped_range
from gui.views.redraw import RedrawThrottle

RIVALS = 3
DIGIT_COLOUR = "#d9544d"
RIVAL_COLOURS = ("#3b6fb6", "#4f9a5a", "#b07d2b")
PADDING = 0.02                      # of each axis's range, both axes


class DrawingHistoryChart(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = pg.PlotWidget(background=None)
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "probability", units="%")
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.setYRange(0, 100, padding=PADDING)
        self.plot.getViewBox().disableAutoRange()         # x follows the steps in round numbers (_redraw)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMinimumSize(200, 140)
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#555", width=1, style=pg.QtCore.Qt.PenStyle.DashLine))
        self.plot.addItem(self.cursor)
        self._lines = [self.plot.plot([], []) for _ in range(1 + RIVALS)]
        for line in self._lines:        # a run has thousands of steps; thick antialiased lines through
            line.setDownsampling(auto=True, method="peak")   # all of them took ~20 ms a repaint
            line.setClipToView(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.setToolTip("What the network thought of your drawing at each step of the run: the drawing's "
                        "digit (thick) and its strongest rivals. Draw something else to recompute it "
                        "from the run's history.")
        self._steps: list[int] = []
        self._probs: list[np.ndarray] = []
        self._digit: int | None = None
        self._rivals: list[int] = []
        self._throttle = RedrawThrottle(self._redraw_live, parent=self)    # live points: ~4 redraws a second
        self.clear("Draw a digit, then train: its probabilities appear here")

    def sizeHint(self) -> QSize:
        return QSize(420, 200)

    # ---- input ------------------------------------------------------------------------------
    def clear(self, message: str = "") -> None:
        self._steps, self._probs, self._digit, self._rivals = [], [], None, []
        self._shown_digit = None                            # the digit drawn thick (chosen with the rivals)
        self._batches = 0                                   # live batches since the series was set
        self._choose_pending = False
        self._throttle.cancel()
        for line in self._lines:
            line.setData([], [])
        self.cursor.hide()
        self.plot.setTitle(message, size="9pt")
        self._axes_shown = None
        self._x_range = None
        self._show_axes(False)          # no series: no axes that would mean nothing

    def _show_axes(self, shown: bool) -> None:
        """Values, label, grid and line of both axes; restyled only on a change (it lays them out anew)."""
        if shown == self._axes_shown:
            return
        self._axes_shown = shown
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setStyle(showValues=shown)
            axis.showLabel(shown)
            axis.setGrid(int(0.25 * 255) if shown else False)
            axis.setPen(pg.mkPen(pg.getConfigOption("foreground")) if shown else pg.mkPen(None))

    def set_series(self, steps, probabilities: np.ndarray, digit: int | None = None) -> None:
        """steps (K,), probabilities (K, 10); `digit` the drawing's digit (default: the last answer)."""
        self._steps = [int(s) for s in steps]
        self._probs = list(np.asarray(probabilities, dtype=np.float64))
        self._digit = digit
        self._batches = 0
        self._choose_pending = False
        self._throttle.cancel()
        self._redraw(choose=True)

    def append(self, step: int, probabilities: np.ndarray) -> None:
        """One live point (10,); see extend."""
        self.extend([step], np.asarray(probabilities)[None])

    def extend(self, steps, probabilities: np.ndarray) -> None:
        """Live points, steps (k,) and probabilities (k, 10); steps not after the newest are skipped.
        The rivals shown are chosen again from the whole series every few batches."""
        added = 0
        for step, row in zip(steps, np.asarray(probabilities, dtype=np.float64)):
            if not self._steps or step > self._steps[-1]:
                self._steps.append(int(step))
                self._probs.append(row)
                added += 1
        if added:
            self._batches += 1
            self._choose_pending |= self._batches % 10 == 1    # the first batch, then every tenth
            self._throttle.request()

    def flush(self) -> None:
        """Draw the live points added so far now, not at the throttle's next turn."""
        self._throttle.flush()

    def _redraw_live(self) -> None:
        choose, self._choose_pending = self._choose_pending, False
        self._redraw(choose)

    def set_cursor(self, step: int | None) -> None:
        if step is None:
            self.cursor.hide()
        else:
            self.cursor.setValue(step)
            self.cursor.show()

    # ---- reading (tests) --------------------------------------------------------------------
    def steps(self) -> np.ndarray:
        """The steps of the series, live points included (drawn or about to be)."""
        return np.array(self._steps, dtype=np.int64)

    def probabilities(self) -> np.ndarray:
        return np.array(self._probs).reshape(-1, 10)

    def digit(self) -> int | None:
        """The digit drawn thick: the given one, else the latest answer."""
        self.flush()
        return self._shown_digit

    def rivals(self) -> list[int]:
        self.flush()
        return list(self._rivals)

    # ---- drawing ----------------------------------------------------------------------------
    def _chosen_digit(self) -> int | None:
        if self._digit is not None:
            return self._digit
        return int(np.argmax(self._probs[-1])) if self._probs else None

    def _redraw(self, choose: bool) -> None:
        if not self._steps:
            return
        self._show_axes(True)
        probs = self.probabilities()                                  # (K, 10)
        if choose or self._chosen_digit() != self._shown_digit:   # the thick line follows the answer
            self._shown_digit = self._chosen_digit()
            self._rivals = top_rivals(probs, self._shown_digit, RIVALS)
            rivals = ", ".join(f"<span style='color:{c}'>{d}</span>" for d, c in zip(self._rivals, RIVAL_COLOURS))
            self.plot.setTitle(f"Your drawing through the run: <b style='color:{DIGIT_COLOUR}'>"
                               f"{self._shown_digit}</b> (thick) vs rivals {rivals}", size="9pt")
        x = np.array(self._steps)
        x_range = snapped_range(min(0, int(x[0])), int(x[-1]), min_span=1)   # from the run's start
        if x_range != self._x_range:
            self._x_range = x_range
            self.plot.setXRange(*x_range, padding=PADDING)
        for i, (line, d) in enumerate(zip(self._lines, [self._shown_digit, *self._rivals])):
            colour = DIGIT_COLOUR if i == 0 else RIVAL_COLOURS[i - 1]
            line.setPen(pg.mkPen(colour, width=3 if i == 0 else 1.5))
            line.setData(x, 100 * probs[:, d])

"""Marks laid over the training curves: the time machine's cursor and learning-rate changes.

Kept apart from gui.views.curves so the curves stay a plain plot of the progress; x is the
curves' own axis (fractional epoch).
"""
import pyqtgraph as pg
from PySide6.QtCore import Qt

CURSOR_PEN = pg.mkPen("#555555", width=1, style=Qt.PenStyle.DashLine)
RATE_PEN = pg.mkPen("#8a5cc2", width=1.5, style=Qt.PenStyle.DotLine)


class CurveMarks:
    """Adds a cursor and labelled learning-rate lines to TrainingCurves' loss and accuracy plots."""

    def __init__(self, curves):
        self._curves = curves                                  # keeps the plots alive as long as the marks
        self._plots = (curves.loss_plot, curves.accuracy_plot)
        self._cursors = [pg.InfiniteLine(angle=90, movable=False, pen=CURSOR_PEN) for _ in self._plots]
        for plot, cursor in zip(self._plots, self._cursors):
            plot.addItem(cursor, ignoreBounds=True)
            cursor.hide()
        self._rate_lines: list[tuple[object, pg.InfiniteLine]] = []
        self.rate_changes: list[tuple[float, float]] = []      # (x, new learning rate)

    def set_cursor(self, x: float | None) -> None:
        for cursor in self._cursors:
            if x is None:
                cursor.hide()
            else:
                cursor.setValue(x)
                cursor.show()

    def cursor_x(self) -> float | None:
        cursor = self._cursors[0]
        return float(cursor.value()) if cursor.isVisible() else None

    def mark_learning_rate(self, x: float, rate: float) -> None:
        """A labelled vertical line where the learning rate was changed to `rate`."""
        self.rate_changes.append((x, rate))
        for plot in self._plots:
            line = pg.InfiniteLine(pos=x, angle=90, movable=False, pen=RATE_PEN,
                                   label=f"lr {rate:g}", labelOpts={"position": 0.92, "color": "#8a5cc2"})
            plot.addItem(line, ignoreBounds=True)
            self._rate_lines.append((plot, line))

    def clear(self) -> None:
        for plot, line in self._rate_lines:
            plot.removeItem(line)
        self._rate_lines.clear()
        self.rate_changes.clear()
        self.set_cursor(None)

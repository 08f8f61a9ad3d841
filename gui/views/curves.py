"""Live loss and accuracy curves of a training run (pyqtgraph).

Axes show plain numbers (no SI scaling such as "x0.001"); the key to the two series sits in each
plot's title, so it never covers a point; before the first run each plot says there is no data yet
instead of showing empty axes.
"""
import math

import pyqtgraph as pg
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QHBoxLayout, QWidget

from gui.views.axis_range import snapped_range
from gui.views.redraw import RedrawThrottle

TRAIN_COLOUR, TEST_COLOUR = "#3b6fb6", "#d9544d"
TRAIN_PEN = pg.mkPen(TRAIN_COLOUR, width=2)
TEST_BRUSH = pg.mkBrush(TEST_COLOUR)
NO_DATA_TEXT = "No data yet.\nTrain (F5) to see the curves."
AXES = ("left", "bottom")
NO_DATA_WIDTH = 200
PADDING = 0.05
SINGLE_POINT_MIN_SPAN = 0.01   # epochs shown when the only point sits at 0
MIN_LOSS_SPAN = 0.01
ACCURACY_RANGE = (0, 100)


def title_with_key(title: str) -> str:
    return (f"{title} &nbsp; <span style='color:{TRAIN_COLOUR}'>━ training</span>"
            f" &nbsp; <span style='color:{TEST_COLOUR}'>● test</span>")


def _make_plot(title: str, y_label: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(background=None)
    plot.setTitle(title_with_key(title), size="10pt")
    plot.setLabel("bottom", "epoch")
    plot.setLabel("left", y_label)
    for name in AXES:
        plot.getAxis(name).enableAutoSIPrefix(False)
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setMenuEnabled(False)
    plot.getViewBox().setDefaultPadding(PADDING)   # a test dot at the last epoch stays whole
    plot.setMinimumSize(200, 140)
    return plot


class TrainingCurves(QWidget):
    """Running training loss/accuracy per update, test figures as dots at each epoch's end."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.loss_plot = _make_plot("Loss", "cross-entropy")
        self.accuracy_plot = _make_plot("Accuracy", "%")
        self._train_loss = self.loss_plot.plot([], [], pen=TRAIN_PEN)
        self._test_loss = self.loss_plot.plot([], [], pen=None, symbol="o", symbolSize=7, symbolBrush=TEST_BRUSH)
        self._train_acc = self.accuracy_plot.plot([], [], pen=TRAIN_PEN)
        self._test_acc = self.accuracy_plot.plot([], [], pen=None, symbol="o", symbolSize=7,
                                                 symbolBrush=TEST_BRUSH)
        self._no_data = {}
        self._empty_shown = None                                      # the empty state the axes show
        self._throttle = RedrawThrottle(self._redraw, parent=self)    # at most ~4 redraws a second
        for plot in self.plots():
            text = pg.TextItem(anchor=(0.5, 0.5))
            text.setTextWidth(NO_DATA_WIDTH)   # lets the lines centre
            text.setHtml(f"<div style='text-align:center; color:#6b7280'>{NO_DATA_TEXT.replace(chr(10), '<br>')}</div>")
            text.setPos(0.5, 0.5)
            plot.addItem(text, ignoreBounds=True)
            self._no_data[plot] = text
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot)
        layout.addWidget(self.accuracy_plot)
        self.setToolTip("Blue: running average on recent training batches. Red dots: the test set, "
                        "after each epoch.")
        self.clear()

    def plots(self) -> tuple[pg.PlotWidget, pg.PlotWidget]:
        return self.loss_plot, self.accuracy_plot

    def sizeHint(self) -> QSize:
        """Modest, so the scrolling Training tab fits its viewport and only grows the plots into spare room.

        (pyqtgraph's own hint is ~480 px tall; a word-wrapped label makes the tab's layout
        height-for-width, and the scroll area then sizes the tab by its children's hints.)
        """
        return QSize(420, 160)

    def clear(self) -> None:
        self._points = {"train_x": [], "train_loss": [], "train_acc": [],
                        "test_x": [], "test_loss": [], "test_acc": []}
        self._throttle.cancel()
        self._redraw()

    def add_progress(self, progress) -> None:
        """Append one core.train.Progress."""
        x = progress.epoch - 1 + progress.step / max(progress.steps_per_epoch, 1)   # fractional epoch
        points = self._points
        if progress.kind == "epoch":
            if progress.test_accuracy is not None:
                points["test_x"].append(x)
                points["test_loss"].append(progress.test_loss)
                points["test_acc"].append(100 * progress.test_accuracy)
        else:
            points["train_x"].append(x)
            points["train_loss"].append(progress.loss)
            points["train_acc"].append(100 * progress.accuracy)
        self._throttle.request()

    def flush(self) -> None:
        """Draw the points added so far now, not at the throttle's next turn."""
        self._throttle.flush()

    def point_count(self) -> int:
        return len(self._points["train_x"]) + len(self._points["test_x"])

    def is_empty(self) -> bool:
        """True while the plots show their "no data yet" state."""
        return self.point_count() == 0

    def _redraw(self) -> None:
        p = self._points
        self._train_loss.setData(p["train_x"], p["train_loss"])
        self._train_acc.setData(p["train_x"], p["train_acc"])
        self._test_loss.setData(p["test_x"], p["test_loss"])
        self._test_acc.setData(p["test_x"], p["test_acc"])
        empty = self.is_empty()
        if empty != self._empty_shown:
            self._show_empty_state(empty)
        if not empty:
            self._follow_the_data()

    def _show_empty_state(self, empty: bool) -> None:
        """Without data: a sentence in place of axes, ticks and grid that would mean nothing."""
        self._empty_shown = empty
        for plot in self.plots():
            self._no_data[plot].setVisible(empty)
            for name in AXES:
                axis = plot.getAxis(name)
                axis.setStyle(showValues=not empty)
                axis.setGrid(False if empty else int(0.25 * 255))
                axis.setPen(pg.mkPen(None) if empty else pg.mkPen(pg.getConfigOption("foreground")))
                axis.showLabel(not empty)
            view = plot.getViewBox()
            view.disableAutoRange()        # the ranges are set from the data, in round steps
            if empty:
                view.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        self._ranges = None

    def _follow_the_data(self) -> None:
        """Epochs from the run's start to a round number past the last point; the loss's range in round
        steps around its values. Set only when they change: one paint, axes laid out once."""
        p = self._points
        x_range = snapped_range(0, max(p["train_x"] + p["test_x"]), min_span=SINGLE_POINT_MIN_SPAN)
        losses = [loss for loss in p["train_loss"] + p["test_loss"] if math.isfinite(loss)]
        loss_range = snapped_range(min(losses), max(losses), min_span=MIN_LOSS_SPAN) if losses else (0, 1)
        if (x_range, loss_range) == self._ranges:
            return
        self._ranges = x_range, loss_range
        self.loss_plot.getViewBox().setRange(xRange=x_range, yRange=loss_range, padding=PADDING)
        self.accuracy_plot.getViewBox().setRange(xRange=x_range, yRange=ACCURACY_RANGE, padding=PADDING)

"""Live loss and accuracy curves of a training run (pyqtgraph)."""
import pyqtgraph as pg
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QHBoxLayout, QWidget

TRAIN_PEN = pg.mkPen("#3b6fb6", width=2)
TEST_BRUSH = pg.mkBrush("#d9544d")


def _make_plot(title: str, y_label: str, legend_offset: tuple[int, int]) -> pg.PlotWidget:
    plot = pg.PlotWidget(background=None)
    plot.setTitle(title)
    plot.setLabel("bottom", "epoch")
    plot.setLabel("left", y_label)
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setMenuEnabled(False)
    plot.setMinimumSize(200, 140)
    plot.addLegend(offset=legend_offset, labelTextSize="8pt")
    return plot


class TrainingCurves(QWidget):
    """Running training loss/accuracy per update, test figures as dots at each epoch's end."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.loss_plot = _make_plot("Loss", "cross-entropy", (-8, 8))          # loss falls: legend top right
        self.accuracy_plot = _make_plot("Accuracy", "%", (-8, -8))             # accuracy rises: bottom right
        self.accuracy_plot.setYRange(0, 100, padding=0.02)
        self._train_loss = self.loss_plot.plot([], [], pen=TRAIN_PEN, name="training")
        self._test_loss = self.loss_plot.plot([], [], pen=None, symbol="o", symbolSize=7,
                                              symbolBrush=TEST_BRUSH, name="test")
        self._train_acc = self.accuracy_plot.plot([], [], pen=TRAIN_PEN, name="training")
        self._test_acc = self.accuracy_plot.plot([], [], pen=None, symbol="o", symbolSize=7,
                                                 symbolBrush=TEST_BRUSH, name="test")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot)
        layout.addWidget(self.accuracy_plot)
        self.setToolTip("Blue: running average on recent training batches. Red dots: the test set, "
                        "after each epoch.")
        self.clear()

    def sizeHint(self) -> QSize:
        """Modest, so the scrolling Training tab fits its viewport and only grows the plots into spare room.

        (pyqtgraph's own hint is ~480 px tall; a word-wrapped label makes the tab's layout
        height-for-width, and the scroll area then sizes the tab by its children's hints.)
        """
        return QSize(420, 200)

    def clear(self) -> None:
        self._points = {"train_x": [], "train_loss": [], "train_acc": [],
                        "test_x": [], "test_loss": [], "test_acc": []}
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
        self._redraw()

    def point_count(self) -> int:
        return len(self._points["train_x"]) + len(self._points["test_x"])

    def _redraw(self) -> None:
        p = self._points
        self._train_loss.setData(p["train_x"], p["train_loss"])
        self._train_acc.setData(p["train_x"], p["train_acc"])
        self._test_loss.setData(p["test_x"], p["test_loss"])
        self._test_acc.setData(p["test_x"], p["test_acc"])

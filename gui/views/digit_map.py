"""A map of digits: the test sample and the user's own samples placed by the PCA of their pooled
maps, coloured by digit, with the drawing on the pad as a star that moves as you draw.

The pooled maps of 2,000 images are computed a slice at a time (gui.background.slices) when the
map is shown after the model changed; the PCA itself (core.digitmap) takes milliseconds.
Clicking a dot puts that digit on the pad.
"""
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from core import digitmap, filterlab
from core.mnist_format import IMAGE_SHAPE
from gui.background.slices import SlicedJob

# Ten distinguishable colours (the "tab10" qualitative palette).
DIGIT_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def legend_html() -> str:
    swatches = " ".join(f"<span style='color:{colour}'>●</span>&nbsp;{d}" for d, colour in enumerate(DIGIT_COLOURS))
    return (f"{swatches} &nbsp; ■ your samples &nbsp; <span style='font-size:large'>★</span> your drawing")


def _map_steps(model, images):
    """Pooled features a chunk at a time, then the PCA a product at a time; finally
    (projection, points (N, 2), share of the variation the two directions hold)."""
    features = projection = None
    for features in filterlab.pooled_feature_steps(model, images):
        yield None
    for projection in digitmap.principal_component_steps(features):
        yield None
    points = projection.project(features)  # (N, 2)
    yield None
    share = projection.variance.sum() / max(float(features.var(axis=0, ddof=1).sum()), 1e-12)
    yield projection, points, share


class DigitMapView(QWidget):
    """Scatter plot of the pooled features' two main directions."""

    imageChosen = Signal(object)   # (28, 28) image of a clicked dot
    mapReady = Signal()

    def __init__(self, load_test_sample, parent=None):
        super().__init__(parent)
        self._load_test = load_test_sample
        self._model = None
        self._own = (np.zeros((0, *IMAGE_SHAPE), np.uint8), np.zeros(0, np.uint8))
        self._images = None           # (N, 28, 28) the dots' images, test sample then own samples
        self._projection = None
        self._points = None           # (N, 2)
        self._stale = True
        self.job = SlicedJob(self)
        self.job.finished.connect(self._features_ready)

        self.status = QLabel()
        self.status.setWordWrap(True)
        legend = QLabel(legend_html())
        self.plot = pg.PlotWidget(background=None)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setLabel("bottom", "first main direction")
        self.plot.setLabel("left", "second main direction")
        self.dots = pg.ScatterPlotItem(size=5, pen=None, hoverable=True)
        self.dots.sigClicked.connect(self._dot_clicked)
        self.own_dots = pg.ScatterPlotItem(size=9, symbol="s", pen=pg.mkPen("#30343b", width=1))
        self.own_dots.sigClicked.connect(self._dot_clicked)
        self.marker = pg.ScatterPlotItem(size=22, symbol="star", brush="#ffd400", pen=pg.mkPen("#30343b", width=1.5))
        for item in (self.dots, self.own_dots, self.marker):
            self.plot.addItem(item)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(legend)
        layout.addWidget(self.plot, 1)
        self._image = None

    # ---- public API ---------------------------------------------------------------------------
    def set_own_samples(self, images, labels) -> None:
        self._own = (np.asarray(images), np.asarray(labels))
        self._stale = True

    def model_changed(self) -> None:
        self._stale = True

    def show_state(self, model, image) -> None:
        if model is not self._model:
            self._model, self._stale = model, True
        self._image = image
        if self._stale and not self.job.is_running():
            self._start()
        self._place_marker()

    def points(self):
        """(N, 2) coordinates of the dots (test sample, then own samples), or None before the first map."""
        return None if self._points is None else self._points.copy()

    def marker_position(self):
        data = self.marker.data
        return None if len(data) == 0 else (float(data[0]["x"]), float(data[0]["y"]))

    # ---- computing ----------------------------------------------------------------------------
    def _start(self) -> None:
        try:
            test_images, test_labels = self._load_test()
        except Exception as error:  # DataError or an unreadable file: say so, keep everything
            self.status.setText(f"The bundled test sample could not be read, so there is no map: {error}")
            return
        own_images, own_labels = self._own
        self._images = np.concatenate([test_images, own_images.astype(test_images.dtype)])
        self._labels = np.concatenate([test_labels, own_labels.astype(test_labels.dtype)])
        self._own_count = len(own_images)
        self._stale = False
        self.status.setText(f"Placing {len(self._images):,} digits…")
        self._map_model = self._model.copy()
        self.job.start(_map_steps(self._map_model, self._images))

    def _features_ready(self, result) -> None:
        if result is None:
            return
        self._projection, self._points, share = result
        n_test = len(self._points) - self._own_count
        palette = [pg.mkBrush(colour) for colour in DIGIT_COLOURS]   # ten shared brushes: ten symbols to render
        brushes = [palette[int(d)] for d in self._labels]
        self.dots.setData(pos=self._points[:n_test], brush=brushes[:n_test], data=list(range(n_test)))
        self.own_dots.setData(pos=self._points[n_test:], brush=brushes[n_test:],
                              data=list(range(n_test, len(self._points))))
        own = f" and your {self._own_count} samples" if self._own_count else ""
        self.status.setText(f"The {n_test:,} bundled test digits{own}, placed by the two directions in "
                            f"which their pooled maps vary most ({share:.0%} of the variation). "
                            "Click a dot to put that digit on the pad.")
        self._place_marker()
        self.mapReady.emit()

    def _place_marker(self) -> None:
        if self._projection is None or self._image is None:
            self.marker.setData([])
            return
        # The model the map was made with, so the star and the dots are placed alike.
        features = filterlab.pooled_features(self._map_model, np.asarray(self._image)[None], seen=True)  # (1, D)
        x, y = self._projection.project(features)[0]
        self.marker.setData([x], [y])

    def _dot_clicked(self, item, points, event=None) -> None:
        if len(points) and self._images is not None:
            self.imageChosen.emit(self._images[int(points[0].data())].copy())

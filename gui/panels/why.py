"""The "See why" tab: the network's arithmetic and evidence on the user's own drawing.

Sub-tabs: Arithmetic, Evidence, Digit weights, Filter lab, Fool & stress, Digit map. The host
calls show_state(model, image) with every new prediction and model_changed() when the weights
change in place (training); only the sub-tab on screen recomputes, the others are marked stale
and catch up when they are shown.
"""
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget

from core.data import load_sample
from gui.panels.filter_lab import FilterLab
from gui.panels.stress import StressPanel
from gui.views.arithmetic import ArithmeticView, Selection
from gui.views.digit_map import DigitMapView
from gui.views.digit_weights import DigitWeightsView
from gui.views.evidence import EvidenceView


_READER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digitpad-sample")
_SAMPLES = {}


def _read_sample(split: str):
    images, labels = load_sample(split)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def preload_samples() -> None:
    """Start reading the bundled sample's test and train sets in a worker thread (file reading and
    unzipping only: no Qt object is touched there), so the views rarely wait for them."""
    for split in ("test", "train"):
        if split not in _SAMPLES:
            _SAMPLES[split] = _READER.submit(_read_sample, split)


def bundled_sample(split: str):
    """(images, labels) of the bundled MNIST sample, read once; raises DataError when it is missing
    or damaged."""
    preload_samples()
    return _SAMPLES[split].result()


class WhyPanel(QTabWidget):
    """Holds the See why views and keeps the visible one up to date."""

    imageChosen = Signal(object)     # (28, 28) image to put on the pad
    modelEdited = Signal()           # the filter lab changed the model's weights

    def __init__(self, parent=None):
        super().__init__(parent)
        preload_samples()
        self.arithmetic = ArithmeticView()
        self.evidence = EvidenceView()
        self.digit_weights = DigitWeightsView()
        self.filter_lab = FilterLab(lambda: bundled_sample("test"), lambda: bundled_sample("train"))
        self.stress = StressPanel()
        self.digit_map = DigitMapView(lambda: bundled_sample("test"))
        pages = [
            (self.arithmetic, "Arithmetic", "Click a feature-map pixel, a pooled cell or a digit's score to "
                                            "see the sums that made it"),
            (self.evidence, "Evidence", "Which parts of your drawing count for and against a digit"),
            (self.digit_weights, "Digit weights", "What each digit looks for in each filter's pooled map"),
            (self.filter_lab, "Filter lab", "Switch filters off, edit or paint them, and see what changes"),
            (self.stress, "Fool && stress", "Make the network misread your drawing; rotate, shift, thicken, "
                                            "add noise"),
            (self.digit_map, "Digit map", "The test digits placed by what the network makes of them"),
        ]
        for page, title, tip in pages:
            self.setTabToolTip(self.addTab(page, title), tip)
        self._model = None
        self._image = None
        self._stale = set(range(self.count()))
        self.currentChanged.connect(lambda _: self._refresh_current())
        self.digit_map.imageChosen.connect(self.imageChosen)
        # A cell of an evidence tile is a pooled cell: clicking it shows that cell's arithmetic.
        self.evidence.filter_tiles.pixelClicked.connect(
            lambda f, row, col: self.show_arithmetic(Selection("pool", f, row, col)))
        self.filter_lab.modelEdited.connect(self._edited_in_lab)

    # ---- public API ---------------------------------------------------------------------------
    def show_state(self, model, image) -> None:
        """The current model and the network's input (28, 28) 0..255, or None for a blank pad."""
        self._model = model
        self._image = None if image is None else np.asarray(image)
        self._stale = set(range(self.count()))
        self._refresh_current()

    def model_changed(self) -> None:
        """New weights from training, in place: the lab drops its edits; the next show_state redraws."""
        self.digit_map.model_changed()
        if self._model is not None:
            self.filter_lab.set_model(self._model)
        self._stale = set(range(self.count()))

    def set_own_samples(self, images, labels) -> None:
        self.digit_map.set_own_samples(images, labels)
        self._stale.add(self.indexOf(self.digit_map))

    def set_training(self, training: bool) -> None:
        self.filter_lab.set_enabled_for_training(training)

    def show_arithmetic(self, selection: Selection) -> None:
        """Switch to the Arithmetic page and show `selection` (e.g. a clicked feature-map pixel)."""
        self.setCurrentWidget(self.arithmetic)
        self._refresh_current()
        self.arithmetic.select(selection)

    def _edited_in_lab(self) -> None:
        self.digit_map.model_changed()
        self._stale = set(range(self.count()))
        self.modelEdited.emit()          # the host predicts again and calls show_state

    # ---- refreshing ---------------------------------------------------------------------------
    def showEvent(self, event):
        super().showEvent(event)
        self._refresh_current()

    def _refresh_current(self) -> None:
        index = self.currentIndex()
        if self._model is None or index not in self._stale or not self.isVisible():
            return
        self._stale.discard(index)
        self.widget(index).show_state(self._model, self._image)

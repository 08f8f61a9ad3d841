"""From the drawing to the network's answer, throttled so the pen stays smooth.

While the pen moves, `schedule()` coalesces requests into at most one prediction per
interval (a single-shot QTimer); `update_now()` answers at once (pen lifted, weights changed).
"""
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from core.preprocess import prepare_canvas

INTERVAL_MS = 40


@dataclass(frozen=True)
class Prediction:
    image: np.ndarray           # (28, 28) float 0..255: what the network sees
    probabilities: np.ndarray   # (10,)
    feature_maps: np.ndarray    # (26, 26, F)
    drawn: np.ndarray           # (28, 28) the drawing as prepare_canvas laid it out, before the network's input stage

    @property
    def digit(self) -> int:
        return int(np.argmax(self.probabilities))


def predict_prepared(model, prepared: np.ndarray | None) -> Prediction | None:
    """prepare_canvas's (28, 28) result (None: nothing recognisable) -> Prediction or None."""
    if prepared is None:
        return None
    image, probabilities, feature_maps = model.read(prepared)   # (28, 28), (10,), (26, 26, F): one pass
    return Prediction(image, probabilities, feature_maps, prepared)


class LivePredictor(QObject):
    """Reads `canvas.to_array()`, runs `model`, emits `updated(Prediction | None)`."""

    updated = Signal(object)

    def __init__(self, canvas, model, interval_ms: int = INTERVAL_MS, parent=None):
        super().__init__(parent)
        self._canvas = canvas
        self._model = model
        self._latest: Prediction | None = None
        self._prepared = (None, None)    # (canvas array, prepare_canvas of it): weights change more often
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.update_now)

    @property
    def model(self):
        """The network whose answers are shown (the live one, or a time-machine snapshot)."""
        return self._model

    def set_model(self, model) -> None:
        self._model = model
        self.update_now()

    def latest(self) -> Prediction | None:
        """The last answer; a pending throttled update is done first so it is current."""
        if self._timer.isActive():
            self.update_now()
        return self._latest

    def schedule(self) -> None:
        """Predict soon; repeated calls before then share one prediction."""
        if not self._timer.isActive():
            self._timer.start()

    def stop(self) -> None:
        """Drop a pending update (window closing)."""
        self._timer.stop()

    def update_now(self) -> None:
        self._timer.stop()
        if self._canvas.is_blank():
            self._latest = None
        else:
            canvas = self._canvas.to_array()                 # (H, W)
            self._latest = predict_prepared(self._model, self._prepare(canvas))
        self.updated.emit(self._latest)

    def _prepare(self, canvas: np.ndarray) -> np.ndarray | None:
        """prepare_canvas(canvas), reused while the drawing stays the same (training updates, scrubbing)."""
        last_canvas, prepared = self._prepared
        if last_canvas is None or not np.array_equal(canvas, last_canvas):
            prepared = prepare_canvas(canvas)
            self._prepared = (canvas, prepared)
        return prepared

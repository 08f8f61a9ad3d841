"""Training off the GUI thread: a QThread drives core.train.train; a controller relays its news.

The thread only emits signals. They are connected to slots of `TrainingController`, a QObject
living in the GUI thread, so Qt queues them into the GUI thread; widgets and tests listen to
the controller, never to the thread.
"""
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from core.errors import DigitpadError
from core.train import TrainConfig, train

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1     # at most ~10 progress updates a second reach the GUI
SNAPSHOT_INTERVAL_S = 0.15    # and ~7 weight snapshots a second
TEST_CHUNK = 1000             # test images scored per step of the final evaluation

Dataset = tuple[np.ndarray, np.ndarray]          # images (N, 28, 28) uint8, labels (N,) uint8
LoadData = Callable[[], tuple[Dataset, Dataset | None]]


@dataclass(frozen=True)
class TestResults:
    """The trained model's answers on the test set, for the confusion matrix and the gallery."""
    images: np.ndarray          # (N, 28, 28) uint8
    labels: np.ndarray          # (N,) uint8
    probabilities: np.ndarray   # (N, 10)


class TrainingThread(QThread):
    """Loads the data, trains `model` (the thread's own copy) in place, then scores the test set."""

    progressed = Signal(object)   # core.train.Progress
    snapshot = Signal(object)     # dict of parameter copies
    tested = Signal(object)       # TestResults
    failed = Signal(str)
    outcome = Signal(str)         # "finished" | "stopped" | "failed"

    def __init__(self, model, config: TrainConfig, load_data: LoadData):
        super().__init__()
        self._model = model
        self._config = config
        self._load_data = load_data
        self._stop = threading.Event()
        self._running = threading.Event()      # cleared while paused
        self._running.set()
        self._started_training = False

    # called from the GUI thread
    def request_stop(self) -> None:
        self._stop.set()
        self._running.set()                    # a paused loop wakes up to notice the stop

    def set_paused(self, paused: bool) -> None:
        if paused and not self._stop.is_set():
            self._running.clear()
        else:
            self._running.set()

    # runs in the worker thread
    def run(self) -> None:
        try:
            train_set, test_set = self._load_data()
            if not self._stop.is_set():
                self._train(train_set, test_set)
            if test_set is not None and not self._stop.is_set():
                self._score(test_set)
            self.outcome.emit("stopped" if self._stop.is_set() else "finished")
        except DigitpadError as error:
            self._fail(str(error))
        except Exception as error:  # a bug must not kill the app silently: say what happened
            log.exception("training failed")
            self._fail(f"Training stopped because of an unexpected error: {error!r}")

    def _fail(self, message: str) -> None:
        if self._started_training:                      # the weights core kept (restored on divergence)
            self.snapshot.emit(self._model.get_params())
        self.failed.emit(message)
        self.outcome.emit("failed")

    def _train(self, train_set: Dataset, test_set: Dataset | None) -> None:
        self._started_training = True
        last_progress = last_snapshot = 0.0
        pending = None
        for progress in train(self._model, self._config, train_set, test_set, self._stop.is_set):
            now = time.monotonic()
            pending = progress
            if progress.kind == "epoch" or now - last_progress >= PROGRESS_INTERVAL_S:
                self.progressed.emit(progress)
                last_progress, pending = now, None
            if now - last_snapshot >= SNAPSHOT_INTERVAL_S:
                self.snapshot.emit(self._model.get_params())
                last_snapshot = now
            if not self._running.is_set():
                if pending is not None:                    # show where training paused
                    self.progressed.emit(pending)
                    pending = None
                self.snapshot.emit(self._model.get_params())
                self._running.wait()                       # pause: block, no busy loop
        if pending is not None:
            self.progressed.emit(pending)
        self.snapshot.emit(self._model.get_params())

    def _score(self, test_set: Dataset) -> None:
        images, labels = test_set
        if self._config.test_size is not None:
            images, labels = images[:self._config.test_size], labels[:self._config.test_size]
        chunks = []
        for start in range(0, len(images), TEST_CHUNK):
            if self._stop.is_set():
                return
            chunks.append(self._model.predict_proba(images[start:start + TEST_CHUNK]))  # (B, 10)
        probabilities = np.concatenate(chunks) if chunks else np.zeros((0, 10))
        self.tested.emit(TestResults(images, labels, probabilities))


class TrainingController(QObject):
    """Starts, pauses, resumes and stops training; re-emits the thread's news in the GUI thread.

    state: "idle" -> "running" <-> "paused" -> "stopping" -> "idle".
    """

    stateChanged = Signal(str)
    progressed = Signal(object)        # core.train.Progress
    paramsUpdated = Signal(object)     # dict of parameter arrays (copies: safe to keep)
    tested = Signal(object)            # TestResults
    failed = Signal(str)               # a message for the user
    finished = Signal(str)             # "finished" | "stopped" | "failed"; the thread has ended

    def __init__(self, parent=None):
        super().__init__(parent)
        self._thread: TrainingThread | None = None
        self._state = "idle"
        self._outcome = "finished"

    def state(self) -> str:
        return self._state

    def is_busy(self) -> bool:
        return self._thread is not None

    def start(self, model, config: TrainConfig, load_data: LoadData) -> None:
        """Train `model` (give the thread its own copy) with `config` on the data `load_data()` returns."""
        if self._thread is not None:
            raise RuntimeError("training is already running")
        thread = TrainingThread(model, config, load_data)
        thread.progressed.connect(self._relay_progress)
        thread.snapshot.connect(self._relay_snapshot)
        thread.tested.connect(self._relay_tested)
        thread.failed.connect(self._relay_failed)
        thread.outcome.connect(self._remember_outcome)
        thread.finished.connect(self._thread_ended)
        self._thread = thread
        self._outcome = "finished"
        self._set_state("running")
        thread.start()

    def pause(self) -> None:
        if self._state == "running":
            self._thread.set_paused(True)
            self._set_state("paused")

    def resume(self) -> None:
        if self._state == "paused":
            self._thread.set_paused(False)
            self._set_state("running")

    def toggle_pause(self) -> None:
        self.resume() if self._state == "paused" else self.pause()

    def stop(self) -> None:
        if self._thread is not None and self._state != "stopping":
            self._thread.request_stop()
            self._set_state("stopping")

    def shutdown(self, timeout_ms: int = 1000) -> bool:
        """Stop and join the thread (window closing). True when no thread is left running."""
        thread = self._thread
        if thread is None:
            return True
        self.stop()
        ended = thread.wait(timeout_ms)
        if ended:
            for signal in (thread.progressed, thread.snapshot, thread.tested, thread.failed,
                           thread.outcome, thread.finished):
                signal.disconnect()
            self._thread = None
            self._set_state("idle")
        return ended

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.stateChanged.emit(state)

    @Slot(object)
    def _relay_progress(self, progress) -> None:
        self.progressed.emit(progress)

    @Slot(object)
    def _relay_snapshot(self, params) -> None:
        self.paramsUpdated.emit(params)

    @Slot(object)
    def _relay_tested(self, results) -> None:
        self.tested.emit(results)

    @Slot(str)
    def _relay_failed(self, message: str) -> None:
        self.failed.emit(message)

    @Slot(str)
    def _remember_outcome(self, outcome: str) -> None:
        self._outcome = outcome

    @Slot()
    def _thread_ended(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.wait()
            thread.deleteLater()
        self._set_state("idle")
        self.finished.emit(self._outcome)

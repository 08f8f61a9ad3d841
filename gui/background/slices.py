"""Long NumPy work run in the GUI thread a slice at a time, so the window never freezes.

A job is a generator that does a little work per step (a chunk of images, a few batches) and
yields its progress. SlicedJob runs steps from a zero-delay QTimer until SLICE_MS have passed,
then lets the event loop handle input and painting before the next slice. No thread: no widget
or model is ever touched from another thread, and starting a new job simply drops the old one.
"""
import time

from PySide6.QtCore import QObject, QTimer, Signal

SLICE_MS = 8.0


class SlicedJob(QObject):
    """Runs one generator at a time; emits progressed(last yield) per slice and finished(last yield)."""

    progressed = Signal(object)
    finished = Signal(object)

    def __init__(self, parent=None, slice_ms: float = SLICE_MS):
        super().__init__(parent)
        self._steps = None
        self._last = None
        self._slice_s = slice_ms / 1000
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._run_slice)

    def start(self, steps) -> None:
        """Run generator `steps`, dropping (closing) any job still running."""
        if self._steps is not None:
            self._steps.close()
        self._steps, self._last = steps, None
        self._timer.start()

    def cancel(self) -> None:
        self._timer.stop()
        if self._steps is not None:
            self._steps.close()
        self._steps = None

    def is_running(self) -> bool:
        return self._steps is not None

    def run_to_end(self) -> None:
        """Finish the current job now, blocking (tests, screenshots)."""
        while self._steps is not None:
            self._run_slice(deadline=float("inf"))

    def _run_slice(self, deadline=None) -> None:
        steps = self._steps
        if steps is None:
            self._timer.stop()
            return
        end = time.perf_counter() + self._slice_s if deadline is None else deadline
        self._run_steps(steps, end)       # on one BLAS thread, as all the GUI's work (gui.app.one_blas_thread)

    def _run_steps(self, steps, end) -> None:
        while True:
            try:
                self._last = next(steps)
            except StopIteration:
                self._timer.stop()
                self._steps = None
                self.finished.emit(self._last)
                return
            if time.perf_counter() >= end:
                self.progressed.emit(self._last)
                return

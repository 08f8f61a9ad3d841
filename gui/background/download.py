"""Downloading full MNIST off the GUI thread, with progress and cancel.

The worker emits, `DownloadController` (GUI thread) relays. The worker is a daemon Python
thread, not a QThread: a download waiting on a silent server cannot be interrupted before
its socket timeout (10 s), and a QThread still running when the app quits aborts the process.
A daemon thread can simply be abandoned when the window closes; core.download removes its
unfinished temporary file when the program exits, so nothing partial stays in the cache.
"""
import logging
import threading
import time

from PySide6.QtCore import QObject, Signal, Slot

from core import data
from core.errors import DigitpadError, DownloadCancelled

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1


class DownloadThread(QObject):
    """One download in a daemon thread; start/cancel/wait/isFinished as on a QThread."""

    progressed = Signal(int, int, str)   # done bytes, total bytes (0 if unknown), file name
    outcome = Signal(str, str)           # "finished" | "cancelled" | "failed", message
    finished = Signal()                  # the thread has ended (after `outcome`)

    def __init__(self):
        super().__init__()
        self._cancel = threading.Event()
        self._last_report = 0.0
        self._thread = threading.Thread(target=self.run, name="mnist-download", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout_ms: int | None = None) -> bool:
        """Join the thread, for at most timeout_ms (None: as long as it takes); True if it ended."""
        self._thread.join(None if timeout_ms is None else timeout_ms / 1000)
        return not self._thread.is_alive()

    def isFinished(self) -> bool:
        return self._thread.ident is not None and not self._thread.is_alive()

    def run(self) -> None:
        try:
            self._download()
        finally:
            self.finished.emit()

    def _download(self) -> None:
        try:
            data.download_mnist(progress=self._report, should_cancel=self._cancel.is_set)
            self.outcome.emit("finished", "Full MNIST is downloaded and verified.")
        except DownloadCancelled as error:
            self.outcome.emit("cancelled", str(error) or "Download cancelled.")
        except DigitpadError as error:
            self.outcome.emit("failed", str(error))
        except Exception as error:
            log.exception("download failed")
            self.outcome.emit("failed", f"The download stopped because of an unexpected error: {error!r}")

    def _report(self, done: int, total: int | None, name: str) -> None:
        now = time.monotonic()
        if now - self._last_report >= PROGRESS_INTERVAL_S or (total and done >= total):
            self._last_report = now
            self.progressed.emit(int(done), int(total or 0), str(name))


class DownloadController(QObject):
    """Runs one download at a time; `finished(outcome, message)` once its thread has ended."""

    progressed = Signal(int, int, str)
    busyChanged = Signal(bool)
    finished = Signal(str, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._thread: DownloadThread | None = None
        self._outcome = ("failed", "The download ended without a result.")

    def is_busy(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        if self._thread is not None:
            return
        thread = DownloadThread()
        thread.progressed.connect(self._relay_progress)
        thread.outcome.connect(self._remember_outcome)
        thread.finished.connect(self._thread_ended)
        self._thread = thread
        self.busyChanged.emit(True)
        thread.start()

    def cancel(self) -> None:
        if self._thread is not None:
            self._thread.cancel()

    def shutdown(self, timeout_ms: int = 1000) -> bool:
        """Cancel the download and wait at most timeout_ms for it (window closing).

        True when the thread ended; False when it is still blocked on the network and was
        abandoned (a daemon thread: it cannot keep the program alive). Either way the
        controller is idle afterwards and hears nothing more from that thread.
        """
        thread = self._thread
        if thread is None:
            return True
        thread.cancel()
        ended = thread.wait(timeout_ms)
        for signal in (thread.progressed, thread.outcome, thread.finished):
            signal.disconnect()
        self._thread = None
        return ended

    @Slot(int, int, str)
    def _relay_progress(self, done: int, total: int, name: str) -> None:
        self.progressed.emit(done, total, name)

    @Slot(str, str)
    def _remember_outcome(self, outcome: str, message: str) -> None:
        self._outcome = (outcome, message)

    @Slot()
    def _thread_ended(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.wait()
            thread.deleteLater()
        self.busyChanged.emit(False)
        self.finished.emit(*self._outcome)

"""Redraw a plot at most a few times a second, in an event-loop turn of its own.

Training reports arrive ~10 times a second and a pyqtgraph plot's repaint costs 3-10 ms (it
repaints twice when its range follows the data). Redrawing on every report put several plots'
repaints and the report handlers into one event-loop pass, 50-100 ms during which the pen
stalled (bench/gui_latency.py). A view that owns a RedrawThrottle keeps its data current on
every report and calls `request()`; the throttle runs the view's redraw once, in a later turn,
and no sooner than `interval_ms` after the previous one.
"""
import inspect
import time
import weakref

from PySide6.QtCore import QObject, Qt, QTimer

INTERVAL_MS = 250      # ~4 redraws a second: a curve still grows smoothly to the eye


class RedrawThrottle(QObject):
    def __init__(self, redraw, interval_ms: int = INTERVAL_MS, parent=None):
        super().__init__(parent)
        # A view's own method is held weakly: the view owns its throttle, and a strong reference back
        # would make the pair a cycle that only the garbage collector frees, at an arbitrary moment.
        self._redraw = weakref.WeakMethod(redraw) if inspect.ismethod(redraw) else (lambda: redraw)
        self._interval_s = interval_ms / 1000
        self._last = None                   # time.monotonic() of the last redraw, None before the first
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)   # a coarse timer may fire 5% early
        self._timer.timeout.connect(self._run)

    def request(self) -> None:
        """Redraw soon: in the next turn after a quiet spell, else when the interval is over."""
        if self._timer.isActive():
            return
        wait_s = 0.0 if self._last is None else self._last + self._interval_s - time.monotonic()
        self._timer.start(max(0, round(wait_s * 1000)))

    def pending(self) -> bool:
        return self._timer.isActive()

    def flush(self) -> None:
        """Redraw now if a redraw is pending (readers and tests see the latest state)."""
        if self._timer.isActive():
            self._run()

    def cancel(self) -> None:
        self._timer.stop()

    def _run(self) -> None:
        self._timer.stop()
        self._last = time.monotonic()
        redraw = self._redraw()
        if redraw is not None:                 # None: the view is gone
            redraw()

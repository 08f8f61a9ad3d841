"""Watching a run: its history (core.history), the time machine, and the drawing's chart, tied together.

RunWatch records the snapshots the training process sends into a History (64 MB at most),
keeps the time-machine bar, the filter board's start and gradients, the curve cursor and the
drawing's chart in step, and says which network the window should show:
`networkChanged(params)` with a snapshot's parameters while scrubbing, or None for the live
network. The maths lives in core.history and core.replay; this only routes what they return.
"""
import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from core.history import History
from core.replay import probabilities_through_run, probabilities_with

HISTORY_BUDGET = 64 * 2**20       # bytes; 12 epochs of full MNIST fit (thinned), see core/history.py
CHART_POINTS = 200                # snapshots evaluated when the drawing changes (evenly picked)
CHART_CHUNK = 25                  # evaluated per event-loop turn (a few ms), so drawing stays smooth
RECOMPUTE_DELAY_MS = 60           # after the drawing changes, so the prediction is shown first
CURSOR_INTERVAL_MS = 120          # the curves' and chart's cursors follow a scrub at most ~8 times a second
                                  # (moving them repaints three plots: two thirds of a scrub's work)


class RunWatch(QObject):
    networkChanged = Signal(object)       # params of the snapshot shown, or None: the live network

    def __init__(self, bar, board, chart, marks, budget: int = HISTORY_BUDGET, parent=None):
        super().__init__(parent)
        self.bar, self.board, self.chart, self.marks = bar, board, chart, marks
        self.budget = budget
        self.history = History(budget)
        self._image: np.ndarray | None = None        # the drawing as the network sees it, (28, 28)
        self._recompute = QTimer(self)
        self._recompute.setSingleShot(True)
        self._recompute.setInterval(RECOMPUTE_DELAY_MS)
        self._recompute.timeout.connect(self._start_chart_job)
        self._chunks = QTimer(self)                  # runs the chart job a chunk per event-loop turn
        self._chunks.setInterval(0)
        self._chunks.timeout.connect(self._next_chart_chunk)
        self._job = None
        self._cursor_pause = QTimer(self)
        self._cursor_pause.setSingleShot(True)
        self._cursor_pause.setInterval(CURSOR_INTERVAL_MS)
        self._cursor_pause.timeout.connect(self._cursor_catch_up)
        self._cursor_pending = False
        bar.scrubbed.connect(self._scrubbed)
        bar.liveRequested.connect(self._went_live)

    # ---- the run ----------------------------------------------------------------------------
    def begin_run(self) -> None:
        """A new run starts: forget the old history (its first snapshot arrives from the process)."""
        self.bar.go_live()
        self.history = History(self.budget)
        self._stop_chart_job()
        self.board.set_start(None)
        self.board.set_gradients(None)
        self.marks.clear()
        self.chart.clear("Your drawing's probabilities appear here as the network trains")
        self.bar.set_count(0)

    def add_snapshots(self, records) -> None:
        """records: [(step, params, metrics)] in step order, as the training process recorded them."""
        first_of_run = len(self.history) == 0
        shown_step = None if self.bar.is_live() else int(self.history.steps()[self.bar.index()])
        for step, params, metrics in records:
            self.history.record(step, params, **metrics)
        if not len(self.history):
            return
        if first_of_run:
            self.board.set_start(self.history.at(0).params["conv.filters"])
        self.bar.set_count(len(self.history))
        if shown_step is not None:                   # thinning may have moved (or dropped) the snapshot shown
            index = self.history.index_near(shown_step)
            if self.history.steps()[index] == shown_step:
                self.bar.follow(index)
            else:
                self.bar.scrub_to(index)             # dropped: show the nearest snapshot kept
        if self.bar.is_live():
            self.bar.show_text(self._describe(len(self.history) - 1, live=True))
            if self._image is not None and records:
                self._append_live_points(records)

    def set_gradients(self, gradients: dict | None) -> None:
        self.board.set_gradients(None if gradients is None else gradients["conv.filters"])

    def mark_learning_rate(self, rate: float) -> None:
        """The learning rate was changed now: mark it on the curves at the newest step."""
        x = self._x(len(self.history) - 1) if len(self.history) else 0.0
        self.marks.mark_learning_rate(x, rate)

    # ---- the drawing ------------------------------------------------------------------------
    def set_drawing(self, image: np.ndarray | None) -> None:
        """The drawing changed: (28, 28) network input, or None when the pad is blank."""
        self._image = None if image is None else np.array(image)
        self._stop_chart_job()
        if self._image is None:
            self._recompute.stop()
            self.chart.clear("Draw a digit to see what the network thought of it through the run")
        else:
            self._recompute.start()

    def recompute_chart(self) -> None:
        """The drawing's probabilities at (up to CHART_POINTS of) the snapshots kept, now, in one go."""
        self._recompute.stop()
        self._stop_chart_job()
        for _ in self._chart_job():
            pass

    def chart_pending(self) -> bool:
        """True while a recomputation is scheduled or under way."""
        return self._recompute.isActive() or self._job is not None

    def _start_chart_job(self) -> None:
        self._job = self._chart_job()
        self._chunks.start()

    def _next_chart_chunk(self) -> None:
        try:
            next(self._job)
        except StopIteration:
            self._stop_chart_job()

    def _stop_chart_job(self) -> None:
        self._chunks.stop()
        self._job = None

    def _chart_job(self):
        """Evaluate CHART_CHUNK snapshots per step of the generator, then show the series."""
        if self._image is None:
            return
        history, image, count = self.history, self._image, len(self.history)
        if count == 0:
            self.chart.clear("Train to see what the network thinks of your drawing at each step")
            return
        stride = history.stride
        picked = np.unique(np.linspace(0, count - 1, min(count, CHART_POINTS)).round().astype(int))
        parts = []
        for start in range(0, len(picked), CHART_CHUNK):
            if history is not self.history or history.stride != stride:    # a new run, or thinned: again
                yield from self._chart_job()
                return
            parts.append(probabilities_through_run(history, image, picked[start:start + CHART_CHUNK]))  # (k, 10)
            yield
        self.chart.set_series(history.steps()[picked], np.concatenate(parts))
        self._show_cursor()

    def _append_live_points(self, records) -> None:
        """The drawing's probabilities at every step of a batch of records, evaluated together."""
        stacked = [np.stack([params[name] for _, params, _ in records])
                   for name in ("conv.filters", "softmax.weights", "softmax.biases")]     # (k, ...) each
        probabilities = probabilities_with(*stacked, self._image)                       # (k, 10)
        self.chart.extend([step for step, _, _ in records], probabilities)

    # ---- the time machine -------------------------------------------------------------------
    def shown_index(self) -> int | None:
        return self.bar.index()

    def _scrubbed(self, index: int) -> None:
        snapshot = self.history.at(index)
        self.board.set_live(False)
        self.bar.show_text(self._describe(index, live=False))
        self._follow_with_cursor()
        self.networkChanged.emit(snapshot.params)

    def _went_live(self) -> None:
        self.board.set_live(True)
        if len(self.history):
            self.bar.show_text(self._describe(len(self.history) - 1, live=True))
        self._show_cursor()
        self.networkChanged.emit(None)

    def _follow_with_cursor(self) -> None:
        """Move the cursors now, or once the pause after the last move ends (a drag or Play)."""
        if self._cursor_pause.isActive():
            self._cursor_pending = True
        else:
            self._show_cursor()
            self._cursor_pause.start()

    def _cursor_catch_up(self) -> None:
        if self._cursor_pending:
            self._show_cursor()
            self._cursor_pause.start()

    def _show_cursor(self) -> None:
        self._cursor_pending = False
        index = self.bar.index()
        if index is None or index >= len(self.history):
            self.marks.set_cursor(None)
            self.chart.set_cursor(None)
        else:
            self.marks.set_cursor(self._x(index))
            self.chart.set_cursor(int(self.history.steps()[index]))

    def _x(self, index: int) -> float:
        """The curves' x (fractional epoch) of a snapshot."""
        return float(self.history.metrics_at(index).get("x", 0.0))

    def _describe(self, index: int, live: bool) -> str:
        snapshot_metrics = self.history.metrics_at(index)
        step = int(self.history.steps()[index])
        parts = [("Live: " if live else "") + f"step {step:,}"]
        if "epoch" in snapshot_metrics:
            parts.append(f"epoch {snapshot_metrics['epoch']}")
        if "loss" in snapshot_metrics:
            parts.append(f"loss {snapshot_metrics['loss']:.3f}")
        if "accuracy" in snapshot_metrics:
            parts.append(f"accuracy {snapshot_metrics['accuracy']:.0%}")
        if not live:
            parts.append(f"snapshot {index + 1}/{len(self.history)}")
        return " · ".join(parts)


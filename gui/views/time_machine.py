"""The time machine's controls: a slider over the run's snapshots, Play, and Live.

The bar knows only how many snapshots there are and which one the user picked; the window
shows the network of that snapshot everywhere. Moving the slider (mouse, arrow keys) or Play
enters the time machine (`scrubbed(index)`); Live, or Play reaching the newest snapshot,
leaves it (`liveRequested()`). While live, the slider follows the newest snapshot.
"""
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider, QWidget

PLAY_INTERVAL_MS = 50
SLIDER_MIN_WIDTH = 140
LABEL_MIN_WIDTH = 180      # the step's figures wrap onto two lines below their full width
DRAG_INTERVAL_MS = 33      # a dragged slider redraws the network at most ~30 times a second
PLAY_FRAMES = 160          # Play crosses a whole history in about PLAY_FRAMES * PLAY_INTERVAL_MS (8 s)


class _FiguresLabel(QLabel):
    """Word-wrapped only when the window is too narrow: it asks for its text's full width."""

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(max(hint.width(), self.fontMetrics().horizontalAdvance(self.text()) + 2), hint.height())


class TimeMachineBar(QWidget):
    scrubbed = Signal(int)          # index of the snapshot to show
    liveRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.play_button = QPushButton("▶ Play")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Replay the run's history from where the slider is")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Drag to see the network as it was at any step of the run "
                               "(arrow keys step through the snapshots)")
        self.slider.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.live_button = QPushButton("Live")
        self.live_button.setToolTip("Leave the time machine: show the network as it is now")
        self.slider.setMinimumWidth(SLIDER_MIN_WIDTH)   # stays usable at the window's minimum size
        self.label = _FiguresLabel()
        self.label.setMinimumWidth(LABEL_MIN_WIDTH)
        self.label.setWordWrap(True)                    # a narrow window wraps the step's figures
        title = QLabel("<b>Time machine</b>")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 0, 8, 0)
        layout.addWidget(title)
        layout.addWidget(self.play_button)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        layout.addWidget(self.live_button)
        self._timer = QTimer(self)
        self._timer.setInterval(PLAY_INTERVAL_MS)
        self._timer.timeout.connect(self._advance)
        self._index: int | None = None          # None: live
        self._count = 0
        self._quiet = False                     # programmatic slider moves emit nothing
        self._dragged_to: int | None = None     # a slider position waiting for the next redraw
        self._drag_pause = QTimer(self)
        self._drag_pause.setSingleShot(True)
        self._drag_pause.setInterval(DRAG_INTERVAL_MS)
        self._drag_pause.timeout.connect(self._catch_up)
        self.slider.valueChanged.connect(self._slider_moved)
        self.play_button.toggled.connect(self._play_toggled)
        self.live_button.clicked.connect(self.go_live)
        self.set_count(0)

    # ---- state ------------------------------------------------------------------------------
    def index(self) -> int | None:
        """The snapshot shown, or None when live."""
        return self._index

    def is_live(self) -> bool:
        return self._index is None

    def is_playing(self) -> bool:
        return self._timer.isActive()

    def set_count(self, count: int) -> None:
        """The history now holds `count` snapshots (it grew, was thinned, or a run began)."""
        self._count = count
        self._set_slider(0, max(count - 1, 0), self.slider.value())
        if self._index is not None and self._index >= count:
            self._index = count - 1 if count else None
        if self._index is None:
            self._set_slider(0, max(count - 1, 0), max(count - 1, 0))
        enabled = count > 1
        self.slider.setEnabled(enabled)
        self.play_button.setEnabled(enabled)
        self.live_button.setEnabled(self._index is not None)
        if count == 0:
            self.show_text("No run recorded yet: train to record one")

    def follow(self, index: int) -> None:
        """The snapshot shown is now at `index` (the history was thinned): move there without a signal."""
        if self._index is not None and 0 <= index < self._count:
            self._index = index
            self._set_slider(0, self._count - 1, index)

    def show_text(self, text: str) -> None:
        self.label.setText(text)

    # ---- actions ----------------------------------------------------------------------------
    def scrub_to(self, index: int) -> None:
        """Show snapshot `index` (entering the time machine)."""
        if self._count == 0:
            return
        index = max(0, min(index, self._count - 1))
        self._index = index
        self._set_slider(0, self._count - 1, index)
        self.live_button.setEnabled(True)
        self.scrubbed.emit(index)

    def go_live(self) -> None:
        self._drag_pause.stop()
        self._dragged_to = None
        self.play_button.setChecked(False)
        if self._index is None:
            return
        self._index = None
        self._set_slider(0, max(self._count - 1, 0), max(self._count - 1, 0))
        self.live_button.setEnabled(False)
        self.liveRequested.emit()

    def play(self) -> None:
        self.play_button.setChecked(True)

    def _play_toggled(self, on: bool) -> None:
        self.play_button.setText("❚❚ Pause" if on else "▶ Play")
        if not on:
            self._timer.stop()
            return
        if self._index is None or self._index >= self._count - 1:
            self.scrub_to(0)                    # from live or the end: replay from the start
        self._timer.start()

    def _advance(self) -> None:
        stride = max(1, self._count // PLAY_FRAMES)
        if self._index is None or self._index + stride >= self._count:
            self.go_live()                      # the newest snapshot reached: back to the live network
        else:
            self.scrub_to(self._index + stride)

    def _slider_moved(self, value: int) -> None:
        """Show the position at once, then at most one more every DRAG_INTERVAL_MS while dragging."""
        if self._quiet:
            return
        if self._drag_pause.isActive():
            self._dragged_to = value
            self._index = value                 # where the time machine is, even before it is drawn
            self.live_button.setEnabled(True)
            return
        self.scrub_to(value)
        self._drag_pause.start()

    def _catch_up(self) -> None:
        if self._dragged_to is not None and self._index is not None:
            value, self._dragged_to = self._dragged_to, None
            self.scrub_to(value)
            self._drag_pause.start()

    def _set_slider(self, low: int, high: int, value: int) -> None:
        self._quiet = True
        try:
            self.slider.setRange(low, high)
            self.slider.setValue(value)
        finally:
            self._quiet = False

"""How a run starts and how fast it goes: New network / Continue, seed, speed, Step.

A fresh window offers "New network (random weights)", so Train shows filters forming from
noise; "Continue this model" trains the weights the window has (e.g. the pretrained model).
The seed fixes the random weights, the shuffling and the augmentation: the same seed replays
the same run. The speed runs from slow motion (a step or two a second; every view updates
after every step) to full speed, and can be changed while training runs.
"""
from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QSlider, QSpinBox, QToolButton, QWidget,
)

from gui.settings import read_int

SPEEDS = (1, 2, 3, 5, 10, None)      # steps a second (slow motion: every view redrawn each step); None: full speed
FULL_SPEED = len(SPEEDS) - 1
NEW, CONTINUE = "new", "continue"


def speed_text(steps_per_s) -> str:
    if steps_per_s is None:
        return "full speed"
    return f"{steps_per_s} step{'s' if steps_per_s != 1 else ''}/s (slow motion)"


class StartChoice(QObject):
    """New network (random weights) or Continue this model, and the run's seed: two labelled fields
    placed into a row of controls (place_in)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.start_combo = QComboBox()
        self.start_combo.addItem("New network (random weights)", NEW)
        self.start_combo.addItem("Continue this model", CONTINUE)
        self.start_combo.setToolTip("New: Train starts from random weights, so you see the filters form "
                                    "(Revert, Ctrl+R, brings the pretrained model back). Continue: train "
                                    "the weights the window has now.")
        self.start_combo.setMinimumWidth(self.start_combo.sizeHint().width())   # its longest choice, never clipped
        self.seed_spin = QSpinBox(minimum=0, maximum=99_999, value=0)
        self.seed_spin.setToolTip("The same seed gives the same random weights, order and augmentation: "
                                  "the same run again")
        self.start_combo.setAccessibleName("Start from")
        self.seed_spin.setMaximumWidth(80)
        self.seed_label = QLabel("Seed")
        self.seed_label.setBuddy(self.seed_spin)

    def place_in(self, row: QHBoxLayout, index: int = 0) -> None:
        """The combo, "Seed" and the seed field into `row` (e.g. before Train), from `index` on."""
        for offset, widget in enumerate((self.start_combo, self.seed_label, self.seed_spin)):
            row.insertWidget(index + offset, widget)

    def starts_fresh(self) -> bool:
        return self.start_combo.currentData() == NEW

    def set_start(self, choice: str) -> None:
        self.start_combo.setCurrentIndex(self.start_combo.findData(choice))

    def seed(self) -> int:
        return self.seed_spin.value()

    def set_training_state(self, state: str) -> None:
        idle = state == "idle"
        self.start_combo.setEnabled(idle)
        self.seed_spin.setEnabled(idle)

    def save_settings(self, settings: QSettings) -> None:
        settings.setValue("watch/seed", self.seed())

    def load_settings(self, settings: QSettings) -> None:
        self.seed_spin.setValue(min(max(read_int(settings, "watch/seed", 0), 0), 99_999))


class PaceControls(QWidget):
    """Speed slider and Step. Signal speedChanged(steps_per_s or None); action step_action."""

    speedChanged = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.speed_slider = QSlider(Qt.Orientation.Horizontal)
        self.speed_slider.setRange(0, FULL_SPEED)
        self.speed_slider.setValue(FULL_SPEED)
        self.speed_slider.setPageStep(1)
        self.speed_slider.setMinimumWidth(110)
        self.speed_slider.setToolTip("From slow motion (every view updates after every step) to full speed; "
                                     "can be changed while training")
        self.speed_label = QLabel()
        self.speed_label.setMinimumWidth(165)
        self.step_action = QAction("St&ep", self)
        self.step_action.setShortcut(QKeySequence("F7"))
        self.step_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.step_action.setToolTip("Train exactly one batch, then pause (F7)")
        self.step_action.setStatusTip("Train exactly one batch, then pause")
        step_button = QToolButton()
        step_button.setDefaultAction(self.step_action)
        step_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        step_button.setMinimumWidth(56)
        title = QLabel("<b>Speed</b>")
        title.setBuddy(self.speed_slider)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.speed_slider)
        layout.addWidget(self.speed_label)
        layout.addWidget(step_button)
        self.speed_slider.valueChanged.connect(self._speed_moved)
        self._speed_moved(self.speed_slider.value())
        self.set_training_state("idle")

    def steps_per_s(self):
        """Steps a second, or None for full speed."""
        return SPEEDS[self.speed_slider.value()]

    def set_steps_per_s(self, steps_per_s) -> None:
        self.speed_slider.setValue(SPEEDS.index(steps_per_s))

    def set_training_state(self, state: str) -> None:
        """Step works while paused, and from idle (it starts a paused run)."""
        self.step_action.setEnabled(state in ("idle", "paused"))

    def _speed_moved(self, position: int) -> None:
        self.speed_label.setText(speed_text(SPEEDS[position]))
        self.speedChanged.emit(SPEEDS[position])

    def save_settings(self, settings: QSettings) -> None:
        settings.setValue("watch/speed", self.speed_slider.value())

    def load_settings(self, settings: QSettings) -> None:
        self.speed_slider.setValue(min(max(read_int(settings, "watch/speed", FULL_SPEED), 0), FULL_SPEED))

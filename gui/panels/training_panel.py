"""The training controls: dataset and download, hyperparameters, Train/Pause/Stop, progress, curves.

The panel only shows state and offers actions; MainWindow connects the actions to the
controllers and feeds progress back in.
"""
import math

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QMessageBox,
    QProgressBar, QSpinBox, QToolButton, QVBoxLayout, QWidget,
)

from core.train import TrainConfig
from gui.training.messages import State
from gui.views.curves import TrainingCurves
from gui.settings import read_float, read_int, read_str

SOURCES = (("sample", "MNIST sample (bundled, 10,000 images)"), ("mnist", "Full MNIST (60,000 images)"))
RECIPE = TrainConfig()   # the panel starts from the CLI's recipe, except for the epochs:
# A run in the window is watched as it goes: 3 epochs put three test points on the curves in
# seconds on the bundled sample, and take a quarter of the recipe's 12 on full MNIST.
GUI_EPOCHS = 3


def format_duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "--:--"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_bytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB"


def summary_of(message: str) -> str:
    """The first line of a message for the Data box (a one-line message whole, with its remedy);
    a longer one, e.g. one line per mirror tried, goes behind Details."""
    first = message.strip().split("\n")[0].strip()
    return first[:-1] + "." if first.endswith(":") else first


def _make_action(parent, text: str, shortcut: str, tip: str) -> QAction:
    action = QAction(text, parent)
    action.setShortcut(QKeySequence(shortcut))
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setToolTip(f"{tip} ({shortcut})")
    action.setStatusTip(tip)
    return action


def _button(action: QAction) -> QToolButton:
    button = QToolButton()
    button.setDefaultAction(action)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    button.setMinimumWidth(72)
    return button


class TrainingPanel(QWidget):
    """Actions: train_action, pause_action, stop_action, download_action, cancel_download_action."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.steps_per_s: float | None = None           # slow motion's pace (set_pace); None: full speed
        self.train_action = _make_action(self, "&Train", "F5", "Train the current model with these settings")
        self.pause_action = _make_action(self, "&Pause", "F6", "Pause or resume training")
        self.stop_action = _make_action(self, "&Stop", "Shift+F5", "Stop training and keep the weights so far")
        self.download_action = _make_action(self, "&Download full MNIST", "Ctrl+D",
                                            "Download the 60,000-image MNIST set (about 11 MB)")
        self.cancel_download_action = _make_action(self, "Cancel download", "Ctrl+Shift+D",
                                                   "Stop the MNIST download")
        self.curves = TrainingCurves()
        self._status = "Not trained in this session yet"
        self._paused = False
        layout = QVBoxLayout(self)
        layout.addWidget(self._build_data_box())
        layout.addWidget(self._build_settings_box())
        layout.addWidget(self._build_run_box())
        layout.addWidget(self.curves, 1)
        self.set_training_state(State.IDLE)
        self.set_downloading(False)
        self.set_mnist_available(False)

    # ---- construction -----------------------------------------------------------------------
    def _build_data_box(self) -> QGroupBox:
        box = QGroupBox("Data")
        self.source_combo = QComboBox()
        for key, label in SOURCES:
            self.source_combo.addItem(label, key)
        self.source_combo.setToolTip("Which images to train and test on")
        self.download_bar = QProgressBar()
        self.download_bar.setFormat("%p%")
        self.download_label = QLabel()
        self.download_label.setWordWrap(True)
        self.details_button = QToolButton()
        self.details_button.setText("Details…")
        self.details_button.setAutoRaise(True)
        self.details_button.setToolTip("The whole message")
        self.details_button.clicked.connect(self.show_download_details)
        self._details = None   # (title, full message) behind the Details button
        row = QHBoxLayout()
        row.addWidget(self.source_combo, 1)
        self.download_button = _button(self.download_action)
        self.cancel_download_button = _button(self.cancel_download_action)
        row.addWidget(self.download_button)
        row.addWidget(self.download_bar, 1)
        row.addWidget(self.cancel_download_button)
        message_row = QHBoxLayout()
        message_row.addWidget(self.download_label, 1)
        message_row.addWidget(self.details_button)
        layout = QVBoxLayout(box)
        layout.addLayout(row)
        layout.addLayout(message_row)
        return box

    def _build_settings_box(self) -> QGroupBox:
        box = QGroupBox("Settings")
        self.epochs_spin = QSpinBox(minimum=1, maximum=100, value=GUI_EPOCHS)
        self.epochs_spin.setToolTip("Passes over the training images")
        self.batch_spin = QSpinBox(minimum=1, maximum=1024, value=RECIPE.batch_size)
        self.batch_spin.setToolTip("Images per gradient step")
        self.lr_spin = QDoubleSpinBox(minimum=0.0001, maximum=1.0, decimals=4, singleStep=0.005,
                                      value=RECIPE.learning_rate)
        self.lr_spin.setToolTip("Step size of gradient descent (decays along a cosine to 0)")
        self.size_spin = QSpinBox(minimum=0, maximum=60000, singleStep=1000, value=0)   # 0: "All"
        self.size_spin.setSpecialValueText("All")
        self.size_spin.setToolTip("Train on the first N images only (All: the whole set)")
        self.augment_check = QCheckBox("Augment")
        self.augment_check.setChecked(RECIPE.augment)
        self.augment_check.setToolTip("Randomly shift, scale, rotate, slant and thicken the training "
                                      "digits so the network copes with real handwriting")
        layout = QGridLayout(box)
        fields = (("Epochs", self.epochs_spin), ("Batch size", self.batch_spin),
                  ("Learning rate", self.lr_spin), ("Training images", self.size_spin))
        for column, (text, spin) in enumerate(fields):
            label = QLabel(text)
            label.setBuddy(spin)
            layout.addWidget(label, 0, column)
            layout.addWidget(spin, 1, column)
            layout.setColumnStretch(column, 1)
        layout.addWidget(self.augment_check, 1, len(fields))
        return box

    def _build_run_box(self) -> QGroupBox:
        box = QGroupBox("Run")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.speed_label = QLabel(self._status)
        self.test_label = QLabel()
        self.test_label.setToolTip("Accuracy on test images the network never trains on")
        self.run_row = buttons = QHBoxLayout()          # others may put controls before Train
        for action in (self.train_action, self.pause_action, self.stop_action):
            buttons.addWidget(_button(action))
        buttons.addWidget(self.progress_bar, 1)
        status = QHBoxLayout()
        status.addWidget(self.speed_label, 1)
        status.addWidget(self.test_label)
        self.start_row = QHBoxLayout()                  # how a run starts (others fill it), above Train
        layout = QVBoxLayout(box)
        layout.addLayout(self.start_row)
        layout.addLayout(buttons)
        layout.addLayout(status)
        return box

    # ---- reading the choices ----------------------------------------------------------------
    def config(self) -> TrainConfig:
        return TrainConfig(epochs=self.epochs_spin.value(), batch_size=self.batch_spin.value(),
                           learning_rate=self.lr_spin.value(), augment=self.augment_check.isChecked())

    def train_size(self) -> int | None:
        """Train on the first N images; None: all."""
        return self.size_spin.value() or None

    def source(self) -> str:
        """"sample" or "mnist"."""
        return self.source_combo.currentData()

    # ---- showing state ----------------------------------------------------------------------
    def set_training_state(self, state: State) -> None:
        idle = state == State.IDLE
        self.train_action.setEnabled(idle)
        self.pause_action.setEnabled(state in (State.RUNNING, State.PAUSED))
        self.pause_action.setText("&Resume" if state == State.PAUSED else "&Pause")
        self.stop_action.setEnabled(state in (State.RUNNING, State.PAUSED))
        for widget in (self.source_combo, self.epochs_spin, self.batch_spin,
                       self.lr_spin, self.size_spin, self.augment_check):
            widget.setEnabled(idle)
        self._paused = state == State.PAUSED
        self._show_status()

    def start_run(self) -> None:
        self.curves.clear()
        self.progress_bar.setValue(0)
        self.test_label.clear()
        self._status = "Loading the images…"
        self._show_status()

    def set_pace(self, steps_per_s: float | None) -> None:
        """Slow motion (steps a second) or full speed (None): the time left counts the spaced steps."""
        self.steps_per_s = steps_per_s

    def _eta_s(self, progress) -> float:
        if self.steps_per_s is None:
            return progress.eta_s                       # the engine's own figure at full speed
        steps_left = ((progress.epochs - progress.epoch) * progress.steps_per_epoch
                      + progress.steps_per_epoch - progress.step)
        return max(steps_left, 0) / self.steps_per_s

    def show_progress(self, progress) -> None:
        """One core.train.Progress."""
        self.progress_bar.setValue(round(1000 * progress.fraction))
        self._status = (f"Epoch {progress.epoch}/{progress.epochs} · {progress.images_per_s:,.0f} images/s · "
                        f"{format_duration(self._eta_s(progress))} left")
        self._show_status()
        if progress.test_accuracy is not None:
            self.test_label.setText(f"Test accuracy after epoch {progress.epoch}: "
                                    f"{progress.test_accuracy:.1%}")
        self.curves.add_progress(progress)

    def show_outcome(self, text: str) -> None:
        self._status = text
        self._show_status()

    def _show_status(self) -> None:
        self.speed_label.setText(self._status + (" · paused" if self._paused else ""))

    def set_mnist_available(self, available: bool) -> None:
        item = self.source_combo.model().item(1)
        item.setEnabled(available)
        item.setToolTip("" if available else "Download full MNIST first")
        if not available and self.source() == "mnist":
            self.source_combo.setCurrentIndex(0)
        self.download_action.setVisible(not available)
        self.download_button.setVisible(not available)
        self.show_download_message("")

    def set_downloading(self, downloading: bool) -> None:
        self.download_action.setEnabled(not downloading)
        self.cancel_download_action.setEnabled(downloading)
        self.cancel_download_action.setVisible(downloading)
        self.cancel_download_button.setVisible(downloading)
        self.download_bar.setVisible(downloading)
        if downloading:
            self.download_bar.setRange(0, 0)           # busy until the first report
            self.show_download_message("Connecting…")

    def show_download_progress(self, done: int, total: int, name: str) -> None:
        if total > 0:
            self.download_bar.setRange(0, 1000)
            self.download_bar.setValue(round(1000 * done / total))
            self.show_download_message(f"{name}: {format_bytes(done)} of {format_bytes(total)}")
        else:
            self.show_download_message(f"{name}: {format_bytes(done)}")

    def show_download_message(self, text: str, title: str = "Full MNIST") -> None:
        """One short line in the Data box; a longer message is one click away (Details…)."""
        summary = summary_of(text)
        self._details = (title, text.strip()) if summary != text.strip() else None
        self.download_label.setText(summary)
        self.download_label.setToolTip(text.strip())   # the whole message on hover, too
        self.download_label.setVisible(bool(text))
        self.details_button.setVisible(self._details is not None)

    def download_details(self):
        """(title, full message) behind the Details button, or None when the line says it all."""
        return self._details

    def show_download_details(self) -> None:
        if self._details is not None:
            QMessageBox.warning(self, *self._details)

    # ---- persistence ------------------------------------------------------------------------
    def save_settings(self, settings: QSettings) -> None:
        settings.setValue("training/epochs", self.epochs_spin.value())
        settings.setValue("training/batch_size", self.batch_spin.value())
        settings.setValue("training/learning_rate", self.lr_spin.value())
        settings.setValue("training/train_size", self.size_spin.value())
        settings.setValue("training/augment", int(self.augment_check.isChecked()))
        settings.setValue("training/source", self.source())

    def load_settings(self, settings: QSettings) -> None:
        self.epochs_spin.setValue(read_int(settings, "training/epochs", GUI_EPOCHS))
        self.batch_spin.setValue(read_int(settings, "training/batch_size", RECIPE.batch_size))
        self.lr_spin.setValue(read_float(settings, "training/learning_rate", RECIPE.learning_rate))
        self.size_spin.setValue(read_int(settings, "training/train_size", 0))   # 0: all
        self.augment_check.setChecked(bool(read_int(settings, "training/augment", int(RECIPE.augment))))
        index = self.source_combo.findData(read_str(settings, "training/source", "sample"))
        if index >= 0 and self.source_combo.model().item(index).isEnabled():
            self.source_combo.setCurrentIndex(index)

"""'Teach it': the user labels their own drawings and builds a personal handwriting set.

TeachPanel shows the drawing the model just read, offers buttons 0..9 (keys 0-9 while the
panel has focus) to store it under the right digit, lists the stored samples, and reports
how many of them the current model reads correctly.

Every change is saved at once by core.userdata.PersonalDataset. When saving fails, the
panel says why in a message box and nothing is lost: the previous file stays, the drawing
stays on the canvas and can be stored again once the problem is fixed.
"""
import numpy as np
from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.errors import DigitpadError
from core.mnist_format import NUM_CLASSES
from core.userdata import PersonalDataset
from gui.views.results import digit_pixmap

PREVIEW_SIZE = 56
THUMB_SIZE = 40
DIGIT_KEYS = {getattr(Qt.Key, f"Key_{digit}"): digit for digit in range(NUM_CLASSES)}
NO_IMAGE_TEXT = "Draw a digit on the canvas; then press the digit you meant to teach it."


class TeachPanel(QWidget):
    """Label drawings with the right digit, browse the stored samples, see the model's score."""

    sampleAdded = Signal(int)  # the digit just stored
    samplesChanged = Signal()  # after any add, remove or clear that was saved
    mixIntoTrainingChanged = Signal(bool)

    def __init__(self, dataset=None, parent=None):
        super().__init__(parent)
        if dataset is None:
            dataset = PersonalDataset(start_empty_if_corrupt=True)
        self._dataset = dataset
        self._image = None  # (28, 28) drawing waiting for a label, or None
        self._stored_note = None  # "Stored as a 3. Draw the next one." until the next drawing
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("QLabel { background: #fff3cd; color: #664d03; padding: 4px; }")
        self.preview = QLabel()
        self.preview.setFixedSize(PREVIEW_SIZE, PREVIEW_SIZE)
        self.prompt = QLabel(NO_IMAGE_TEXT)
        self.prompt.setWordWrap(True)
        self.digit_buttons = [self._digit_button(digit) for digit in range(NUM_CLASSES)]
        self.mix_checkbox = QCheckBox("Mix my handwriting into training")
        self.mix_checkbox.setToolTip("When training, add your stored samples to the MNIST images "
                                     "so the model learns your way of writing.")
        self.mix_checkbox.toggled.connect(self.mixIntoTrainingChanged)
        self.score_label = QLabel()
        self.browser = self._build_browser()
        self.browser.installEventFilter(self)
        self.counts_label = QLabel()
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Delete the selected sample (Delete key in the list)")
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button = QPushButton("Clear all…")
        self.clear_button.setToolTip("Delete every stored sample (asks first)")
        self.clear_button.clicked.connect(self.clear_all)

        self._lay_out()
        self._show_load_problem()
        self._refill_browser()
        self._update_counts()
        self._show_unscored()
        self.set_current_image(None)

    # ---- public API -------------------------------------------------------------------------
    @property
    def dataset(self):
        """The PersonalDataset the panel stores into."""
        return self._dataset

    @property
    def mix_into_training(self):
        """Whether the user wants their samples mixed into training."""
        return self.mix_checkbox.isChecked()

    @mix_into_training.setter
    def mix_into_training(self, on):
        self.mix_checkbox.setChecked(bool(on))  # emits mixIntoTrainingChanged when it changes

    def set_current_image(self, image28, predicted=None, confidence=None):
        """The (28, 28) 0..255 drawing to label, with what the model read (optional); None = none."""
        self._image = None if image28 is None else np.array(image28, dtype=np.float64)  # (28, 28)
        for button in self.digit_buttons:
            button.setEnabled(self._image is not None)
        if self._image is None:
            self.preview.clear()
            self.prompt.setText(self._stored_note or NO_IMAGE_TEXT)
            return
        self._stored_note = None
        self.preview.setPixmap(digit_pixmap(self._image, PREVIEW_SIZE))
        if predicted is None:
            self.prompt.setText("Which digit is this? Press it below to teach it.")
        else:
            sure = "" if confidence is None else f" ({confidence:.0%} sure)"
            self.prompt.setText(f"The model read this as {predicted}{sure}. "
                                "Press the digit you meant to store it in your handwriting set.")

    def add_current(self, label):
        """Store the current drawing as `label`; True when saved (buttons 0..9 call this)."""
        if self._image is None:
            return False
        try:
            self._dataset.add(self._image, label)
        except (DigitpadError, OSError) as error:
            self._report("Your sample was not saved", error)
            return False
        self._show_load_problem()
        self._after_change()
        self._stored_note = f"Stored as a {label}. Draw the next one."
        self.set_current_image(None)  # one drawing, one sample: no accidental duplicates
        self.sampleAdded.emit(int(label))  # the window then clears the pad
        return True

    def update_score(self, model):
        """Show how many stored samples `model` (anything with predict(images)) reads right."""
        correct, total = self._dataset.score(model)
        if total == 0:
            self.score_label.setText("Your handwriting: no samples yet.")
        else:
            self.score_label.setText(f"Your handwriting: {correct}/{total} read correctly")

    def remove_selected(self):
        """Delete the sample selected in the browser."""
        selected = self.browser.selectedItems()
        if not selected:
            return
        row = self.browser.row(selected[0])
        try:
            self._dataset.remove(row)
        except (DigitpadError, OSError) as error:
            self._report("The sample was not removed", error)
            return
        self._after_change()

    def clear_all(self):
        """Delete every stored sample after the user confirms."""
        if len(self._dataset) == 0:
            return
        answer = QMessageBox.question(
            self, "Delete all your samples?",
            f"Delete all {len(self._dataset)} of your handwriting samples? This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self._dataset.clear()
        except (DigitpadError, OSError) as error:
            self._report("Your samples were not deleted", error)
            return
        self._after_change()

    # ---- events -------------------------------------------------------------------------------
    def keyPressEvent(self, event):
        if not self._handle_key(event.key(), in_browser=False):
            super().keyPressEvent(event)

    def eventFilter(self, watched, event):
        """Keys typed in the samples list: digits still label, Delete removes (no type-ahead)."""
        if event.type() == QEvent.Type.KeyPress and watched is self.browser:
            if self._handle_key(event.key(), in_browser=True):
                return True
        return super().eventFilter(watched, event)

    def _handle_key(self, key, in_browser):
        """Keys 0-9 store the drawing; Delete in the list removes a sample. True if handled."""
        digit = DIGIT_KEYS.get(key)
        if digit is not None and self._image is not None:
            self.add_current(digit)
            return True
        if key == Qt.Key.Key_Delete and in_browser:
            self.remove_selected()
            return True
        return False

    # ---- building -----------------------------------------------------------------------------
    def _digit_button(self, digit):
        button = QPushButton(str(digit))
        button.setToolTip(f"Store this drawing as a {digit} (key {digit})")
        button.setMinimumWidth(32)
        button.clicked.connect(lambda: self.add_current(digit))
        return button

    def _build_browser(self):
        browser = QListWidget()
        browser.setViewMode(QListView.ViewMode.IconMode)
        browser.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        browser.setGridSize(QSize(THUMB_SIZE + 14, THUMB_SIZE + 22))
        browser.setResizeMode(QListView.ResizeMode.Adjust)
        browser.setMovement(QListView.Movement.Static)
        browser.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        browser.setToolTip("Your stored samples; select one and press Delete to remove it")
        return browser

    def _lay_out(self):
        buttons = QGridLayout()
        for digit, button in enumerate(self.digit_buttons):
            buttons.addWidget(button, digit // 5, digit % 5)
        current = QHBoxLayout()
        current.addWidget(self.preview)
        current.addWidget(self.prompt, 1)
        stored = QGroupBox("Your handwriting samples")
        stored_layout = QVBoxLayout(stored)
        stored_layout.addWidget(self.counts_label)
        stored_layout.addWidget(self.browser)
        actions = QHBoxLayout()
        actions.addStretch(1)
        actions.addWidget(self.remove_button)
        actions.addWidget(self.clear_button)
        stored_layout.addLayout(actions)
        layout = QVBoxLayout(self)
        layout.addWidget(self.problem)
        layout.addLayout(current)
        layout.addLayout(buttons)
        layout.addWidget(self.mix_checkbox)
        layout.addWidget(self.score_label)
        layout.addWidget(stored, 1)

    # ---- keeping the view in step with the dataset -------------------------------------------
    def _refill_browser(self):
        self.browser.clear()
        for index in range(len(self._dataset)):
            self._append_thumbnail(index)
        self._shown = (self._dataset.images, self._dataset.labels)

    def _sync_browser(self):
        """Show the samples as saved. Usually that is the shown ones plus the one just added; but
        another window may have added or removed some at the same time (core.userdata merges them)."""
        (images, labels), stored = self._shown, len(self._dataset)
        added_one = (stored == len(labels) + 1 and np.array_equal(self._dataset.labels[:-1], labels)
                     and np.array_equal(self._dataset.images[:-1], images))
        if added_one:
            self._append_thumbnail(stored - 1)
            self._shown = (self._dataset.images, self._dataset.labels)
        else:
            self._refill_browser()

    def _append_thumbnail(self, index):
        label = int(self._dataset.labels[index])
        item = QListWidgetItem(QIcon(digit_pixmap(self._dataset.images[index], THUMB_SIZE)), str(label))
        item.setToolTip(f"Stored as a {label}")
        self.browser.addItem(item)

    def _after_change(self):
        self._sync_browser()
        self._update_counts()
        self._show_unscored()
        self.samplesChanged.emit()

    def _update_counts(self):
        counts = self._dataset.counts()  # (10,)
        per_digit = "  ".join(f"{digit}: {count}" for digit, count in enumerate(counts))
        self.counts_label.setText(f"{len(self._dataset)} stored — {per_digit}")
        has_samples = len(self._dataset) > 0
        self.remove_button.setEnabled(has_samples)
        self.clear_button.setEnabled(has_samples)

    def _show_unscored(self):
        total = len(self._dataset)
        if total == 0:
            self.score_label.setText("Your handwriting: no samples yet.")
        else:
            self.score_label.setText(f"Your handwriting: {total} samples, not scored yet")

    def _show_load_problem(self):
        error, kept = self._dataset.load_error, self._dataset.set_aside_path
        if error is not None:
            self.problem.setText(f"{error} Your next sample starts a new collection; the unreadable "
                                 f"file will then be kept next to it as {self._dataset.path.name}"
                                 ".corrupt-<date>-<time>.")
        elif kept is not None:
            self.problem.setText(f"The unreadable samples file was kept as {kept}.")
        self.problem.setVisible(error is not None or kept is not None)

    def _report(self, title, error):
        QMessageBox.warning(self, title, str(error))

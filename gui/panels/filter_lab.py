"""The filter lab: switch filters off, edit their nine weights, load presets, and see what changes.

The lab edits the app's model in place (its conv filters, and its output layer when "Train the
output layer only" runs), so the prediction, the evidence and every view follow at once; it
emits modelEdited after each change. The first edit keeps a snapshot of the model's weights;
Reset puts them back. Accuracy on the bundled test sample is recomputed a slice at a time
(gui.background.slices) on a copy of the model, so typing a weight never freezes the window.
"""
import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QButtonGroup, QCheckBox, QComboBox, QDoubleSpinBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
    QProgressBar, QPushButton, QSizePolicy, QToolButton, QVBoxLayout, QWidget,
)

from core import explain, filterlab
from gui.background.slices import SlicedJob
from gui.views.colormap import diverging_rgb
from gui.views.evidence import evidence_rgb
from gui.views.tiles import FRAME, TileGrid

WEIGHT_RANGE = 5.0
NO_SAMPLE = "The bundled test sample could not be read, so accuracy cannot be shown: {error}"


class KernelPainter(QWidget):
    """The 3x3 filter as coloured cells: drag with the left button to paint +brush, right for -brush."""

    painted = Signal(int, int, float)      # row, col, new weight

    def __init__(self, parent=None):
        super().__init__(parent)
        self._kernel = np.zeros((3, 3))
        self.brush = 1.0
        self.setFixedSize(126, 126)
        self.setToolTip("Paint the filter: left button sets a cell to +brush, right button to -brush")

    def set_kernel(self, kernel) -> None:
        self._kernel = np.array(kernel, dtype=np.float64)
        self.update()

    def _cell(self, event):
        side = min(self.width(), self.height()) / 3
        col, row = int(event.position().x() // side), int(event.position().y() // side)
        return (row, col) if 0 <= row < 3 and 0 <= col < 3 else None

    def _paint_at(self, event) -> None:
        cell = self._cell(event)
        buttons = event.buttons()
        if cell is None or not buttons & (Qt.MouseButton.LeftButton | Qt.MouseButton.RightButton):
            return
        value = self.brush if buttons & Qt.MouseButton.LeftButton else -self.brush
        if self._kernel[cell] != value:
            self._kernel[cell] = value
            self.update()
            self.painted.emit(*cell, value)

    def mousePressEvent(self, event):
        self._paint_at(event)

    def mouseMoveEvent(self, event):
        self._paint_at(event)

    def paintEvent(self, event):
        painter = QPainter(self)
        side = min(self.width(), self.height()) / 3
        limit = max(float(np.abs(self._kernel).max()), 1e-6)
        colours = diverging_rgb(self._kernel, limit)
        for row in range(3):
            for col in range(3):
                rect = QRectF(col * side, row * side, side, side)
                painter.fillRect(rect, QColor(*(int(v) for v in colours[row, col])))
                painter.setPen(QPen(FRAME, 1))
                painter.drawRect(rect)
                painter.setPen(QColor("black"))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, weight_text(self._kernel[row, col]))


def weight_text(value: float) -> str:
    """A weight as the painting shows it: "+0.32", "-0.05"; one that rounds to zero is "0.00", never "-0.00"."""
    rounded = round(float(value), 2) + 0.0          # + 0.0 turns -0.0 into 0.0
    return "0.00" if rounded == 0 else f"{rounded:+.2f}"


class FilterLab(QWidget):
    """Edit the model's filters and watch the prediction, the evidence and the accuracy."""

    modelEdited = Signal()

    def __init__(self, load_test_sample, load_train_sample, parent=None):
        """load_*_sample() -> (images, labels); may raise DataError (the lab then says so)."""
        super().__init__(parent)
        self._load_test = load_test_sample
        self._load_train = load_train_sample
        self._model = None
        self._image = None
        self._snapshot = None          # params before the first edit
        self._filters = None           # (F, 3, 3) the weights being edited, on or off
        self._enabled = None           # (F,) bool
        self._baseline = None          # accuracy with the model's own weights
        self._current = 0
        self._loading = False
        self._training_run = False     # a real training run is updating the weights
        self.accuracy_job = SlicedJob(self)
        self.accuracy_job.finished.connect(self._accuracy_done)
        self.training_job = SlicedJob(self)
        self.training_job.progressed.connect(self._training_progress)
        self.training_job.finished.connect(self._training_done)
        self._trainee = None
        self._build()

    # ---- construction -------------------------------------------------------------------------
    def _build(self) -> None:
        self.filter_buttons = QButtonGroup(self)
        self.filter_row = QHBoxLayout()
        self.filter_row.setSpacing(3)
        self.filter_row.addWidget(QLabel("Filter"))
        self.filter_buttons.idClicked.connect(self.choose_filter)
        self.on_box = QCheckBox("on")
        self.on_box.setToolTip("Switch this filter off (all its outputs become 0) or back on")
        self.on_box.toggled.connect(self._switch)

        self.spins = []
        numbers = QGridLayout()
        for row in range(3):
            for col in range(3):
                spin = QDoubleSpinBox()
                spin.setRange(-WEIGHT_RANGE, WEIGHT_RANGE)
                spin.setSingleStep(0.1)
                spin.setDecimals(2)
                spin.setToolTip(f"Weight at row {row + 1}, column {col + 1}")
                spin.valueChanged.connect(lambda value, r=row, c=col: self._set_weight(r, c, value))
                numbers.addWidget(spin, row, col)
                self.spins.append(spin)
        self.painter = KernelPainter()
        self.painter.painted.connect(self._set_weight)
        self.brush_spin = QDoubleSpinBox()
        self.brush_spin.setRange(0.0, WEIGHT_RANGE)
        self.brush_spin.setSingleStep(0.25)
        self.brush_spin.setValue(1.0)
        self.brush_spin.setToolTip("The value painting sets (left button), or its negative (right button)")
        self.brush_spin.valueChanged.connect(lambda v: setattr(self.painter, "brush", v))
        self.preset_combo = QComboBox()
        self.preset_combo.addItem("Load a preset…")
        for name in filterlab.PRESETS:
            self.preset_combo.addItem(name)
        self.preset_combo.setToolTip("Replace this filter by a hand-made one, as strong as the filter it replaces")
        self.preset_combo.activated.connect(self._load_preset)
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Put back the model's own filters and output layer")
        self.reset_button.clicked.connect(self.reset)
        self.train_button = QPushButton("Train the output layer only")
        self.train_button.setToolTip("Retrain the output layer for these filters (filters frozen) on the "
                                     "bundled 10,000 training digits")
        self.train_button.clicked.connect(self.train_output_layer)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)

        self.accuracy_label = QLabel()
        self.accuracy_label.setWordWrap(True)
        self.prediction_label = QLabel()
        self.prediction_label.setWordWrap(True)
        self.evidence_picture = TileGrid(columns=1, min_tile=80, captions=False)
        self.evidence_picture.setToolTip("The evidence for the predicted digit with these filters "
                                         "(red for, blue against)")

        editor = QGroupBox("Edit the filter")
        editor_layout = QGridLayout(editor)
        editor_layout.addLayout(self.filter_row, 0, 0, 1, 3)
        editor_layout.addWidget(self.on_box, 0, 3)
        editor_layout.addWidget(QLabel("By number"), 1, 0)
        editor_layout.addWidget(QLabel("By painting"), 1, 2)
        editor_layout.addLayout(numbers, 2, 0, 1, 2)
        editor_layout.addWidget(self.painter, 2, 2, 1, 2)
        brush_row = QHBoxLayout()
        brush_row.addWidget(QLabel("Brush"))
        brush_row.addWidget(self.brush_spin)
        brush_row.addStretch(1)
        editor_layout.addLayout(brush_row, 3, 2, 1, 2)
        editor_layout.addWidget(self.preset_combo, 3, 0, 1, 2)
        buttons = QHBoxLayout()
        buttons.addWidget(self.reset_button)
        buttons.addWidget(self.train_button)
        editor_layout.addLayout(buttons, 4, 0, 1, 4)
        editor_layout.addWidget(self.progress, 5, 0, 1, 4)
        editor_layout.setRowStretch(6, 1)

        outcome = QGroupBox("What it changes")
        outcome_layout = QVBoxLayout(outcome)
        outcome_layout.addWidget(self.prediction_label)
        outcome_layout.addWidget(self.evidence_picture, 1)
        outcome_layout.addWidget(self.accuracy_label)
        layout = QHBoxLayout(self)
        layout.addWidget(editor, 3)
        layout.addWidget(outcome, 2)

    # ---- public API ---------------------------------------------------------------------------
    def set_model(self, model) -> None:
        """A new model, or new weights from training: edits and snapshot are dropped."""
        self.accuracy_job.cancel()
        self.training_job.cancel()
        self._trainee = None
        self.progress.setVisible(False)
        self._model = model
        self._snapshot = None
        self._baseline = None
        self._filters = model.params["conv.filters"].astype(np.float64).copy()
        self._enabled = np.any(self._filters != 0, axis=(1, 2))
        self._rebuild_filter_buttons(model.num_filters)
        self.choose_filter(min(self._current, model.num_filters - 1))
        self._set_editing(not self._training_run)

    def show_state(self, model, image) -> None:
        if model is not self._model or self._filters is None:
            self.set_model(model)
        self._image = image
        self._show_prediction()
        if self._accuracy_needed():
            self._start_accuracy()

    def set_enabled_for_training(self, training: bool) -> None:
        """While a training run updates the weights (or the time machine shows a past step), the lab rests.
        Called on every scrub: nothing to do when the lab already rests (or works) as asked."""
        if training == self._training_run:
            return
        self._training_run = training
        if training:
            self.training_job.cancel()
            self.accuracy_job.cancel()
            self._trainee = None
            self.progress.setVisible(False)
        self._set_editing(not training)
        if not training and self._model is not None and self.isVisible() and self._accuracy_needed():
            self._start_accuracy()

    def _set_editing(self, enabled: bool) -> None:
        for widget in (self.reset_button, self.train_button, self.preset_combo, self.on_box, self.painter,
                       *self.spins, *self.filter_buttons.buttons()):
            widget.setEnabled(enabled)

    def edited(self) -> bool:
        return self._snapshot is not None

    def accuracy_text(self) -> str:
        return self.accuracy_label.text()

    def choose_filter(self, index: int) -> None:
        self._current = index
        button = self.filter_buttons.button(index)
        if button is not None:
            button.setChecked(True)
        self._show_filter()

    def set_weights(self, kernel) -> None:
        """Replace the current filter's nine weights (3, 3)."""
        self._begin_edit()
        self._filters[self._current] = np.asarray(kernel, dtype=np.float64)
        self._enabled[self._current] = True
        self._apply()

    def switch_off(self, index: int, off: bool = True) -> None:
        self._begin_edit()
        self._enabled[index] = not off
        self._apply()

    def reset(self) -> None:
        if self._snapshot is None or self._model is None:
            return
        self.training_job.cancel()
        self.progress.setVisible(False)
        self._model.set_params(self._snapshot)
        self.set_model(self._model)
        self._after_change()

    def train_output_layer(self) -> None:
        if self._model is None:
            return
        try:
            images, labels = self._load_train()
        except Exception as error:  # DataError or an unreadable file: say so, keep everything
            self.accuracy_label.setText(NO_SAMPLE.format(error=error))
            return
        self._begin_edit()
        self._trainee = self._model.copy()
        self.progress.setValue(0)
        self.progress.setFormat("Preparing the pooled maps… %p%")
        self.progress.setVisible(True)
        self._set_editing(False)    # the filters stay as they are while their output layer is fitted
        self.training_job.start(filterlab.train_output_layer_steps(self._trainee, images, labels))

    # ---- editing ------------------------------------------------------------------------------
    def _rebuild_filter_buttons(self, count: int) -> None:
        if len(self.filter_buttons.buttons()) == count:
            return
        for button in self.filter_buttons.buttons():
            self.filter_buttons.removeButton(button)
            button.deleteLater()
        for f in range(count):
            button = QToolButton()
            button.setText(str(f + 1))
            button.setCheckable(True)
            button.setToolTip(f"Edit filter {f + 1}")
            self.filter_buttons.addButton(button, f)
            self.filter_row.insertWidget(self.filter_row.count(), button)
        self.filter_buttons.setExclusive(True)

    def _show_filter(self) -> None:
        if self._filters is None:
            return
        kernel = self._filters[self._current]
        self._loading = True
        for spin, value in zip(self.spins, kernel.ravel()):
            spin.setValue(float(value))
        self.on_box.setChecked(bool(self._enabled[self._current]))
        self._loading = False
        self.painter.set_kernel(kernel * self._enabled[self._current])
        for f, button in enumerate(self.filter_buttons.buttons()):
            button.setText(str(f + 1) if self._enabled[f] else f"({f + 1})")

    def _set_weight(self, row: int, col: int, value: float) -> None:
        if self._loading or self._filters is None:
            return
        kernel = self._filters[self._current].copy()
        kernel[row, col] = value
        self.set_weights(kernel)

    def _switch(self, on: bool) -> None:
        if not self._loading and self._filters is not None:
            self.switch_off(self._current, not on)

    def _load_preset(self, index: int) -> None:
        if index <= 0 or self._filters is None:
            return
        strength = filterlab.strength_of(self._snapshot_filters()[self._current])
        self.set_weights(filterlab.preset(self.preset_combo.itemText(index), strength))
        self.preset_combo.setCurrentIndex(0)

    def _snapshot_filters(self) -> np.ndarray:
        source = self._snapshot if self._snapshot is not None else self._model.params
        return np.asarray(source["conv.filters"], dtype=np.float64)

    def _begin_edit(self) -> None:
        if self._snapshot is None:
            self._snapshot = self._model.get_params()

    def _apply(self) -> None:
        self._model.params["conv.filters"][...] = self._filters * self._enabled[:, None, None]
        self._show_filter()
        self._after_change()

    def _after_change(self) -> None:
        self.modelEdited.emit()
        self._show_prediction()
        self._start_accuracy()

    # ---- outcome ------------------------------------------------------------------------------
    def _show_prediction(self) -> None:
        if self._model is None or self._image is None:
            self.prediction_label.setText("Draw a digit to see what these filters make of it.")
            self.evidence_picture.set_placeholder("—")
            return
        probabilities = self._model.predict_proba(self._image, seen=True)[0]
        digit = int(np.argmax(probabilities))
        self.prediction_label.setText(f"Your drawing is read as <b>{digit}</b> ({probabilities[digit]:.0%}).")
        cells = explain.evidence(self._model, self._image, digit).sum(axis=2)  # (13, 13)
        limit = max(float(np.abs(cells).max()), 1e-6)
        self.evidence_picture.set_tiles([evidence_rgb(self._image, cells, limit)])
        self.evidence_picture.set_placeholder("")

    def _accuracy_needed(self) -> bool:
        return self._baseline is None and not self.accuracy_job.is_running()

    def _start_accuracy(self) -> None:
        if self._training_run:     # the weights change several times a second: measure when it stops
            self.accuracy_label.setText("The lab rests while training runs or a past step is shown; the "
                                        "accuracy is measured again afterwards.")
            return
        try:
            images, labels = self._load_test()
        except Exception as error:  # DataError or an unreadable file: say so, keep everything
            self.accuracy_label.setText(NO_SAMPLE.format(error=error))
            return
        self.accuracy_label.setText(f"Accuracy on the {len(images):,} bundled test digits: measuring…")
        self.accuracy_job.start(filterlab.accuracy_steps(self._model.copy(), images, labels))

    def _accuracy_done(self, result) -> None:
        if result is None:
            return
        correct, seen = result
        share = correct / seen
        if self._snapshot is None:
            self._baseline = share
        text = f"Accuracy on the {seen:,} bundled test digits: <b>{share:.1%}</b>"
        if self._snapshot is not None and self._baseline is not None:
            text += f" (with the model's own weights: {self._baseline:.1%})"
        self.accuracy_label.setText(text)

    def _training_progress(self, step) -> None:
        stage, fraction, loss = step
        self.progress.setValue(round(100 * fraction))
        if stage == "training":
            self.progress.setFormat(f"Training the output layer… %p% (loss {loss:.3f})")

    def _training_done(self, step) -> None:
        self.progress.setVisible(False)
        self._set_editing(True)
        trainee, self._trainee = self._trainee, None
        if trainee is None or self._model is None:
            return
        for name in ("softmax.weights", "softmax.biases"):
            self._model.params[name][...] = trainee.params[name]
        self._after_change()

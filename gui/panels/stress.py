"""Fool it, stress it: push the drawing to another digit, or rotate, shift, thicken and blur it.

"Make it read as N" runs core.explain.fool on the network input and shows which pixels changed
and by how much (the result stays here: put back on the pad, it would be cropped and centred
again, which undoes such small changes); the sliders apply core.stress to the drawing, with the prediction and a chart of
how sure the network stays of its first answer across the last-moved slider's range.
"""
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider,
    QVBoxLayout, QWidget,
)

from core import explain, stress
from gui.background.slices import SlicedJob
from gui.views.colormap import diverging_rgb, paper_rgb
from gui.views.digit_buttons import digit_button_row
from gui.views.tiles import TileGrid

# slider -> (knob, slider units per knob unit, label format)
SLIDERS = {
    "rotate": (1, "{:+.0f}°"),
    "shift": (1, "{:+.0f} px"),
    "thicken": (100, "{:+.2f}"),
    "noise": (100, "{:.0%}"),
}
KNOB_TITLES = {"rotate": "Rotate", "shift": "Shift right", "thicken": "Thicken", "noise": "Noise"}
CURVE = "#d9544d"


class StressPanel(QWidget):
    """Fool the network and stress-test it on the current drawing."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._model = None
        self._image = None
        self._fooled = None
        self._knob = "rotate"
        self._target = None
        self.fool_job = SlicedJob(self)       # a hard case takes hundreds of steps: never freeze
        self.fool_job.finished.connect(self._fooled_ready)
        self._build()
        self.show_state(None, None)

    # ---- construction -------------------------------------------------------------------------
    def _build(self) -> None:
        self.target_buttons, targets = digit_button_row(
            self, lambda d: f"Change as few pixels as it can until the network reads {d}")
        self.target_buttons.idClicked.connect(self.fool_as)
        self.fool_tiles = TileGrid(columns=3, min_tile=64)
        self.fool_label = QLabel()
        self.fool_label.setWordWrap(True)
        fool_box = QGroupBox("Fool it")
        fool_layout = QVBoxLayout(fool_box)
        fool_layout.addWidget(QLabel("Make it read as"))
        fool_layout.addLayout(targets)
        self.fool_tiles.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        fool_layout.addWidget(self.fool_tiles)
        fool_layout.addWidget(self.fool_label)
        fool_layout.addStretch(1)

        self.sliders, self.slider_labels = {}, {}
        slider_grid = QGridLayout()
        for row, (knob, (per_unit, _)) in enumerate(SLIDERS.items()):
            spec = stress.KNOBS[knob]
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(round(spec.low * per_unit), round(spec.high * per_unit))
            slider.setValue(0)
            slider.setToolTip(f"{KNOB_TITLES[knob]} the drawing ({spec.low:g} to {spec.high:g})")
            slider.valueChanged.connect(lambda _=0, k=knob: self._slider_moved(k))
            label = QLabel()
            label.setMinimumWidth(52)
            slider_grid.addWidget(QLabel(KNOB_TITLES[knob]), row, 0)
            slider_grid.addWidget(slider, row, 1)
            slider_grid.addWidget(label, row, 2)
            self.sliders[knob], self.slider_labels[knob] = slider, label
        slider_grid.setColumnStretch(1, 1)
        reset = QPushButton("Reset sliders")
        reset.clicked.connect(self.reset_sliders)
        self.stressed_picture = TileGrid(columns=1, min_tile=84, captions=False)
        self.stressed_picture.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.stressed_picture.setFixedSize(96, 96)
        self.stress_label = QLabel()
        self.stress_label.setWordWrap(True)
        self.chart = pg.PlotWidget(background=None)
        self.chart.setMenuEnabled(False)
        self.chart.setMouseEnabled(False, False)
        self.chart.hideButtons()
        self.chart.setYRange(0, 1, padding=0.05)
        self.chart.getAxis("left").setTicks([[(v, f"{v:.0%}") for v in (0, 0.5, 1)]])
        self.chart.setMinimumHeight(110)
        self.curve = self.chart.plot([], [], pen=pg.mkPen(CURVE, width=2))
        self.now_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#30343b", style=Qt.PenStyle.DashLine))
        self.chart.addItem(self.now_line)
        stress_box = QGroupBox("Stress it")
        stress_layout = QVBoxLayout(stress_box)
        stress_layout.addLayout(slider_grid)
        outcome = QHBoxLayout()
        outcome.addWidget(self.stressed_picture, 0, Qt.AlignmentFlag.AlignTop)
        words = QVBoxLayout()
        words.addWidget(self.stress_label, 1)
        words.addWidget(reset, 0, Qt.AlignmentFlag.AlignLeft)
        outcome.addLayout(words, 1)
        stress_layout.addLayout(outcome)
        stress_layout.addWidget(self.chart, 1)

        layout = QHBoxLayout(self)
        layout.addWidget(fool_box, 1)
        layout.addWidget(stress_box, 1)

    # ---- public API ---------------------------------------------------------------------------
    def show_state(self, model, image) -> None:
        new_drawing = image is None or self._image is None or not np.array_equal(image, self._image)
        self._model, self._image = model, image
        if new_drawing:
            self._fooled = None
            self.fool_job.cancel()
        enabled = model is not None and image is not None
        for button in self.target_buttons.buttons():
            button.setEnabled(enabled)
        self._show_fool()
        self._show_stress()

    def fool_as(self, target: int) -> None:
        """Start pushing the drawing towards `target` (in slices; fooled_image() when done)."""
        if self._model is None or self._image is None:
            return
        self._target = target
        self.fool_label.setText(f"Looking for the few pixels that make it read as {target}…")
        self.fool_job.start(explain.fool_steps(self._model.copy(), self._image, target))

    def _fooled_ready(self, image) -> None:
        if image is not None:
            self._fooled = (self._target, image)
            self._show_fool()

    def wait_for_fool(self) -> None:
        """Finish a running "Make it read as" now (tests, screenshots)."""
        self.fool_job.run_to_end()

    def fooled_image(self):
        return None if self._fooled is None else self._fooled[1].copy()

    def settings(self) -> dict:
        return {knob: self.sliders[knob].value() / SLIDERS[knob][0] for knob in SLIDERS}

    def set_setting(self, knob: str, value: float) -> None:
        self.sliders[knob].setValue(round(value * SLIDERS[knob][0]))

    def reset_sliders(self) -> None:
        for slider in self.sliders.values():
            slider.blockSignals(True)
            slider.setValue(0)
            slider.blockSignals(False)
        self._show_stress()

    def curve_data(self):
        """(values, probabilities) of the robustness chart."""
        return self.curve.getData()

    # ---- fool ---------------------------------------------------------------------------------
    def _show_fool(self) -> None:
        if self._image is None or self._model is None:
            self.fool_tiles.set_placeholder("Draw a digit, then pick the digit it should be read as.")
            self.fool_label.setText("")
            return
        if self._fooled is None:
            self.fool_tiles.set_tiles([paper_rgb(self._image)], ["yours"])
            self.fool_tiles.set_placeholder("")
            self.fool_label.setText("Pick a digit: small gradient steps on the 28x28 input push the network "
                                    "towards it, changing as few pixels as it can.")
            return
        target, fooled = self._fooled
        change = fooled - np.asarray(self._image, dtype=np.float64)  # (28, 28)
        changed = int(np.count_nonzero(np.abs(change) > 0.5))
        self.fool_tiles.set_tiles(
            [paper_rgb(self._image), diverging_rgb(change, 255.0), paper_rgb(fooled)],
            ["yours", "changed", "now"],
            tooltip=lambda tile, r, c: f"Pixel ({r + 1}, {c + 1}): changed by {change[r, c]:+.0f}")
        self.fool_tiles.set_placeholder("")
        probabilities = self._model.predict_proba(fooled, seen=True)[0]
        said = int(np.argmax(probabilities))
        verdict = (f"Now read as <b>{said}</b> ({probabilities[said]:.0%})" if said == target else
                   f"Could not make it read as {target}; it now says {said}")
        self.fool_label.setText(f"{verdict} after changing {changed} of 784 pixels (red: ink added, blue: "
                                f"removed; largest change {np.abs(change).max():.0f} of 255).")

    # ---- stress -------------------------------------------------------------------------------
    def _slider_moved(self, knob: str) -> None:
        self._knob = knob
        self._show_stress()

    def _show_stress(self) -> None:
        settings = self.settings()
        for knob, (_, text) in SLIDERS.items():
            self.slider_labels[knob].setText(text.format(settings[knob]))
        if self._image is None or self._model is None:
            self.stressed_picture.set_placeholder("—")
            self.stress_label.setText("Draw a digit, then move a slider.")
            self.curve.setData([], [])
            return
        first = int(np.argmax(self._model.predict_proba(self._image, seen=True)[0]))
        stressed = stress.transformed(self._image, **settings)
        probabilities = self._model.predict_proba(stressed, seen=True)[0]
        said = int(np.argmax(probabilities))
        self.stressed_picture.set_tiles([paper_rgb(stressed)])
        self.stressed_picture.set_placeholder("")
        values, chances = stress.robustness(self._model, self._image, self._knob, first, settings)
        self.curve.setData(values, chances)
        self.now_line.setValue(settings[self._knob])
        spec = stress.KNOBS[self._knob]
        self.chart.setXRange(spec.low, spec.high, padding=0.02)
        self.chart.setLabel("bottom", f"{KNOB_TITLES[self._knob].lower()} ({spec.unit.strip() or 'amount'})")
        self._match_the_sliders_units(spec)
        self.stress_label.setText(
            f"Read as <b>{said}</b> ({probabilities[said]:.0%}). The chart: how sure it stays of {first} "
            f"across the {KNOB_TITLES[self._knob].lower()} slider's range (the other sliders as set).")

    def _match_the_sliders_units(self, spec) -> None:
        """The x ticks read as the slider's label does: noise in %, the others in their own units."""
        bottom = self.chart.getAxis("bottom")
        if SLIDERS[self._knob][1].endswith("%}"):
            bottom.setTicks([[(v, f"{v:.0%}") for v in np.linspace(spec.low, spec.high, 5)]])
            self.chart.setLabel("bottom", KNOB_TITLES[self._knob].lower())
        else:
            bottom.setTicks(None)

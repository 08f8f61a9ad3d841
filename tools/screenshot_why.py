"""Screenshots of the See why views, one per view: tools/screenshot.py runs WHY_SHOTS after its own.

Each shot is a function of the screenshot tool's Stage (window, pause, draw) that sets the window
up and returns the widget to photograph; WHY_SHOTS lists them as (name, function), in an order
where each one's state exists (the filter lab edits the model, so it comes last).
"""
DRAWN_TWO = [(0.30, 0.30), (0.38, 0.20), (0.52, 0.16), (0.64, 0.22), (0.67, 0.34), (0.60, 0.48),
             (0.45, 0.63), (0.30, 0.80), (0.50, 0.79), (0.72, 0.80)]


def _why_page(stage, page):
    window = stage.window
    window.tabs.setCurrentIndex(window.why_tab)
    window.why_panel.setCurrentWidget(page)
    stage.pause(150)
    return window


def _draw_fresh(stage, points):
    stage.window.canvas.clear()
    stage.draw(points)


def arithmetic(stage):
    """A feature-map pixel's arithmetic: patch x filter = products, summed."""
    from gui.views.arithmetic import Selection
    from simulate import DIGIT_THREE

    _draw_fresh(stage, DIGIT_THREE)
    window = _why_page(stage, stage.window.why_panel.arithmetic)
    window.why_panel.show_arithmetic(Selection("conv", 3, 8, 14))
    stage.pause(100)
    return window


def score(stage):
    """A probability's arithmetic: bias + per-filter sums, then the softmax."""
    from gui.views.arithmetic import Selection

    window = _why_page(stage, stage.window.why_panel.arithmetic)
    window.why_panel.show_arithmetic(Selection("score", window.prediction()[0]))
    stage.pause(100)
    return window


def evidence(stage):
    """Why the prediction rather than the runner-up, on a drawn 2."""
    _draw_fresh(stage, DRAWN_TWO)
    window = _why_page(stage, stage.window.why_panel.evidence)
    window.why_panel.evidence.set_digits(-1, -1)       # the prediction rather than the runner-up
    stage.pause(100)
    return window


def digit_weights(stage):
    return _why_page(stage, stage.window.why_panel.digit_weights)


def fool_and_stress(stage):
    """The 2 pushed to read as 8, and rotated by 25 degrees."""
    window = _why_page(stage, stage.window.why_panel.stress)
    panel = window.why_panel.stress
    panel.fool_as(8)
    panel.wait_for_fool()
    panel.set_setting("rotate", 25)
    stage.pause(100)
    return window


def digit_map(stage):
    window = _why_page(stage, stage.window.why_panel.digit_map)
    window.why_panel.digit_map.job.run_to_end()
    stage.pause(200)
    return window


def confusion_cell(stage):
    """The Results tab with one confusion-matrix cell opened (the first with a mistake in it)."""
    import numpy as np

    window = stage.window
    view = window.results_view
    matrix = view.matrix() - np.diag(np.diag(view.matrix()))
    if matrix.sum():
        true, said = np.unravel_index(np.argmax(matrix), matrix.shape)
        view.show_cell(int(true), int(said))
    window.tabs.setCurrentIndex(1)
    stage.pause(150)
    return window


def filter_lab(stage):
    """Filter 1 replaced by a vertical-edge preset: its accuracy against the model's own."""
    from core.filterlab import PRESETS
    from simulate import DIGIT_THREE

    _draw_fresh(stage, DIGIT_THREE)
    window = _why_page(stage, stage.window.why_panel.filter_lab)
    lab = window.why_panel.filter_lab
    lab.accuracy_job.run_to_end()
    lab.choose_filter(0)
    lab.preset_combo.setCurrentIndex(list(PRESETS).index("vertical edge") + 1)
    lab.preset_combo.activated.emit(lab.preset_combo.currentIndex())
    lab.accuracy_job.run_to_end()
    stage.pause(150)
    return window


WHY_SHOTS = [
    ("see-why-arithmetic", arithmetic),
    ("see-why-score", score),
    ("see-why-evidence", evidence),
    ("see-why-digit-weights", digit_weights),
    ("see-why-fool-stress", fool_and_stress),
    ("see-why-digit-map", digit_map),
    ("see-why-confusion-cell", confusion_cell),
    ("see-why-filter-lab", filter_lab),
]

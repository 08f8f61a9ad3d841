"""The See why tab: every view and every click-through, with the numbers checked against core.explain."""
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget

from core import digitmap, explain, filterlab, stress
from core.data import load_sample
from core.network import CNN
from core.paths import PRETRAINED_MODEL
from gui.panels.filter_lab import FilterLab
from gui.panels.stress import StressPanel
from gui.views.arithmetic import Selection
from gui.views.digit_map import DigitMapView
from gui.views.results import ResultsView
from gui_fixtures import open_window, pretrained, warnings  # noqa: F401 (fixtures)
from simulate import DIGIT_THREE, drag_stroke

SHIPPED = CNN.load(PRETRAINED_MODEL)          # read before any fixture points PRETRAINED_MODEL elsewhere


@pytest.fixture
def window(qtbot, pretrained):
    return open_window(qtbot)


@pytest.fixture
def drawn(window):
    drag_stroke(window.canvas, DIGIT_THREE)
    window.tabs.setCurrentIndex(window.why_tab)
    return window


def network_input(window):
    return window.predictor.latest().image


def pixel_point(grid, tile, row, col, side):
    """The widget point at the centre of pixel (row, col) of a tile `side` pixels wide."""
    rect = grid.tile_rect(tile)
    return QPoint(round(rect.left() + (col + 0.5) * rect.width() / side),
                  round(rect.top() + (row + 0.5) * rect.height() / side))


def number(value):
    return f"{value:+.4f}"


# ----- arithmetic ---------------------------------------------------------------------------------

def test_clicking_a_feature_map_pixel_shows_its_arithmetic(drawn, qtbot):
    window = drawn
    window.tabs.setCurrentIndex(0)                  # the click itself brings the See why tab up
    grid = window.feature_view.grid
    QTest.mouseClick(grid, Qt.MouseButton.LeftButton, pos=pixel_point(grid, 2, 10, 12, 26))
    assert window.tabs.currentIndex() == window.why_tab
    view = window.why_panel.arithmetic
    assert window.why_panel.currentWidget() is view
    assert view.selection() == Selection("conv", 2, 10, 12)
    value = window.model.feature_maps(network_input(window))[10, 12, 2]
    assert f"Feature map 3, pixel (11, 13)" in view.shown_text()
    assert number(value) in view.shown_text()
    products = explain.conv_arithmetic(window.model, network_input(window), 2, 10, 12)["products"]
    assert f"{products[1, 1]:+.3f}" in view.shown_text()


def test_arrow_keys_slide_the_window(drawn, qtbot):
    window = drawn
    view = window.why_panel.arithmetic
    window.why_panel.show_arithmetic(Selection("conv", 0, 5, 25))
    QTest.keyClick(view, Qt.Key.Key_Left)
    QTest.keyClick(view, Qt.Key.Key_Down)
    QTest.keyClick(view, Qt.Key.Key_Down)
    assert view.selection() == Selection("conv", 0, 7, 24)
    value = window.model.feature_maps(network_input(window))[7, 24, 0]
    assert "pixel (8, 25)" in view.shown_text() and number(value) in view.shown_text()
    for _ in range(30):
        QTest.keyClick(view, Qt.Key.Key_Right)
    assert view.selection().col == 25                # stops at the edge of the map
    assert window.feature_view.grid._highlight == (0, 7, 25)   # outlined in the feature maps above


def test_clicking_a_pooled_cell_shows_its_window_and_winner(drawn, qtbot):
    window = drawn
    window.why_panel.setCurrentWidget(window.why_panel.arithmetic)
    view = window.why_panel.arithmetic
    grid = view.pooled_grid
    QTest.mouseClick(grid, Qt.MouseButton.LeftButton, pos=pixel_point(grid, 4, 6, 7, 13))
    assert view.selection() == Selection("pool", 4, 6, 7)
    result = explain.pool_arithmetic(window.model, network_input(window), 4, 6, 7)
    text = view.shown_text()
    assert "Pooled map 5, cell (7, 8)" in text and number(result["value"]) in text
    assert "gradient reaches only the winner" in text
    win_r, win_c = result["winner"]
    assert f"({12 + win_r + 1}, {14 + win_c + 1})" in text
    QTest.keyClick(view, Qt.Key.Key_Up)
    assert view.selection() == Selection("pool", 4, 5, 7)


def test_clicking_a_probability_shows_the_score_and_the_softmax(drawn, qtbot):
    window = drawn
    plot = window.prediction_view.plot
    view_box = plot.plotItem.vb
    scene_point = view_box.mapViewToScene(QPointF(5, 0.5))
    widget_point = plot.mapFromScene(scene_point)
    QTest.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=widget_point)
    view = window.why_panel.arithmetic
    assert view.selection() == Selection("score", 5)
    breakdown = explain.score_breakdown(window.model, network_input(window))
    text = view.shown_text()
    assert f"{breakdown['logits'][5]:+.3f}" in text and f"{breakdown['biases'][5]:+.3f}" in text
    assert f"{breakdown['probabilities'][5]:.2%}" in text


# ----- evidence -----------------------------------------------------------------------------------

def test_evidence_defaults_to_the_prediction_and_adds_up_to_its_score(drawn):
    window = drawn
    window.why_panel.setCurrentWidget(window.why_panel.evidence)
    a, b, cells, bars, bias = window.why_panel.evidence.shown()
    digit, _ = window.prediction()
    logits = window.model.logits(network_input(window))[0]
    assert a == digit and b is None
    assert bars.sum() + bias == pytest.approx(logits[digit], rel=1e-5, abs=1e-5)
    np.testing.assert_allclose(cells.sum(axis=(0, 1)), bars, rtol=1e-9)
    assert window.why_panel.evidence.filter_tiles.tile_count() == 8


def test_why_a_rather_than_b_defaults_to_the_runner_up(drawn):
    window = drawn
    evidence = window.why_panel.evidence
    window.why_panel.setCurrentWidget(evidence)
    evidence.compare_box.setChecked(True)
    a, b, cells, bars, bias = evidence.shown()
    probabilities = window.model.predict_proba(network_input(window), seen=True)[0]
    assert (a, b) == (int(np.argmax(probabilities)), explain.runner_up(probabilities))
    logits = window.model.logits(network_input(window))[0]
    assert cells.sum() + bias == pytest.approx(logits[a] - logits[b], rel=1e-5, abs=1e-5)
    evidence.set_digits(1, 7)
    a, b, cells, _, _ = evidence.shown()
    np.testing.assert_allclose(cells, explain.evidence_difference(window.model, network_input(window), 1, 7))


def test_clicking_an_evidence_tile_shows_that_pooled_cells_arithmetic(drawn):
    window = drawn
    why = window.why_panel
    why.setCurrentWidget(why.evidence)
    grid = why.evidence.filter_tiles
    QTest.mouseClick(grid, Qt.MouseButton.LeftButton, pos=pixel_point(grid, 6, 3, 9, 13))
    assert why.currentWidget() is why.arithmetic
    assert why.arithmetic.selection() == Selection("pool", 6, 3, 9)


def test_views_recompute_only_when_visible(window, qtbot):
    evidence = window.why_panel.evidence
    drag_stroke(window.canvas, DIGIT_THREE)
    assert evidence.shown() is None                 # See why not on screen: nothing computed
    window.tabs.setCurrentIndex(window.why_tab)
    window.why_panel.setCurrentWidget(evidence)
    assert evidence.shown() is not None
    window.canvas.clear()
    assert evidence.shown() is None                 # a blank pad clears it


# ----- digit weights ------------------------------------------------------------------------------

def test_digit_weights_follow_training_updates(drawn):
    window = drawn
    view = window.why_panel.digit_weights
    window.why_panel.setCurrentWidget(view)
    np.testing.assert_array_equal(view.grid._pictures, explain.digit_pictures(window.model))
    params = window.model.get_params()
    params["softmax.weights"] *= -2
    window.training.paramsUpdated.emit(params)      # as the training process sends them
    np.testing.assert_array_equal(view.grid._pictures, explain.digit_pictures(window.model))
    assert view.grid.shape() == (10, 8)
    assert view.limit == pytest.approx(np.abs(params["softmax.weights"]).max())


# ----- filter lab ---------------------------------------------------------------------------------

@pytest.fixture
def lab(qtbot, test_sample):
    model = SHIPPED.copy()
    lab = FilterLab(lambda: test_sample, lambda: load_sample("train"))
    qtbot.addWidget(lab)
    lab.show()
    lab.show_state(model, test_sample[0][0].astype(np.float32))
    lab.accuracy_job.run_to_end()
    return lab, model


def test_the_lab_shows_the_models_accuracy_on_the_sample(lab, test_sample):
    lab, model = lab
    expected = filterlab.accuracy(model, *test_sample)
    assert f"{expected:.1%}" in lab.accuracy_text()


def test_switching_filters_off_updates_the_accuracy_and_reset_restores(lab, test_sample, qtbot):
    lab, model = lab
    original = model.get_params()
    edits = []
    lab.modelEdited.connect(lambda: edits.append(1))
    for f in range(8):
        lab.choose_filter(f)
        lab.on_box.setChecked(False)             # as a click on "on"
    assert np.all(model.params["conv.filters"] == 0) and len(edits) == 8
    lab.accuracy_job.run_to_end()
    dark = filterlab.accuracy(model, *test_sample)
    assert dark < 0.2
    assert f"{dark:.1%}" in lab.accuracy_text() and "own weights: " in lab.accuracy_text()
    lab.reset()
    np.testing.assert_array_equal(model.params["conv.filters"], original["conv.filters"])
    lab.accuracy_job.run_to_end()
    assert f"{filterlab.accuracy(model, *test_sample):.1%}" in lab.accuracy_text()


def test_typing_a_weight_and_painting_edit_the_filter(lab, qtbot):
    lab, model = lab
    lab.choose_filter(3)
    lab.spins[4].setValue(2.5)                    # the centre weight, by number
    assert model.params["conv.filters"][3, 1, 1] == pytest.approx(2.5)
    lab.brush_spin.setValue(0.75)
    painter = lab.painter
    cell = painter.width() / 3
    QTest.mouseClick(painter, Qt.MouseButton.RightButton, pos=QPoint(round(cell * 2.5), round(cell * 0.5)))
    assert model.params["conv.filters"][3, 0, 2] == pytest.approx(-0.75)
    assert lab.spins[2].value() == pytest.approx(-0.75)   # the numbers follow the painting


def test_presets_load_scaled_to_the_filter_they_replace(lab):
    lab, model = lab
    strength = np.abs(model.params["conv.filters"][5]).max()
    lab.choose_filter(5)
    lab.preset_combo.setCurrentIndex(lab.preset_combo.findText("vertical edge"))
    lab.preset_combo.activated.emit(lab.preset_combo.currentIndex())
    np.testing.assert_allclose(model.params["conv.filters"][5], filterlab.preset("vertical edge", strength),
                               rtol=1e-6)


def test_training_the_output_layer_only_keeps_the_filters(lab, test_sample, qtbot):
    lab, model = lab
    lab.choose_filter(0)
    lab.set_weights(filterlab.preset("horizontal edge", 1.0))
    filters = model.params["conv.filters"].copy()
    weights = model.params["softmax.weights"].copy()
    lab.train_button.click()
    assert lab.training_job.is_running() and not lab.spins[0].isEnabled()
    lab.training_job.run_to_end()
    np.testing.assert_array_equal(model.params["conv.filters"], filters)
    assert not np.array_equal(model.params["softmax.weights"], weights)
    assert lab.spins[0].isEnabled()
    lab.accuracy_job.run_to_end()
    assert f"{filterlab.accuracy(model, *test_sample):.1%}" in lab.accuracy_text()


def test_a_lab_edit_updates_the_windows_prediction_and_evidence(drawn, qtbot):
    window = drawn
    why = window.why_panel
    why.setCurrentWidget(why.filter_lab)
    before = window.prediction()[1]
    for f in range(8):
        why.filter_lab.switch_off(f)
    after = window.prediction()[1]
    np.testing.assert_allclose(after, window.model.predict_proba(network_input(window), seen=True)[0])
    assert not np.allclose(before, after)
    assert np.all(window.filter_view.filters() == 0)
    why.setCurrentWidget(why.evidence)
    assert np.all(why.evidence.shown()[2] == 0)     # no filter, no evidence
    assert "trained, not saved" in window.model_label.text()


# ----- fool and stress ----------------------------------------------------------------------------

def test_make_it_read_as_shows_the_changed_pixels(drawn, qtbot):
    window = drawn
    panel = window.why_panel.stress
    window.why_panel.setCurrentWidget(panel)
    digit, _ = window.prediction()
    target = (digit + 1) % 10
    panel.target_buttons.button(target).click()
    with qtbot.waitSignal(panel.fool_job.finished, timeout=20000):
        pass                                          # in slices: the window keeps answering
    fooled = panel.fooled_image()
    assert window.model.predict(fooled, seen=True)[0] == target
    assert "of 784 pixels" in panel.fool_label.text()
    assert panel.fool_tiles.tile_count() == 3
    changed = int(np.count_nonzero(np.abs(fooled - network_input(window)) > 0.5))
    assert f"after changing {changed} of 784 pixels" in panel.fool_label.text()
    assert window.prediction()[0] == digit          # the drawing itself is left alone


def test_stress_sliders_show_the_prediction_and_the_robustness_curve(qtbot, test_sample):
    panel = StressPanel()
    qtbot.addWidget(panel)
    image = test_sample[0][0].astype(np.float32)
    panel.show_state(SHIPPED, image)
    panel.set_setting("thicken", 0.5)
    panel.set_setting("rotate", 20)
    values, chances = panel.curve_data()
    first = int(SHIPPED.predict(image, seen=True)[0])
    _, expected = stress.robustness(SHIPPED, image, "rotate", first, {**stress.NEUTRAL, "thicken": 0.5, "rotate": 20})
    np.testing.assert_allclose(chances, expected, rtol=1e-6)
    said = int(SHIPPED.predict(stress.transformed(image, rotate=20, thicken=0.5), seen=True)[0])
    assert f"Read as <b>{said}</b>" in panel.stress_label.text()
    assert panel.slider_labels["rotate"].text() == "+20°"
    panel.reset_sliders()
    assert panel.settings() == stress.NEUTRAL


# ----- confusion cell -----------------------------------------------------------------------------

def test_a_confusion_cell_lists_its_digits_and_one_goes_to_the_pad(qtbot, test_sample):
    images, labels = test_sample[0][:300], test_sample[1][:300]
    probs = SHIPPED.predict_proba(images)
    predicted = probs.argmax(axis=1)
    view = ResultsView()
    qtbot.addWidget(view)
    view.show()
    view.show_results(images, labels, probs)
    own_images = images[:3].copy()
    view.set_own_samples(own_images, labels[:3], lambda own: SHIPPED.predict(own))
    true = int(labels[0])
    rect = view.table.visualRect(view.table.model().index(true, true))
    QTest.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.shown_cell() == (true, true)
    in_cell = np.flatnonzero((labels == true) & (predicted == true))
    own = [i for i in range(3) if labels[i] == true and predicted[i] == true]
    listed = view.gallery_images()
    assert len(listed) == len(in_cell) + len(own) == view.gallery.count()
    listed_test = {int(image[0:28].sum()) for image in listed[len(own):]}
    assert listed_test == {int(images[i].sum()) for i in in_cell}
    assert view.gallery_box.title() == f"True {true}, read as {true}: {len(in_cell)}"
    item = view.gallery.item(len(own))
    with qtbot.waitSignal(view.digitChosen, timeout=1000) as signal:
        qtbot.mouseClick(view.gallery.viewport(), Qt.MouseButton.LeftButton,
                         pos=view.gallery.visualItemRect(item).center())
    np.testing.assert_array_equal(signal.args[0], listed[len(own)])
    view.mistakes_button.click()
    assert view.shown_cell() is None
    assert len(view.gallery_images()) == len(view.mistake_indices())


def test_the_window_puts_a_confusion_cell_digit_on_the_pad(window, test_sample, qtbot):
    images, labels = test_sample[0][:200], test_sample[1][:200]
    probs = window.model.predict_proba(images)
    window.results_view.show_results(images, labels, probs)
    said = int(probs[0].argmax())
    window.teach_panel.dataset.add(images[0], int(labels[0]))   # one of the user's own samples
    window.teach_panel.samplesChanged.emit()
    window.results_view.show_cell(int(labels[0]), said)
    in_cell = int(np.sum((labels == labels[0]) & (probs.argmax(axis=1) == said)))
    assert len(window.results_view.gallery_images()) == in_cell + 1      # the test digits and the sample
    assert window.results_view.gallery.item(0).text().startswith("yours")
    window.results_view.gallery.itemClicked.emit(window.results_view.gallery.item(0))
    shown = window.results_view.gallery_images()[0]
    assert window.prediction() is not None
    np.testing.assert_array_equal(window.canvas.to_array(28), shown)   # that digit is on the pad


# ----- digit map ----------------------------------------------------------------------------------

def test_the_digit_map_places_the_sample_and_the_drawing(qtbot, test_sample):
    images, labels = test_sample
    view = DigitMapView(lambda: (images[:400], labels[:400]))
    qtbot.addWidget(view)
    own = images[400:405].copy()
    view.set_own_samples(own, labels[400:405])
    view.show_state(SHIPPED, images[500].astype(np.float32))
    assert view.job.is_running()                     # sliced: the window stays responsive
    with qtbot.waitSignal(view.mapReady, timeout=20000):
        pass
    points = view.points()
    assert points.shape == (405, 2)
    features = filterlab.pooled_features(SHIPPED, np.concatenate([images[:400], own]))
    projection = digitmap.principal_components(features)
    expected = projection.project(features)         # float32 maths: equal up to rounding
    np.testing.assert_allclose(points, expected, atol=1e-4 * np.abs(expected).max())
    star = view.marker_position()
    expected = projection.project(filterlab.pooled_features(SHIPPED, images[500:501], seen=True))[0]
    assert star == pytest.approx(tuple(expected), abs=1e-3)
    view.show_state(SHIPPED, images[3].astype(np.float32))     # a new drawing moves the star only
    assert view.marker_position() != star and not view.job.is_running()
    with qtbot.waitSignal(view.imageChosen, timeout=1000) as signal:
        view._dot_clicked(view.dots, view.dots.points()[7:8])
    np.testing.assert_array_equal(signal.args[0], images[7])


# ----- faults -------------------------------------------------------------------------------------

def test_a_missing_sample_is_explained_in_the_lab_and_the_map(qtbot):
    from core.errors import DataError

    def missing():
        raise DataError("sample-t10k-images-idx3-ubyte.gz is missing from assets/mnist-sample.")

    lab = FilterLab(missing, missing)
    qtbot.addWidget(lab)
    image = np.zeros((28, 28), np.float32)
    image[5:23, 13:16] = 255
    lab.show_state(SHIPPED.copy(), image)
    assert "could not be read" in lab.accuracy_text() and "missing" in lab.accuracy_text()
    lab.train_button.click()                        # nothing to train on: said, nothing changed
    assert not lab.training_job.is_running() and "could not be read" in lab.accuracy_text()
    view = DigitMapView(missing)
    qtbot.addWidget(view)
    view.show_state(SHIPPED, image)
    assert "could not be read" in view.status.text() and not view.job.is_running()


def test_the_lab_rests_while_a_training_run_updates_the_weights(lab):
    lab, model = lab
    lab.train_button.click()
    lab.set_enabled_for_training(True)
    assert not lab.training_job.is_running()        # its own output-layer run is dropped
    assert not lab.spins[0].isEnabled() and not lab.reset_button.isEnabled()
    lab.set_model(model)                             # new weights arrive: still resting
    lab.show_state(model, None)
    assert not lab.on_box.isEnabled() and not lab.accuracy_job.is_running()
    assert "measured again afterwards" in lab.accuracy_text()
    lab.set_enabled_for_training(False)
    assert lab.spins[0].isEnabled() and lab.train_button.isEnabled()
    lab.accuracy_job.run_to_end()                    # measured as soon as the run ends
    assert "Accuracy on the 2,000 bundled test digits" in lab.accuracy_text()


# ----- nothing clipped ----------------------------------------------------------------------------

@pytest.mark.parametrize("size", ["1280x860", "minimum"])
def test_no_see_why_page_is_clipped_or_wider_than_the_tab(drawn, qtbot, size):
    from test_gui_window_edges import text_fits

    window = drawn
    if size == "minimum":
        window.resize(window.minimumSizeHint())
    else:
        window.resize(1280, 860)
    why = window.why_panel
    area = window.tabs.widget(window.why_tab)
    states = [
        (why.arithmetic, lambda: why.arithmetic.select(Selection("conv", 2, 10, 12))),
        (why.arithmetic, lambda: why.arithmetic.select(Selection("pool", 2, 5, 6))),
        (why.arithmetic, lambda: why.arithmetic.select(Selection("score", 3))),
        (why.evidence, lambda: why.evidence.set_digits(-1, -1)),
        (why.digit_weights, lambda: None),
        (why.filter_lab, lambda: why.filter_lab.accuracy_job.run_to_end()),
        (why.stress, lambda: (why.stress.fool_as(8), why.stress.wait_for_fool())),
        (why.digit_map, lambda: why.digit_map.job.run_to_end()),
    ]
    for page, prepare in states:
        why.setCurrentWidget(page)
        prepare()
        qtbot.wait(20)
        assert area.widget().width() <= area.viewport().width(), why.tabText(why.currentIndex())
        assert page.width() <= why.width()
        clipped = [w for w in page.findChildren(QWidget) if w.isVisible() and not text_fits(w)]
        assert clipped == [], [(why.tabText(why.currentIndex()), type(w).__name__,
                                w.title() if hasattr(w, "title") else getattr(w, "text", w.objectName)())
                               for w in clipped]


def test_own_samples_in_a_cell_are_read_when_the_cell_opens_by_the_model_of_that_moment(qtbot, test_sample):
    images, labels = test_sample[0][:200], test_sample[1][:200]
    view = ResultsView()
    qtbot.addWidget(view)
    view.show_results(images, labels, SHIPPED.predict_proba(images))
    reads = []
    answer = {"digit": 9}                                   # what "the model" reads every sample as, now

    def read(own):
        reads.append(len(own))
        return np.full(len(own), answer["digit"])

    own = images[:4].copy()
    own_labels = np.array([2, 2, 2, 5])
    view.set_own_samples(own, own_labels, read)
    assert reads == []                                      # nothing read until a cell is opened
    view.show_cell(2, 9)
    assert reads == [4] and sum(label.startswith("yours") for label in _gallery_labels(view)) == 3
    answer["digit"] = 2                                     # the model has trained on
    view.show_cell(2, 9)
    assert sum(label.startswith("yours") for label in _gallery_labels(view)) == 0
    view.show_cell(2, 2)
    assert sum(label.startswith("yours") for label in _gallery_labels(view)) == 3


def _gallery_labels(view):
    return [view.gallery.item(i).text() for i in range(view.gallery.count())]

"""The main window: drawing gives live predictions, shortcuts, model files, settings that persist."""
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from core import paths
from core.network import CNN
from gui.main_window import MainWindow
from gui_fixtures import open_window, pretrained, warnings  # noqa: F401 (fixtures)
from simulate import DIGIT_THREE, drag_stroke, interpolate, move, press, release


@pytest.fixture
def window(qtbot, pretrained):
    return open_window(qtbot)


def test_blank_canvas_predicts_nothing(window):
    assert window.prediction() is None
    assert window.prediction_view.shown_digit() is None
    assert window.feature_view.feature_maps() is None


def test_a_mouse_stroke_draws_ink_and_gives_a_prediction(window):
    drag_stroke(window.canvas, DIGIT_THREE)
    digit, probabilities = window.prediction()
    assert window.canvas.to_array().max() == 255
    assert probabilities.shape == (10,) and probabilities.sum() == pytest.approx(1, abs=1e-4)
    assert digit == int(np.argmax(probabilities)) == window.prediction_view.shown_digit()
    assert window.feature_view.feature_maps().shape == (26, 26, 8)
    assert window.input_view._image.shape == (28, 28)


def test_prediction_updates_while_the_pen_is_still_down(window, qtbot):
    path = interpolate(DIGIT_THREE, 4)
    press(window.canvas, *path[0])
    for x, y in path[1:]:
        move(window.canvas, x, y)
    qtbot.waitUntil(lambda: window.prediction_view.shown_digit() is not None, timeout=2000)
    assert window.canvas.stroke_count() == 0                 # the stroke is still open
    release(window.canvas, *path[-1])


def test_undo_and_clear_shortcuts(window, qtbot):
    drag_stroke(window.canvas, [(0.3, 0.3), (0.7, 0.3)])
    drag_stroke(window.canvas, DIGIT_THREE)
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.canvas.stroke_count() == 1
    QTest.keyClick(window, Qt.Key.Key_Escape)
    assert window.canvas.is_blank()
    assert window.prediction() is None and window.prediction_view.shown_digit() is None
    drag_stroke(window.canvas, DIGIT_THREE)
    window.canvas.setFocus()
    QTest.keyClick(window.canvas, Qt.Key.Key_Delete)
    assert window.canvas.is_blank()


def test_pen_width_shortcuts_and_slider_agree(window):
    start = window.canvas.pen_width()
    QTest.keyClick(window, Qt.Key.Key_BracketRight)
    assert window.canvas.pen_width() == start + 2 == window.pen_slider.value()
    window.pen_slider.setValue(10)
    assert window.canvas.pen_width() == 10


@pytest.mark.faults
def test_missing_pretrained_model_gives_a_fresh_model_and_a_message(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "PRETRAINED_MODEL", tmp_path / "absent.npz")
    window = open_window(qtbot)
    assert "absent.npz" in window.statusBar().currentMessage()
    assert "random" in window.model_label.text()
    drag_stroke(window.canvas, DIGIT_THREE)
    assert window.prediction() is not None


@pytest.mark.faults
@pytest.mark.keeps_data
def test_corrupt_model_file_shows_an_error_and_keeps_the_model(window, tmp_path, warnings):
    before = window.model.get_params()
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"this is not a model")
    assert window.open_model(bad) is False
    assert len(warnings) == 1 and "bad.npz" in warnings[0][1]
    after = window.model.get_params()
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_save_then_open_restores_the_weights(window, tmp_path, warnings):
    saved = tmp_path / "mine.npz"
    assert window.save_model(saved)
    expected = window.model.get_params()
    window.new_model()
    assert not np.array_equal(window.model.params["conv.filters"], expected["conv.filters"])
    assert window.open_model(saved)
    assert np.array_equal(window.model.params["conv.filters"], expected["conv.filters"])
    assert np.allclose(window.filter_view.filters(), expected["conv.filters"])
    assert "mine.npz" in window.model_label.text() and not warnings


def test_revert_to_pretrained(window, pretrained):
    window.new_model()
    window.revert_to_pretrained()
    assert np.array_equal(window.model.params["softmax.weights"], CNN.load(pretrained).params["softmax.weights"])


def test_settings_persist_between_runs(qtbot, pretrained, monkeypatch):
    restored = []
    monkeypatch.setattr(MainWindow, "restoreGeometry", lambda self, data: restored.append(bytes(data)))
    first = open_window(qtbot)
    first.resize(1100, 790)
    geometry = bytes(first.saveGeometry())
    first.canvas.set_pen_width(31)
    first.training_panel.epochs_spin.setValue(7)
    first.training_panel.lr_spin.setValue(0.0375)
    first.training_panel.size_spin.setValue(3000)
    first.close()
    second = open_window(qtbot)
    assert second.canvas.pen_width() == 31 == second.pen_slider.value()
    config = second.training_panel.config()
    assert (config.epochs, config.learning_rate, second.training_panel.train_size()) == (7, 0.0375, 3000)
    # The offscreen test screen is too small to show that size again; check what was handed back.
    assert restored == [geometry]


def test_digit_key_teaches_the_drawing(window):
    drag_stroke(window.canvas, DIGIT_THREE)
    QTest.keyClick(window.canvas, Qt.Key.Key_8)
    dataset = window.teach_panel.dataset
    assert len(dataset) == 1 and dataset.labels[0] == 8


def test_a_chosen_test_digit_goes_on_the_canvas(window):
    image = np.zeros((28, 28), np.uint8)
    image[5:23, 13:16] = 255
    window.results_view.digitChosen.emit(image)
    assert not window.canvas.is_blank() and window.prediction() is not None

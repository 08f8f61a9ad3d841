"""ResultsView: the confusion matrix counts and the clickable gallery of mistakes."""
import numpy as np
import pytest
from PySide6.QtCore import Qt

from gui.views.results import ResultsView, digit_pixmap


def one_hot_probs(predicted, confidence):
    """probs (N, 10) whose argmax is `predicted` with that row's `confidence`."""
    n = len(predicted)
    probs = np.full((n, 10), 0.0)
    probs[np.arange(n), predicted] = confidence
    rest = (1 - np.asarray(confidence)) / 9
    probs += np.where(probs == 0, rest[:, None], 0)
    return probs


@pytest.fixture
def results():
    """12 test digits: each image is filled with its own index so they are easy to tell apart."""
    labels = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 3, 3])
    predicted = np.array([0, 1, 2, 8, 4, 5, 6, 1, 8, 9, 3, 5])  # wrong at 3, 7 and 11
    confidence = np.array([0.9, 0.9, 0.9, 0.6, 0.9, 0.9, 0.9, 0.99, 0.9, 0.9, 0.9, 0.8])
    images = np.stack([np.full((28, 28), i, np.uint8) for i in range(len(labels))])  # (12, 28, 28)
    return images, labels, one_hot_probs(predicted, confidence), predicted


def table_counts(view):
    table = view.table
    return np.array([[int(table.item(r, c).text()) for c in range(10)] for r in range(10)])


def test_matrix_shows_counts_rows_true_columns_predicted(qtbot, results):
    images, labels, probs, predicted = results
    view = ResultsView()
    qtbot.addWidget(view)
    view.show_results(images, labels, probs)

    expected = np.zeros((10, 10), int)
    for true, said in zip(labels, predicted):
        expected[true, said] += 1
    np.testing.assert_array_equal(table_counts(view), expected)
    np.testing.assert_array_equal(view.matrix(), expected)
    assert view.table.item(3, 10).text() == "33.3%"  # one of three 3s right
    assert view.table.item(7, 10).text() == "0.0%"
    assert "9 of 12" in view.summary.text()


def test_gallery_lists_the_most_confident_mistakes_first(qtbot, results):
    images, labels, probs, _ = results
    view = ResultsView()
    qtbot.addWidget(view)
    view.show_results(images, labels, probs)
    assert view.mistake_indices().tolist() == [7, 11, 3]  # confidence 0.99, 0.8, 0.6
    assert view.gallery.count() == 3
    assert view.gallery.item(0).text().startswith("7 → 1")
    assert "99%" in view.gallery.item(0).text()


def test_gallery_size_limits_the_mistakes(qtbot, results):
    images, labels, probs, _ = results
    view = ResultsView(gallery_size=2)
    qtbot.addWidget(view)
    view.show_results(images, labels, probs)
    assert view.gallery.count() == 2


def test_clicking_a_mistake_emits_its_image(qtbot, results):
    images, labels, probs, _ = results
    view = ResultsView()
    qtbot.addWidget(view)
    view.show()
    view.show_results(images, labels, probs)
    item = view.gallery.item(1)  # test digit #11
    centre = view.gallery.visualItemRect(item).center()
    with qtbot.waitSignal(view.digitChosen, timeout=1000) as signal:
        qtbot.mouseClick(view.gallery.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    chosen = signal.args[0]
    np.testing.assert_array_equal(chosen, images[11])
    chosen[0, 0] = 200  # the receiver owns its copy
    assert images[11, 0, 0] == 11


def test_no_mistakes_shows_a_message_and_emits_nothing(qtbot):
    labels = np.arange(10)
    view = ResultsView()
    qtbot.addWidget(view)
    view.show_results(np.zeros((10, 28, 28)), labels, one_hot_probs(labels, np.full(10, 0.9)))
    assert view.gallery.count() == 1
    assert "No mistakes" in view.gallery.item(0).text()
    with qtbot.assertNotEmitted(view.digitChosen):
        view.gallery.itemClicked.emit(view.gallery.item(0))


def test_new_results_replace_old_ones_and_clear_empties(qtbot, results):
    images, labels, probs, _ = results
    view = ResultsView()
    qtbot.addWidget(view)
    view.show_results(images, labels, probs)
    view.show_results(images[:3], labels[:3], probs[:3])  # all right
    assert table_counts(view).sum() == 3
    view.clear()
    assert view.matrix().sum() == 0 and view.gallery.count() == 0


def test_rejects_mismatched_arrays(qtbot, results):
    images, labels, probs, _ = results
    view = ResultsView()
    qtbot.addWidget(view)
    with pytest.raises(ValueError):
        view.show_results(images[:5], labels, probs)
    with pytest.raises(ValueError):
        view.show_results(images, labels, probs[:, :9])


def test_digit_pixmap_draws_dark_ink_on_white(qtbot):
    image = np.zeros((28, 28))
    image[10:18, 10:18] = 255.0
    picture = digit_pixmap(image, 56).toImage()
    assert picture.width() == 56 and picture.height() == 56
    assert picture.pixelColor(0, 0).lightness() == 255  # background
    assert picture.pixelColor(28, 28).lightness() == 0  # the stroke


def test_real_network_probabilities_fill_a_consistent_matrix(qtbot):
    from core.network import CNN

    model = CNN(seed=1)
    images = np.random.default_rng(1).integers(0, 256, size=(40, 28, 28), dtype=np.uint8)
    labels = np.arange(40) % 10
    probs = model.predict_proba(images)  # (40, 10)
    view = ResultsView()
    qtbot.addWidget(view)
    view.show_results(images, labels, probs)
    counts = table_counts(view)
    assert counts.sum() == 40
    np.testing.assert_array_equal(counts.sum(axis=0), np.bincount(model.predict(images), minlength=10))
    assert np.trace(counts) == np.count_nonzero(model.predict(images) == labels)

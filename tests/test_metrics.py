"""core.metrics against slow, obviously correct loop versions."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.metrics import confusion_matrix, most_confident_mistakes, per_class_accuracy


def confusion_matrix_loop(true, pred, num_classes):
    matrix = [[0] * num_classes for _ in range(num_classes)]
    for t, p in zip(true, pred):
        matrix[t][p] += 1
    return matrix


def mistakes_loop(probs, labels, k):
    wrong = []
    for i, (row, label) in enumerate(zip(probs, labels)):
        best = max(range(len(row)), key=lambda c: (row[c], -c))  # first maximum, like argmax
        if best != label:
            wrong.append((-row[best], i))
    return [i for _, i in sorted(wrong)[:k]]


class_pairs = st.integers(2, 12).flatmap(
    lambda c: st.tuples(
        st.just(c),
        st.lists(st.tuples(st.integers(0, c - 1), st.integers(0, c - 1)), max_size=200),
    )
)


@settings(max_examples=60, deadline=None)
@given(class_pairs)
def test_confusion_matrix_matches_loop(case):
    num_classes, pairs = case
    true = np.array([t for t, _ in pairs], dtype=np.int64)
    pred = np.array([p for _, p in pairs], dtype=np.int64)
    matrix = confusion_matrix(true, pred, num_classes)
    assert matrix.shape == (num_classes, num_classes)
    assert matrix.tolist() == confusion_matrix_loop(true, pred, num_classes)


def test_confusion_matrix_rows_are_true_columns_predicted():
    matrix = confusion_matrix(np.array([3, 3, 3], np.uint8), np.array([8, 8, 3], np.uint8))
    assert matrix[3, 8] == 2 and matrix[8, 3] == 0 and matrix[3, 3] == 1
    assert matrix.sum() == 3


@pytest.mark.parametrize(
    "true, pred",
    [([0, 10], [0, 1]), ([0, -1], [0, 1]), ([0, 1], [0]), ([0.0, 1.0], [0, 1]), ([[0]], [[0]])],
)
def test_confusion_matrix_rejects_bad_input(true, pred):
    with pytest.raises(ValueError):
        confusion_matrix(np.array(true), np.array(pred), 10)


def test_per_class_accuracy_matches_loop():
    rng = np.random.default_rng(1)
    true = rng.integers(0, 9, 500)  # class 9 never occurs
    pred = np.where(rng.random(500) < 0.7, true, rng.integers(0, 10, 500))
    accuracy = per_class_accuracy(confusion_matrix(true, pred))
    for digit in range(9):
        mine = pred[true == digit]
        assert accuracy[digit] == pytest.approx(np.mean(mine == digit))
    assert np.isnan(accuracy[9])


probability_tables = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.9]), min_size=4, max_size=4),
                 min_size=n, max_size=n),
        st.lists(st.integers(0, 3), min_size=n, max_size=n),
        st.integers(0, 50),
    )
)


@settings(max_examples=80, deadline=None)
@given(probability_tables)
def test_most_confident_mistakes_matches_loop(case):
    rows, labels, k = case  # coarse values so ties are common
    probs = np.array(rows)
    found = most_confident_mistakes(probs, np.array(labels), k)
    assert found.tolist() == mistakes_loop(rows, labels, k)


def test_most_confident_mistakes_orders_by_wrong_confidence():
    probs = np.array([
        [0.9, 0.1],  # correct (label 0): not a mistake however confident
        [0.6, 0.4],  # wrong, confidence 0.6
        [0.05, 0.95],  # wrong, confidence 0.95
        [0.2, 0.8],  # wrong, confidence 0.8
    ])
    labels = np.array([0, 1, 0, 0])
    assert most_confident_mistakes(probs, labels, 10).tolist() == [2, 3, 1]
    assert most_confident_mistakes(probs, labels, 1).tolist() == [2]
    assert most_confident_mistakes(probs, labels, 0).tolist() == []


def test_most_confident_mistakes_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        most_confident_mistakes(np.zeros((3, 10)), np.zeros(2, int), 1)

"""Exact messages and edge cases of core.metrics, core.filterlab and core.history (mutation testing found them untested)."""
import math
import re

import numpy as np
import pytest

from core import filterlab
from core.history import RECORD_OVERHEAD, History
from core.metrics import confusion_matrix, most_confident_mistakes
from core.network import CNN


def test_confusion_matrix_of_no_answers_is_all_zeros():
    np.testing.assert_array_equal(confusion_matrix([], [], num_classes=3), np.zeros((3, 3), np.int64))


@pytest.mark.parametrize("true, pred, message", [
    ([1.0], [1], "true must be a 1-D array of integer classes, got float64 (1,)"),
    ([1], [[1]], "pred must be a 1-D array of integer classes, got int64 (1, 1)"),
    ([1], [0.5], "pred must be a 1-D array of integer classes, got float64 (1,)"),
    ([1, 12], [1, 2], "true holds classes outside 0..9"),
    ([1, 2], [1, -1], "pred holds classes outside 0..9"),
    ([1, 2], [1], "true and pred differ in length: (2,) vs (1,)"),
])
def test_confusion_matrix_says_which_input_is_wrong(true, pred, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        confusion_matrix(true, pred)


def test_most_confident_mistakes_names_its_bad_inputs():
    with pytest.raises(ValueError, match=re.escape("need probs (N, C) and labels (N,), got (3, 10) and (2,)")):
        most_confident_mistakes(np.full((3, 10), 0.1), np.zeros(2, int), 1)
    with pytest.raises(ValueError, match=re.escape("need probs (N, C) and labels (N,), got (10,) and (1,)")):
        most_confident_mistakes(np.full(10, 0.1), np.zeros(1, int), 1)
    with pytest.raises(ValueError, match=r"^k must be >= 0, got -1$"):
        most_confident_mistakes(np.full((3, 10), 0.1), np.zeros(3, int), -1)


def test_accuracy_of_no_images_is_not_a_number():
    net = CNN(seed=0)
    assert math.isnan(filterlab.accuracy(net, np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8)))
    images = np.zeros((3, 28, 28), np.uint8)
    said = net.predict(images)
    assert filterlab.accuracy(net, images, said) == 1.0
    assert filterlab.accuracy(net, images, (said + 1) % 10) == 0.0


# ----- history -----------------------------------------------------------------------------------

def one(value):
    return {"w": np.full(3, value, dtype=np.float64)}


RECORD = RECORD_OVERHEAD + 24


def test_snapshots_count_back_to_the_first_and_no_further():
    history = History(10 * RECORD)
    for step in (5, 7, 8):
        history.record(step, one(step))
    assert history.at(-3).step == 5 and history.at(-1).step == 8
    with pytest.raises(IndexError, match=r"^snapshot -4 of 3$"):
        history.at(-4)
    with pytest.raises(IndexError, match=r"^snapshot 3 of 3$"):
        history.at(3)


def test_a_step_not_after_the_latest_is_refused_naming_the_latest():
    history = History(10 * RECORD)
    history.record(5, one(5))
    history.record(7, one(7))
    with pytest.raises(ValueError, match=r"^step 6 is not after the latest step 7$"):
        history.record(6, one(6))


def test_a_history_of_metrics_alone():
    history = History(4 * RECORD_OVERHEAD)
    for step in range(3):
        history.record(step, {}, loss=1.0 / (step + 1))
    assert history.steps().tolist() == [0, 1, 2] and history.metrics_at(1) == {"loss": 0.5}
    with pytest.raises(ValueError, match=r"^step 2 is not after the latest step 2$"):
        history.record(2, {})


@pytest.mark.parametrize("capacity", [2, 3, 4, 5, 9])
@pytest.mark.parametrize("seed", range(4))
def test_irregular_steps_keep_the_grid_rule(capacity, seed):
    """Steps recorded at uneven intervals: the kept ones are the grid points recorded (first + k * stride)
    plus the latest, never more than the budget."""
    rng = np.random.default_rng(seed)
    steps = np.cumsum(rng.integers(1, 5, 300)) + 10
    history = History(capacity * RECORD)
    for n, step in enumerate(steps, start=1):
        history.record(step, one(step))
        kept = history.steps().tolist()
        recorded = steps[:n]
        on_grid = [int(s) for s in recorded[:-1] if (s - steps[0]) % history.stride == 0]
        assert kept == on_grid + [int(step)]                               # the latest, on the grid or not
        assert len(kept) <= capacity and kept[-1] == step
        assert [history.at(i).params["w"][0] for i in range(len(kept))] == kept

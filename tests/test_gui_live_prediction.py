"""LivePredictor: a throttle (at most one prediction per interval while the pen moves, the first
one interval after the pen starts), never a debounce that waits for the pen to rest; latest() is
always current."""
import time

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from core.network import CNN
from gui.live_prediction import LivePredictor


class Paper:
    """Stands in for the canvas: a drawing that can change."""

    def __init__(self):
        self.array = np.zeros((280, 280), np.uint8)

    def is_blank(self):
        return not self.array.any()

    def to_array(self):
        return self.array.copy()

    def ink_bar(self, left):
        self.array[40:240, left:left + 20] = 255


class CountingModel:
    def __init__(self):
        self.network, self.calls = CNN(seed=0), 0

    def read(self, image):
        self.calls += 1
        return self.network.read(image)


@pytest.fixture
def setup(qtbot):
    paper, model = Paper(), CountingModel()
    predictor = LivePredictor(paper, model, interval_ms=40)
    answers = []
    predictor.updated.connect(answers.append)
    return paper, model, predictor, answers


def keep_scheduling(predictor, seconds):
    """Pen moves every ~5 ms for `seconds`: the way a drawing hand reports."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        predictor.schedule()
        QApplication.processEvents()
        time.sleep(0.005)


def test_predictions_arrive_while_the_pen_keeps_moving(setup):
    paper, model, predictor, answers = setup
    paper.ink_bar(100)
    keep_scheduling(predictor, 0.4)
    assert len(answers) >= 2                      # a debounce would wait for the pen to rest: none yet
    assert len(answers) <= 0.4 / 0.04 + 1         # but never more than one per interval
    assert all(answer is not None for answer in answers)


def test_many_requests_within_an_interval_share_one_prediction(setup, qtbot):
    paper, model, predictor, answers = setup
    paper.ink_bar(100)
    for _ in range(20):
        predictor.schedule()
    assert model.calls == 0                       # nothing yet: the pen is still moving
    qtbot.waitUntil(lambda: len(answers) == 1, timeout=2000)
    qtbot.wait(100)
    assert model.calls == 1 and len(answers) == 1


def test_latest_does_a_pending_update_first(setup):
    paper, model, predictor, answers = setup
    paper.ink_bar(100)
    predictor.schedule()
    latest = predictor.latest()                   # no event loop ran: the timer has not fired
    assert latest is not None and model.calls == 1
    np.testing.assert_allclose(latest.probabilities, model.network.predict_proba(latest.image, seen=True)[0])
    assert predictor.latest() is latest and model.calls == 1   # nothing pending: no new work


def test_latest_follows_the_drawing_as_it_changes(setup):
    paper, model, predictor, answers = setup
    paper.ink_bar(60)
    predictor.update_now()
    first = predictor.latest()
    paper.ink_bar(180)
    predictor.schedule()
    second = predictor.latest()
    assert not np.array_equal(first.image, second.image)
    paper.array[:] = 0
    predictor.schedule()
    assert predictor.latest() is None and answers[-1] is None


def test_stop_drops_a_pending_update_and_set_model_answers_at_once(setup, qtbot):
    paper, model, predictor, answers = setup
    paper.ink_bar(100)
    predictor.schedule()
    predictor.stop()
    qtbot.wait(120)
    assert answers == []
    other = CountingModel()
    predictor.set_model(other)
    assert other.calls == 1 and len(answers) == 1


def test_new_weights_reuse_the_laid_out_drawing_a_new_drawing_is_laid_out_again(qtbot, monkeypatch):
    import gui.live_prediction as live
    from core.preprocess import prepare_canvas

    layouts = []
    monkeypatch.setattr(live, "prepare_canvas", lambda canvas: layouts.append(1) or prepare_canvas(canvas))
    paper = Paper()
    paper.ink_bar(100)
    predictor = LivePredictor(paper, CNN(seed=0))
    predictor.update_now()
    first = predictor.latest()
    for seed in (1, 2, 3):                               # training updates: the drawing stays
        predictor.set_model(CNN(seed=seed))
    assert len(layouts) == 1
    np.testing.assert_allclose(predictor.latest().probabilities, CNN(seed=3).read(first.drawn)[1])
    paper.ink_bar(200)                                   # a second stroke
    predictor.update_now()
    assert len(layouts) == 2
    np.testing.assert_array_equal(predictor.latest().drawn, prepare_canvas(paper.to_array()))

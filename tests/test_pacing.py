"""gui.training.pacing: the child's pause/Step/slow-motion rules, live learning rate, snapshot record."""
import math

import pytest

from core.network import CNN
from core.train import TrainConfig, learning_rate_at, train
from core.data import load_sample
from gui.training.pacing import LearningRate, Pace, SnapshotRecorder


def test_step_while_paused_allows_exactly_one_step():
    pace = Pace(paused=True)
    assert pace.held()
    pace.step()
    assert not pace.held()
    pace.begin_step(now=0.0)
    assert pace.held() and pace.paused                   # one step taken: held again
    pace.step()
    pace.step()
    pace.begin_step(now=1.0)
    assert not pace.held()                               # two Steps: two steps
    pace.begin_step(now=2.0)
    assert pace.held()
    pace.resume()
    assert not pace.held()
    pace.begin_step(now=3.0)
    assert not pace.held()                               # running: never held


def test_slow_motion_spaces_the_steps_and_full_speed_never_waits():
    pace = Pace(steps_per_s=2)
    assert pace.slow and pace.wait_s(now=10.0) == 0      # the first step at once
    pace.begin_step(now=10.0)
    assert pace.wait_s(now=10.1) == pytest.approx(0.4)
    assert pace.wait_s(now=10.6) == 0
    pace.set_speed(None)
    assert not pace.slow and pace.wait_s(now=10.1) == 0
    with pytest.raises(ValueError):
        pace.set_speed(0)


def test_a_changed_learning_rate_keeps_the_schedule_shape_from_the_next_step():
    config = TrainConfig(learning_rate=0.02, lr_schedule="cosine")
    rate = LearningRate(config)
    assert rate(10, 100) == learning_rate_at(config, 10, 100)
    rate.set_base(0.1)
    assert rate.base == 0.1
    assert math.isclose(rate(10, 100), 5 * learning_rate_at(config, 10, 100))
    with pytest.raises(ValueError):
        rate.set_base(-1.0)


def test_the_recorder_keeps_copies_with_global_steps_and_hands_them_over_once():
    images, labels = load_sample("train")
    model = CNN(seed=0)
    recorder = SnapshotRecorder(model)
    recorder.record_start()
    start = model.get_params()
    config = TrainConfig(epochs=2, batch_size=10, augment=False)
    for progress in train(model, config, (images[:20], labels[:20])):
        if progress.kind == "batch":
            recorder.record(progress)
    records = recorder.take()
    assert [r[0] for r in records] == [0, 1, 2, 3, 4] and recorder.take() == []
    for name, array in start.items():
        assert (records[0][1][name] == array).all()
    for name, array in model.params.items():
        assert (records[-1][1][name] == array).all()
    assert records[3][2]["epoch"] == 2 and records[3][2]["x"] == 1.5 and "loss" in records[3][2]

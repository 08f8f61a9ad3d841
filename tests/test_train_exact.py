"""core.train's smaller promises, exactly: divergence after a step, timed speed, BLAS threads, scores.

Found by mutation testing (docs/MUTANTS.md); stand-ins and tiny sets keep each test in milliseconds.
"""
import itertools
import warnings

import numpy as np
import pytest
from threadpoolctl import ThreadpoolController

from core.errors import TrainingDiverged
from core.network import CNN
from core.optim import SGD
from core.train import TrainConfig, _step, evaluate, score, train


def tiny_set(n=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


def test_weights_that_overflow_in_a_step_are_undone_and_named_in_the_error():
    images, labels = tiny_set()
    model = CNN(seed=0)
    before = model.get_params()
    last_good = model.get_params()
    optimizer = SGD(model.params, 1e300, 0.9)              # a finite loss, then weights beyond float32
    with np.errstate(over="ignore", invalid="ignore"):
        with pytest.raises(TrainingDiverged, match=r"^Training diverged in epoch 2, step 3: the loss became inf\. "
                                                   r"The last good weights were restored\. "
                                                   r"Try a smaller learning rate than 1e\+300\.$"):
            _step(model, optimizer, images.astype(np.float32), labels, 2, 3, last_good)
    for name, value in model.params.items():                # back at the weights the step started from
        np.testing.assert_array_equal(value, before[name])
    assert all(not np.any(v) for v in optimizer.velocity.values())   # and no momentum carried over


def test_a_step_counts_the_images_the_model_reads_right():
    images, labels = tiny_set(20, seed=3)
    model = CNN(seed=1)
    expected = int((model.predict(images) == labels).sum())    # before the step, as the loss is
    optimizer = SGD(model.params, 0.01, 0.0)
    loss, correct = _step(model, optimizer, images, labels.astype(np.intp), 1, 1, model.get_params())
    assert 0 < expected < 20 and correct == expected


def test_progress_speed_and_time_left_follow_the_timed_steps(monkeypatch):
    """A fake clock that moves 1 s between any two readings: each step takes exactly 1 s."""
    import core.train as train_module

    clock = itertools.count()
    monkeypatch.setattr(train_module.time, "perf_counter", lambda: float(next(clock)))
    images, labels = tiny_set(40)
    config = TrainConfig(epochs=2, batch_size=10, augment=False)
    progress = [p for p in train(CNN(seed=0), config, (images, labels)) if p.kind == "batch"]
    assert len(progress) == 8
    for steps, p in enumerate(progress, start=1):
        assert p.images_per_s == pytest.approx(10.0)               # 10 images a second, all run long
        assert p.eta_s == pytest.approx((80 - 10 * steps) / 10.0)


def test_the_first_report_gives_the_starting_models_loss_and_accuracy_on_its_batch():
    images, labels = tiny_set(16, seed=5)
    model = CNN(seed=2)
    start_loss, start_accuracy, _ = score(model.copy(), images, labels)
    config = TrainConfig(epochs=1, batch_size=16, augment=False)
    first = next(iter(train(model, config, (images, labels))))
    assert first.loss == pytest.approx(start_loss, rel=1e-4)
    assert first.accuracy == start_accuracy and 0 < start_accuracy < 1


def test_the_epoch_report_says_the_epoch_is_complete():
    images, labels = tiny_set(30)
    config = TrainConfig(epochs=2, batch_size=8, augment=False)
    epochs = [p for p in train(CNN(seed=0), config, (images, labels), (images, labels)) if p.kind == "epoch"]
    assert [(p.epoch, p.step, p.steps_per_epoch) for p in epochs] == [(1, 4, 4), (2, 4, 4)]


class ThreadCounter(CNN):
    """A CNN that notes how many threads BLAS may use whenever it computes."""

    def __init__(self):
        super().__init__(seed=0)
        self.blas_threads = set()

    def _note(self):
        self.blas_threads.update(lib.num_threads for lib in ThreadpoolController().select(user_api="blas").lib_controllers)

    def logits(self, images, seen=False):
        self._note()
        return super().logits(images, seen)

    def forward_backward(self, images, labels, need_input_grad=False, seen=False):
        self._note()
        return super().forward_backward(images, labels, need_input_grad, seen)


def test_training_and_scoring_use_one_blas_thread():
    controller = ThreadpoolController()
    if not controller.select(user_api="blas").lib_controllers:
        pytest.skip("NumPy here has no BLAS library threadpoolctl can see")
    images, labels = tiny_set(8)
    with controller.limit(limits=2, user_api="blas"):        # as a 2-core machine starts
        model = ThreadCounter()
        list(train(model, TrainConfig(epochs=1, batch_size=8, augment=False), (images, labels)))
        score(model, images, labels)
        assert model.blas_threads == {1}


def test_scores_do_not_depend_on_the_batch_size_and_the_default_is_1000():
    images, labels = tiny_set(2500, seed=7)
    model = CNN(seed=0)
    batches = []
    original = model.logits
    model.logits = lambda x, seen=False: batches.append(len(x)) or original(x, seen)
    loss, accuracy = evaluate(model, images, labels)
    assert batches == [1000, 1000, 500]
    batches.clear()
    score(model, images, labels)
    assert batches == [1000, 1000, 500]
    batches.clear()
    assert evaluate(model, images, labels, batch_size=700) == pytest.approx((loss, accuracy), rel=1e-5)
    assert batches == [700, 700, 700, 400]
    whole_loss, whole_accuracy, _ = score(model, images, labels, batch_size=2500)
    assert loss == pytest.approx(whole_loss, rel=1e-5) and accuracy == whole_accuracy


def test_the_score_of_one_image_is_its_own_loss():
    images, labels = tiny_set(1, seed=2)
    model = CNN(seed=0)
    loss, accuracy, probabilities = score(model, images, labels)
    assert loss == pytest.approx(-np.log(probabilities[0, labels[0]]), rel=1e-5)
    assert accuracy == float(probabilities[0].argmax() == labels[0])


def test_divergence_is_reported_as_such_whatever_numpys_error_settings():
    images, labels = tiny_set(64)
    config = TrainConfig(epochs=1, batch_size=16, learning_rate=1e30, momentum=0.9, augment=False)
    with np.errstate(over="raise", invalid="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TrainingDiverged):
            for _ in train(CNN(seed=0), config, (images, labels)):
                pass


def test_a_bad_schedule_is_named():
    with pytest.raises(ValueError, match=r"^learning-rate schedule must be 'cosine' or 'constant'$"):
        TrainConfig(lr_schedule="step").validate()

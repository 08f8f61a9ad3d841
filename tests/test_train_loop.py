"""The training loop's bookkeeping, exactly: order of images, learning-rate schedule, progress reports.

A recording stand-in for the network makes these fast and exact (no learning needed); one test
replays a few real steps by hand, so a lost momentum term or a wrong learning rate shows on a
clone without full MNIST.
"""
import dataclasses
import math

import numpy as np
import pytest

from core.network import CNN
from core.train import RUNNING_WINDOW, TrainConfig, learning_rate_at, train


class Recorder:
    """Quacks like core.network.CNN for train(): remembers which images each step saw."""

    def __init__(self, losses=None):
        self.params = {"w": np.zeros(2)}
        self.batches = []                    # image ids of each step, in order
        self._losses = losses                # loss of each step; default 1.0

    def get_params(self):
        return {name: value.copy() for name, value in self.params.items()}

    def set_params(self, params):
        for name, value in self.params.items():
            value[...] = params[name]

    def forward_backward(self, images, labels):
        ids = images[:, 0, 0].astype(int)    # (B,) each image is filled with its own id
        self.batches.append(ids.tolist())
        loss = 1.0 if self._losses is None else self._losses[len(self.batches) - 1]
        probs = np.full((len(ids), 10), 0.01)
        probs[np.arange(len(ids)), ids % 3] = 0.91  # right for the ids whose label is id % 3
        return loss, {"w": np.zeros(2)}, probs

    def logits(self, images):
        return np.zeros((len(images), 10))


def numbered_images(n):
    """Image i is filled with the value i; label i % 10."""
    images = np.repeat(np.arange(n, dtype=np.uint8), 28 * 28).reshape(n, 28, 28)  # (n, 28, 28)
    return images, (np.arange(n) % 10).astype(np.uint8)


def run(model, config, n=50, test_set=None):
    return list(train(model, config, numbered_images(n), test_set))


def plain(**changes):
    return TrainConfig(**{"epochs": 3, "batch_size": 8, "augment": False, "seed": 4, **changes})


def epochs_of(model, steps_per_epoch):
    flat = [model.batches[i:i + steps_per_epoch] for i in range(0, len(model.batches), steps_per_epoch)]
    return [[image for batch in epoch for image in batch] for epoch in flat]


def test_every_epoch_shows_every_image_once_in_a_fresh_order():
    model = Recorder()
    run(model, plain())
    assert [len(batch) for batch in model.batches] == [8] * 6 + [2] + [8] * 6 + [2] + [8] * 6 + [2]
    orders = epochs_of(model, 7)
    assert len(orders) == 3
    for order in orders:
        assert sorted(order) == list(range(50))
    assert orders[0] != orders[1] and orders[1] != orders[2] and orders[0] != orders[2]
    assert orders[0] != list(range(50))                  # shuffled, not in file order


def test_the_order_follows_the_seed():
    first, again, other = Recorder(), Recorder(), Recorder()
    run(first, plain(seed=1))
    run(again, plain(seed=1))
    run(other, plain(seed=2))
    assert first.batches == again.batches
    assert first.batches != other.batches


def test_the_cosine_schedule_decays_once_over_the_whole_run():
    config = plain(learning_rate=0.3)
    rates = [p.learning_rate for p in run(Recorder(), config) if p.kind == "batch"]
    total = 21
    assert rates == pytest.approx([0.3 * 0.5 * (1 + math.cos(math.pi * k / total)) for k in range(total)])
    assert rates[0] == 0.3
    assert all(later < earlier for earlier, later in zip(rates, rates[1:]))  # never restarts at an epoch
    assert rates[-1] < 0.3 * 0.01


def test_learning_rate_at_the_ends_and_the_middle():
    config = TrainConfig(learning_rate=0.2)
    assert learning_rate_at(config, 0, 100) == 0.2
    assert learning_rate_at(config, 50, 100) == pytest.approx(0.1)
    assert learning_rate_at(config, 100, 100) == pytest.approx(0.0, abs=1e-12)
    assert learning_rate_at(TrainConfig(learning_rate=0.2, lr_schedule="constant"), 99, 100) == 0.2


def test_a_constant_schedule_keeps_the_rate():
    rates = {p.learning_rate for p in run(Recorder(), plain(learning_rate=0.07, lr_schedule="constant"))}
    assert rates == {0.07}


def test_progress_counts_steps_images_and_epochs():
    progress = run(Recorder(), plain())
    batches = [p for p in progress if p.kind == "batch"]
    assert [(p.epoch, p.step) for p in batches[:8]] == [(1, s) for s in range(1, 8)] + [(2, 1)]
    assert all(p.epochs == 3 and p.steps_per_epoch == 7 and p.total_images == 150 for p in progress)
    assert [p.images_seen for p in batches[:8]] == [8, 16, 24, 32, 40, 48, 50, 58]
    assert batches[-1].images_seen == 150 and batches[-1].fraction == 1.0
    assert batches[3].fraction == pytest.approx(32 / 150)
    assert all(p.images_per_s > 0 for p in batches)
    assert batches[-1].eta_s == 0 and batches[0].eta_s > 0


def test_an_epoch_report_follows_each_epochs_last_step_with_the_test_figures():
    test_images, test_labels = numbered_images(30)
    progress = run(Recorder(), plain(), test_set=(test_images, test_labels))
    kinds = [p.kind for p in progress]
    assert kinds == (["batch"] * 7 + ["epoch"]) * 3
    ends = [p for p in progress if p.kind == "epoch"]
    assert [(p.epoch, p.step, p.images_seen) for p in ends] == [(1, 7, 50), (2, 7, 100), (3, 7, 150)]
    # The recorder's logits are all zero: loss ln 10, and argmax 0 is right for labels 0 only.
    assert all(p.test_loss == pytest.approx(math.log(10)) for p in ends)
    assert all(p.test_accuracy == pytest.approx(3 / 30) for p in ends)
    assert all(np.allclose(p.test_probabilities, 0.1) and p.test_probabilities.shape == (30, 10) for p in ends)
    assert [p.learning_rate for p in ends] == [progress[6].learning_rate, progress[14].learning_rate,
                                               progress[22].learning_rate]


def test_loss_and_accuracy_average_the_last_window_of_steps_by_image():
    steps = RUNNING_WINDOW + 30
    losses = np.arange(steps, dtype=float)
    model = Recorder(losses)
    progress = run(model, plain(epochs=1, batch_size=1), n=steps)
    assert progress[0].loss == 0.0
    assert progress[9].loss == pytest.approx(losses[:10].mean())
    assert progress[-1].loss == pytest.approx(losses[-RUNNING_WINDOW:].mean())
    seen = [batch[0] for batch in model.batches]
    right = [image % 3 == image % 10 for image in seen]
    assert progress[-1].accuracy == pytest.approx(np.mean(right[-RUNNING_WINDOW:]))
    assert progress[4].accuracy == pytest.approx(np.mean(right[:5]))


def test_mismatched_images_and_labels_are_refused():
    images, labels = numbered_images(10)
    with pytest.raises(ValueError, match="10 images but 9 labels"):
        next(train(Recorder(), plain(), (images, labels[:9])))


@pytest.mark.parametrize("change, message", [
    ({"epochs": 0}, "epochs"), ({"batch_size": 0}, "batch size"), ({"learning_rate": 0.0}, "learning rate"),
    ({"learning_rate": float("nan")}, "learning rate"), ({"lr_schedule": "step"}, "schedule"),
    ({"momentum": 1.0}, "momentum"), ({"momentum": -0.1}, "momentum"),
])
def test_settings_that_cannot_work_are_named(change, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**change).validate()


def test_edge_settings_that_work_are_accepted():
    TrainConfig(epochs=1, batch_size=1, momentum=0.0, lr_schedule="constant").validate()


def test_a_few_real_steps_match_the_update_written_out_by_hand(sample_train):
    """Heavy-ball momentum, cosine rate and the shuffled order, replayed without core.optim."""
    config = TrainConfig(epochs=2, batch_size=16, learning_rate=0.05, momentum=0.9, augment=False, seed=5)
    images, labels = sample_train[0][:48], sample_train[1][:48]
    trained = CNN(seed=3)
    for _ in train(trained, config, (images, labels)):
        pass

    by_hand = CNN(seed=3)
    rng = np.random.default_rng(config.seed)
    velocity = {name: np.zeros_like(value) for name, value in by_hand.params.items()}
    total = 6
    for epoch in range(2):
        order = rng.permutation(48)
        for step in range(3):
            batch = order[step * 16:(step + 1) * 16]
            lr = 0.05 * 0.5 * (1 + math.cos(math.pi * (epoch * 3 + step) / total))
            _, grads, _ = by_hand.forward_backward(images[batch], labels[batch])
            for name, value in by_hand.params.items():
                velocity[name] = 0.9 * velocity[name] - lr * grads[name]
                value += velocity[name]
    for name in trained.params:
        np.testing.assert_allclose(trained.params[name], by_hand.params[name], rtol=1e-4, atol=1e-6)
    without_momentum = CNN(seed=3)
    for _ in train(without_momentum, dataclasses.replace(config, momentum=0.0), (images, labels)):
        pass
    assert not np.allclose(without_momentum.params["softmax.weights"], trained.params["softmax.weights"],
                           rtol=1e-3, atol=1e-5)


@pytest.fixture(scope="module")
def sample_train():
    from core.data import load_sample

    return load_sample("train")


def test_a_nan_loss_stops_the_run_with_the_step_named():
    from core.errors import TrainingDiverged

    model = Recorder(losses=[1.0, 1.0, float("nan")])
    with pytest.raises(TrainingDiverged, match="Training diverged in epoch 1, step 3: the loss became nan"):
        run(model, plain())

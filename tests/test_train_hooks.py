"""core.train.train's hooks for watching a run: a live learning rate and each step's gradients."""
import numpy as np

from core.data import load_sample
from core.network import CNN
from core.train import TrainConfig, train


def _small(n=32):
    images, labels = load_sample("train")
    return images[:n], labels[:n]


def test_the_learning_rate_hook_is_asked_before_every_step_and_applies_from_that_step():
    config = TrainConfig(epochs=1, batch_size=8, learning_rate=0.05, momentum=0.0, augment=False)
    asked = []

    def rate(step, total):
        asked.append((step, total))
        return 0.05 if step < 2 else 0.0              # the user sets 0 after two steps

    model = CNN(seed=0)
    filters = []
    for progress in train(model, config, _small(), learning_rate=rate):
        filters.append(model.params["conv.filters"].copy())
        assert progress.learning_rate == (0.05 if progress.step <= 2 else 0.0)
    assert asked == [(0, 4), (1, 4), (2, 4), (3, 4)]
    assert not np.array_equal(filters[0], filters[1])
    np.testing.assert_array_equal(filters[1], filters[2])    # rate 0: steps 3 and 4 change nothing
    np.testing.assert_array_equal(filters[2], filters[3])


def test_the_gradients_dict_holds_the_last_steps_gradients():
    images, labels = _small(32)
    config = TrainConfig(epochs=1, batch_size=32, learning_rate=0.02, augment=False)
    model = CNN(seed=2)
    _, expected = model.copy().loss_and_grads(images, labels)       # one batch: the whole (shuffled) set
    gradients = {}
    for _ in train(model, config, (images, labels), gradients=gradients):
        pass
    assert gradients.keys() == model.params.keys()
    for name, grad in expected.items():
        np.testing.assert_allclose(gradients[name], grad, rtol=1e-4, atol=1e-7)

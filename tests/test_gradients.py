"""Every gradient, checked against central differences in float64."""
import numpy as np
import pytest

from core.layers import Conv3x3, MaxPool2, Softmax
from core.losses import cross_entropy
from core.network import CNN
from tests.gradcheck import check_gradient

RNG = np.random.default_rng(42)


def projection_loss(layer, x, weights):
    """A scalar loss that depends on every output of the layer: sum(out * weights)."""
    return lambda: float(np.sum(layer.forward(x) * weights))


def test_conv_filter_and_input_gradients():
    conv = Conv3x3(4, RNG, np.float64)
    x = RNG.standard_normal((2, 8, 9))  # (N, H, W), not square to catch swapped axes
    weights = RNG.standard_normal((2, 6, 7, 4))  # (N, H-2, W-2, F)
    f = projection_loss(conv, x, weights)
    conv.forward(x)
    d_x = conv.backward(weights)
    check_gradient(f, x, d_x)
    check_gradient(f, conv.params["filters"], conv.grads["filters"])


def test_maxpool_input_gradient():
    pool = MaxPool2()
    x = RNG.standard_normal((2, 6, 4, 3))  # continuous values: no ties, no kinks within eps
    weights = RNG.standard_normal((2, 3, 2, 3))
    pool.forward(x)
    check_gradient(projection_loss(pool, x, weights), x, pool.backward(weights))


def test_softmax_layer_gradients():
    layer = Softmax(5 * 5 * 2, 10, RNG, np.float64)
    layer.params["biases"][:] = RNG.standard_normal(10)
    x = RNG.standard_normal((3, 5, 5, 2))
    weights = RNG.standard_normal((3, 10))
    f = projection_loss(layer, x, weights)
    layer.forward(x)
    d_x = layer.backward(weights)
    check_gradient(f, x, d_x)
    check_gradient(f, layer.params["weights"], layer.grads["weights"])
    check_gradient(f, layer.params["biases"], layer.grads["biases"])


def test_cross_entropy_gradient():
    logits = RNG.standard_normal((4, 10)) * 3
    labels = np.array([0, 3, 9, 3])
    _, d_logits, _ = cross_entropy(logits, labels)
    check_gradient(lambda: cross_entropy(logits, labels)[0], logits, d_logits)


@pytest.fixture(scope="module")
def batch():
    images = RNG.integers(0, 256, (3, 28, 28)).astype(np.float64)
    return images, np.array([1, 7, 4])


@pytest.mark.parametrize("name", ["conv.filters", "softmax.weights", "softmax.biases"])
def test_network_gradient_of_every_parameter(batch, name):
    model = CNN(num_filters=8, seed=0, dtype=np.float64)
    model.params["softmax.biases"][:] = RNG.standard_normal(10) * 0.1
    images, labels = batch
    _, grads = model.loss_and_grads(images, labels)
    check_gradient(lambda: model.loss_and_grads(images, labels)[0], model.params[name], grads[name])


def test_network_input_gradient(batch):
    model = CNN(num_filters=3, seed=1, dtype=np.float64)
    images, labels = batch
    *_, d_input = model.forward_backward(images, labels, need_input_grad=True)  # w.r.t. x/255 - 0.5
    normalised = images / 255 - 0.5
    f = lambda: model.loss_and_grads((normalised + 0.5) * 255, labels)[0]
    check_gradient(f, normalised, d_input, tolerance=1e-5)


def test_a_wrong_gradient_fails_the_check(batch):
    model = CNN(num_filters=2, seed=0, dtype=np.float64)
    images, labels = batch
    _, grads = model.loss_and_grads(images, labels)
    f = lambda: model.loss_and_grads(images, labels)[0]
    wrong = grads["conv.filters"].copy()
    wrong[1, 2, 0] *= 1.01  # one entry off by 1%
    with pytest.raises(AssertionError, match="gradient check failed"):
        check_gradient(f, model.params["conv.filters"], wrong)
    with pytest.raises(AssertionError, match="gradient check failed"):
        check_gradient(f, model.params["conv.filters"], grads["conv.filters"].transpose(0, 2, 1))


def test_a_pool_that_routes_to_the_wrong_position_fails_the_check():
    pool = MaxPool2()
    x = RNG.standard_normal((1, 4, 4, 2))
    weights = RNG.standard_normal((1, 2, 2, 2))
    pool.forward(x)
    wrong = np.roll(pool.backward(weights), 1, axis=2)  # gradient sent one column over
    with pytest.raises(AssertionError):
        check_gradient(projection_loss(pool, x, weights), x, wrong)

"""SGD: the plain and heavy-ball updates, step by step, against the arithmetic written out."""
import numpy as np
import pytest

from core.optim import SGD


def params_and_grads():
    params = {"a": np.array([1.0, -2.0, 0.5]), "b": np.array([[3.0]])}
    grads = {"a": np.array([0.5, 1.0, -4.0]), "b": np.array([[-1.0]])}
    return params, grads


def test_plain_sgd_subtracts_lr_times_the_gradient_in_place():
    params, grads = params_and_grads()
    arrays = dict(params)                     # the same array objects: updates must be in place
    SGD(params, lr=0.1).step(grads)
    np.testing.assert_allclose(arrays["a"], [0.95, -2.1, 0.9])
    np.testing.assert_allclose(arrays["b"], [[3.1]])


def test_default_learning_rate_is_the_tutorials():
    params, grads = params_and_grads()
    optimizer = SGD(params)
    assert optimizer.lr == 0.01 and optimizer.momentum == 0.0
    optimizer.step(grads)
    np.testing.assert_allclose(params["a"], [0.995, -2.01, 0.54])


def test_momentum_accumulates_velocity_over_steps():
    params, grads = params_and_grads()
    optimizer = SGD(params, lr=0.1, momentum=0.9)
    optimizer.step(grads)                      # v = -0.1 g
    np.testing.assert_allclose(params["a"], [0.95, -2.1, 0.9])
    optimizer.step(grads)                      # v = 0.9 * (-0.1 g) - 0.1 g = -0.19 g
    np.testing.assert_allclose(params["a"], [0.95 - 0.095, -2.1 - 0.19, 0.9 + 0.76])
    np.testing.assert_allclose(optimizer.velocity["b"], [[0.19]])


def test_reset_forgets_the_velocity():
    params, grads = params_and_grads()
    optimizer = SGD(params, lr=0.1, momentum=0.9)
    optimizer.step(grads)
    optimizer.reset()
    for velocity in optimizer.velocity.values():
        assert not velocity.any()
    before = params["a"].copy()
    optimizer.step(grads)                      # a fresh start: exactly a plain step
    np.testing.assert_allclose(params["a"], before - 0.1 * grads["a"])


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_a_zero_gradient_moves_nothing_from_rest(momentum):
    params, grads = params_and_grads()
    before = {name: value.copy() for name, value in params.items()}
    SGD(params, lr=0.3, momentum=momentum).step({name: np.zeros_like(g) for name, g in grads.items()})
    for name in params:
        np.testing.assert_array_equal(params[name], before[name])

"""explain.fool against a slow, plain reference of its documented rule, on a linear stand-in network.

The stand-in reads `target` when w . image > threshold; its loss falls as w . image rises, so the input
gradient is -w. Small and exact: every pixel move is a whole number, so both versions must agree to the
bit, including the order of ties, the clipping at 0 and 255 and how many steps were taken.
"""
import re

import numpy as np
import pytest

from core import explain
from core.network import CNN

TARGET, OTHER = 3, 5


class Linear:
    def __init__(self, weights, threshold):
        self.w = np.asarray(weights, dtype=np.float64).ravel()  # (784,)
        self.threshold = threshold
        self.gradient_calls = 0

    def predict(self, images, seen=False):
        x = np.asarray(images, dtype=np.float64).reshape(-1, 784)  # (N, 784)
        return np.where(x @ self.w > self.threshold, TARGET, OTHER)

    def forward_backward(self, images, labels, need_input_grad=False, seen=False):
        assert need_input_grad and seen and list(labels) == [TARGET]
        self.gradient_calls += 1
        probs = np.zeros((1, 10))
        probs[0, self.predict(images)[0]] = 1.0
        return 0.0, {}, probs, (-self.w).astype(np.float32).reshape(1, 28, 28)


def reference_fool(net, image, max_steps):
    """(result, gradient steps taken), pixel by pixel."""
    original = [float(v) for v in np.asarray(image).ravel()]
    current = [min(255.0, max(0.0, v)) for v in original]
    for step in range(max_steps):
        if net.predict(np.array(current))[0] == TARGET:
            return reference_undo(net, original, current), step
        slope = [float(s) for s in np.float32(-net.w)]
        movable = []
        for i, (s, c) in enumerate(zip(slope, current)):
            room = 255 - c if s < 0 else c
            if room > 0 and s != 0:
                movable.append((abs(s), i))
        chosen = [i for _, i in sorted(movable)[-4 * 2 ** (step // 40):]]  # steepest; ties: the later pixels
        if not chosen:
            return current, step
        for i in chosen:
            current[i] = min(255.0, max(0.0, current[i] - (64.0 if slope[i] > 0 else -64.0)))
    return current, max_steps


def reference_undo(net, original, fooled):
    changes = sorted((abs(f - o), i) for i, (o, f) in enumerate(zip(original, fooled)) if f != o)
    best = list(fooled)
    for undone in range(1, len(changes) + 1):
        candidate = list(fooled)
        for _, i in changes[:undone]:
            candidate[i] = original[i]
        if net.predict(np.array(candidate))[0] == TARGET:
            best = candidate
    return best


def check_against_reference(net, image, max_steps=explain.FOOL_MAX_STEPS):
    expected, steps = reference_fool(net, image, max_steps)
    stepped = list(explain.fool_steps(net, image, TARGET, max_steps))
    assert stepped[:-1] == [None] * steps and len(stepped) == steps + 1
    np.testing.assert_array_equal(stepped[-1], np.reshape(expected, (28, 28)))
    return np.reshape(expected, (28, 28)), steps


def random_case(seed, weight_scale=1.0, threshold_share=0.5):
    rng = np.random.default_rng(seed)
    image = rng.choice([0, 0, 0, 1, 30, 100, 200, 254, 255, 255], size=(28, 28)).astype(np.uint8)
    weights = rng.integers(-3, 4, (28, 28)) * weight_scale * (rng.random((28, 28)) < 0.15)
    start = float(image.ravel() @ weights.ravel())
    best = float(np.where(weights > 0, 255, 0).ravel() @ weights.ravel())
    return image, Linear(weights, start + threshold_share * (best - start))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("weight_scale", [1.0, 0.01])
def test_fool_follows_its_rule_exactly(seed, weight_scale):
    image, net = random_case(seed, weight_scale)
    result, steps = check_against_reference(net, image)
    assert 0 < steps < 40 and net.predict(result)[0] == TARGET
    check_against_reference(net, image.astype(np.float64))


def test_fool_keeps_going_with_more_pixels_a_step_after_forty_steps():
    weights = np.ones((28, 28))
    net = Linear(weights, 200 * 64 - 1)                   # 200 moves of 64 from black: 4 a step, then 8
    _, steps = check_against_reference(net, np.zeros((28, 28)))
    assert steps > 41                                     # the steps after the 40th, 8 pixels each, were taken


def test_fool_gives_up_when_no_pixel_can_move_the_right_way():
    weights = np.zeros((28, 28))
    weights[3, 4] = 1.0
    net = Linear(weights, 10_000)                          # out of reach: the pixel ends at 255
    result, steps = check_against_reference(net, np.zeros((28, 28)))
    assert steps == 4 and result[3, 4] == 255 and net.gradient_calls == 5
    assert explain.fool(net, np.zeros((28, 28)), TARGET)[3, 4] == 255


def test_one_movable_pixel_is_moved():
    weights = np.zeros((28, 28))
    weights[5, 6] = -1.0
    image = np.zeros((28, 28))
    image[5, 6] = 200
    check_against_reference(Linear(weights, -150), image)     # 200 -> 136 reads the target


def test_out_of_range_pixels_are_first_clipped_to_0_255():
    rng = np.random.default_rng(9)
    image = rng.uniform(-80, 340, (28, 28))                  # (28, 28) as no pad draws, but as a caller may pass
    image[0, :4] = [255.5, 256, -0.5, 300]
    weights = rng.integers(-3, 4, (28, 28)) * (rng.random((28, 28)) < 0.2)
    clipped = np.clip(image, 0, 255).ravel() @ weights.ravel()
    net = Linear(weights, clipped + 2000)
    check_against_reference(net, image)
    weights[0, :4] = [2, 2, -1, -1]                          # these pixels start with no room the right way
    check_against_reference(Linear(weights, clipped + 2000), image)
    below = np.zeros((28, 28))
    below[7, 7] = -100
    one = np.zeros((28, 28))
    one[7, 7] = 1.0
    result, steps = check_against_reference(Linear(one, 10), below)       # from 0, not -100: one step to 64
    assert steps == 1 and result[7, 7] == 64


def test_fool_stops_after_max_steps():
    weights = np.ones((28, 28))
    net = Linear(weights, 1e9)
    fooled = explain.fool(net, np.zeros((28, 28)), TARGET, max_steps=3)
    assert net.gradient_calls == 3 and set(fooled.ravel()) == {0, 192}       # three moves of 64, then no more


def test_fool_refuses_a_wrong_target_or_shape_by_name():
    net = CNN(seed=0)
    with pytest.raises(IndexError, match=r"^digit 10 is outside 0\.\.9$"):
        explain.fool(net, np.zeros((28, 28)), 10)
    with pytest.raises(IndexError, match=r"^digit -1 is outside 0\.\.9$"):
        explain.evidence(net, np.zeros((28, 28)), -1)
    with pytest.raises(ValueError, match=re.escape("expected a (28, 28) image, got (27, 28)")):
        explain.fool(net, np.zeros((27, 28)), 1)


@pytest.mark.parametrize("seed", range(4))
def test_undoing_keeps_the_most_undone_image_that_still_reads_the_target(seed):
    """Many equal changes (ties broken by pixel order) and thresholds that keep exactly 1, K - 1 and K / 2 undone."""
    rng = np.random.default_rng(seed)
    original = rng.choice([0.0, 40.0, 100.0, 255.0], size=784)
    weights = rng.integers(1, 4, 784) * np.where(rng.random(784) < 0.5, 1, -1) * (rng.random(784) < 0.1)
    fooled = np.clip(original + np.sign(weights) * rng.choice([64, 128], size=784), 0, 255)  # (784,)
    changed = np.flatnonzero(fooled != original)
    order = sorted(changed, key=lambda i: abs(fooled[i] - original[i]))             # stable: ties by index
    assert len(order) > 40
    scores = []
    for undone in range(len(order) + 1):
        candidate = fooled.copy()
        candidate[order[:undone]] = original[order[:undone]]
        scores.append(candidate @ weights)
    for keep in (1, len(order) - 1, len(order) // 2):
        net = Linear(weights, (scores[keep] + scores[keep + 1]) / 2)        # undoing only lowers the score
        expected = reference_undo(net, list(original), list(fooled))
        assert np.count_nonzero(np.array(expected) != original) == len(order) - keep
        result = explain._undo_needless_changes(net, original.reshape(28, 28), fooled.reshape(28, 28), TARGET)
        np.testing.assert_array_equal(result.ravel(), expected)

"""core.explain: every figure against the network's forward pass and against core.reference's loops."""
import numpy as np
import pytest

from core import explain, reference
from core.network import CNN


@pytest.fixture(scope="module")
def drawn_digit(test_sample):
    images, _ = test_sample
    return images[0].astype(np.float64)  # (28, 28) 0..255, as in MNIST


@pytest.fixture(scope="module")
def digit(shipped, drawn_digit):
    """The test digit as the shipped network reads it (deskewed once): what the See why views pass."""
    return shipped.read(drawn_digit)[0].astype(np.float64)  # (28, 28) 0..255


def steep_stroke():
    """(28, 28): a stroke leaning 1.6 columns per row, past deskew's cap, so deskewing it once leaves a
    slant that a second deskew would take away: the drawing on which reading twice shows."""
    image = np.zeros((28, 28))
    for row in range(7, 22):
        col = round(14 + 1.6 * (row - 14))
        image[row, max(col, 0):col + 2] = 255
    return image


def as_float64(net):
    twin = CNN(net.num_filters, dtype=np.float64)
    twin.set_params(net.params)
    return twin


def close(actual, expected, rel=1e-5):
    """Agreement to `rel` relative to the size of the expected figures (not of each near-zero entry)."""
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(float(np.max(np.abs(expected))), 1e-12)
    np.testing.assert_allclose(actual, expected, rtol=rel, atol=rel * scale)


# ----- conv ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("f, row, col", [(0, 0, 0), (3, 12, 9), (7, 25, 25), (5, 7, 20)])
def test_conv_arithmetic_matches_the_feature_map_and_the_loops(shipped, drawn_digit, digit, f, row, col):
    result = explain.conv_arithmetic(shipped, digit, f, row, col)
    maps = shipped.feature_maps(drawn_digit)  # (26, 26, F)
    assert result["value"] == maps[row, col, f]
    close(result["sum"], maps[row, col, f])
    normalised = digit / 255 - 0.5  # the digit as the network reads it
    close(result["patch"], normalised[row:row + 3, col:col + 3])
    np.testing.assert_array_equal(result["filter"], shipped.params["conv.filters"][f])
    close(result["products"], normalised[row:row + 3, col:col + 3] * shipped.params["conv.filters"][f])
    slow = reference.conv_forward(normalised, shipped.params["conv.filters"].astype(np.float64))
    close(result["sum"], slow[row, col, f])


def test_conv_arithmetic_in_float64_is_exact(shipped, digit):
    net = as_float64(shipped)
    result = explain.conv_arithmetic(net, digit, 2, 10, 11)
    assert result["sum"] == pytest.approx(result["value"], rel=1e-12, abs=1e-12)


def test_conv_arithmetic_refuses_a_window_off_the_map(shipped, digit):
    with pytest.raises(IndexError):
        explain.conv_arithmetic(shipped, digit, 0, 26, 0)
    with pytest.raises(IndexError):
        explain.conv_arithmetic(shipped, digit, shipped.num_filters, 0, 0)


@pytest.mark.parametrize("arithmetic, side", [(explain.conv_arithmetic, 26), (explain.pool_arithmetic, 13)])
def test_an_index_off_the_map_is_named_in_the_error(shipped, digit, arithmetic, side):
    last_filter = shipped.num_filters - 1
    for index, message in [((last_filter + 1, 0, 0), f"filter {last_filter + 1} is outside 0..{last_filter}"),
                           ((0, side, 0), f"row {side} is outside 0..{side - 1}"),
                           ((0, 0, -1), f"column -1 is outside 0..{side - 1}")]:
        with pytest.raises(IndexError) as error:
            arithmetic(shipped, digit, *index)
        assert str(error.value) == message


# ----- pool ---------------------------------------------------------------------------------------

def test_pool_arithmetic_matches_the_loops(shipped, digit):
    net = as_float64(shipped)
    normalised = digit / 255 - 0.5
    conv = reference.conv_forward(normalised, net.params["conv.filters"])
    pooled = reference.pool_forward(conv)
    for f, row, col in [(0, 6, 6), (4, 3, 9), (7, 12, 0), (1, 8, 5)]:
        result = explain.pool_arithmetic(net, digit, f, row, col)
        close(result["value"], pooled[row, col, f])
        close(result["window"], conv[2 * row:2 * row + 2, 2 * col:2 * col + 2, f])
        d_out = np.zeros(pooled.shape)
        d_out[row, col, f] = 1
        slow_gradient = reference.pool_backward(conv, d_out)[2 * row:2 * row + 2, 2 * col:2 * col + 2, f]
        assert result["winner"] == tuple(np.argwhere(slow_gradient)[0])
        np.testing.assert_array_equal(result["gradient"], slow_gradient)
        assert result["window"][result["winner"]] == result["value"]


def test_pool_winner_on_a_tie_is_the_first_in_row_major_order(shipped):
    blank = np.zeros((28, 28))  # every window of a blank image holds four equal values
    result = explain.pool_arithmetic(shipped, blank, 3, 4, 4)
    assert np.all(result["window"] == result["window"][0, 0])
    assert result["winner"] == (0, 0)
    assert np.count_nonzero(result["gradient"]) == 1


# ----- scores and evidence -------------------------------------------------------------------------

def test_score_breakdown_adds_up_to_the_networks_own_scores(shipped, test_sample):
    images, _ = test_sample
    for drawn in images[:5]:
        seen, probabilities, _ = shipped.read(drawn)
        result = explain.score_breakdown(shipped, seen)
        logits = shipped.logits(drawn)[0]
        close(result["logits"], logits)
        close(result["contributions"].sum(axis=1) + result["biases"], logits)
        close(result["probabilities"], probabilities)
        assert result["contributions"].shape == (10, shipped.num_filters)


def test_every_figure_agrees_with_the_pads_reading_of_a_drawing_deskewing_changes_twice(shipped):
    drawn = steep_stroke()
    seen, probabilities, maps = shipped.read(drawn)  # what the pad shows: one pass, deskewed once
    assert np.abs(shipped.input_images(seen)[0] - seen).max() > 100  # a second deskew would move ink
    result = explain.forward(shipped, seen)
    close(result.conv, maps)
    close(result.probabilities, probabilities)
    close(result.logits, shipped.logits(drawn)[0])
    close(explain.score_breakdown(shipped, seen)["probabilities"], probabilities)
    close(explain.conv_arithmetic(shipped, seen, 1, 9, 12)["value"], maps[9, 12, 1])
    said = int(np.argmax(probabilities))
    bias = shipped.params["softmax.biases"][said]
    close(explain.evidence(shipped, seen, said).sum() + bias, shipped.logits(drawn)[0, said])


def test_score_breakdown_against_the_slow_loops(shipped, digit):
    net = as_float64(shipped)
    result = explain.score_breakdown(net, digit)
    pooled = reference.pool_forward(reference.conv_forward(digit / 255 - 0.5, net.params["conv.filters"]))
    weights, biases = net.params["softmax.weights"], net.params["softmax.biases"]
    logits, probabilities = reference.softmax_forward(pooled, weights, biases)
    close(result["logits"], logits)
    close(result["probabilities"], probabilities)
    flat = pooled.flatten()  # (row, col, filter) order
    for d in (0, 4, 9):
        for f in (0, 5):
            slow = sum(flat[k] * weights[k, d] for k in range(len(flat)) if k % net.num_filters == f)
            close(result["contributions"][d, f], slow)


def test_evidence_sums_to_the_digits_contributions(shipped, digit):
    breakdown = explain.score_breakdown(shipped, digit)
    for d in range(10):
        cells = explain.evidence(shipped, digit, d)
        assert cells.shape == (13, 13, shipped.num_filters)
        close(cells.sum(axis=(0, 1)), breakdown["contributions"][d])
        close(cells.sum() + breakdown["biases"][d], breakdown["logits"][d])


def test_evidence_is_weight_times_pooled_value_cell_by_cell(shipped, digit):
    net = as_float64(shipped)
    pooled = reference.pool_forward(reference.conv_forward(digit / 255 - 0.5, net.params["conv.filters"]))
    weights = net.params["softmax.weights"]
    cells = explain.evidence(net, digit, 7)
    flat_index = (5 * 13 + 8) * net.num_filters + 2  # cell (5, 8), filter 2 in (row, col, filter) order
    close(cells[5, 8, 2], pooled[5, 8, 2] * weights[flat_index, 7])


def test_why_a_rather_than_b_sums_to_the_score_difference(shipped, digit):
    breakdown = explain.score_breakdown(shipped, digit)
    logits, biases = breakdown["logits"], breakdown["biases"]
    difference = explain.evidence_difference(shipped, digit, 3, 8)
    close(difference.sum(), (logits[3] - biases[3]) - (logits[8] - biases[8]))
    close(difference, explain.evidence(shipped, digit, 3) - explain.evidence(shipped, digit, 8))


def test_runner_up_is_the_second_most_probable():
    assert explain.runner_up([0.1, 0.5, 0.05, 0.3, 0.05, 0, 0, 0, 0, 0]) == 3
    assert explain.runner_up([0.6, 0.2, 0.2, 0, 0, 0, 0, 0, 0, 0]) == 1


def test_runner_up_takes_the_first_digit_of_a_tie_whatever_the_pattern():
    rng = np.random.default_rng(0)
    for _ in range(300):
        probabilities = rng.integers(0, 3, size=10) / 10  # many ties, the top one shared too at times
        by_rank = sorted(range(10), key=lambda d: (-probabilities[d], d))  # most probable first, then digit order
        assert explain.runner_up(probabilities) == by_rank[1]


def test_why_a_rather_than_b_names_a_digit_off_the_scale(shipped, digit):
    for a, b, message in [(10, 0, "digit 10 is outside 0..9"), (0, -1, "digit -1 is outside 0..9")]:
        with pytest.raises(IndexError) as error:
            explain.evidence_difference(shipped, digit, a, b)
        assert str(error.value) == message


def test_softmax_arithmetic_gives_the_networks_probabilities(shipped, digit):
    logits = shipped.logits(digit, seen=True)[0]
    result = explain.softmax_arithmetic(logits)
    close(result["probabilities"], shipped.predict_proba(digit, seen=True)[0])
    close(result["exps"] / result["total"], result["probabilities"])
    assert result["shifted"].max() == 0


def test_on_input_puts_each_cell_over_the_pixels_it_reads():
    cells = np.zeros((13, 13))
    cells[0, 0], cells[12, 5] = 1.0, -2.0
    grid = explain.on_input(cells)
    assert grid.shape == (28, 28)
    assert np.all(grid[1:3, 1:3] == 1.0) and grid[1:3, 1:3].sum() == grid[grid > 0].sum()
    assert np.all(grid[25:27, 11:13] == -2.0)
    assert grid[0].sum() == grid[:, 0].sum() == grid[27].sum() == 0


def test_digit_pictures_are_the_output_weights_by_digit_and_filter(shipped):
    pictures = explain.digit_pictures(shipped)
    f = shipped.num_filters
    assert pictures.shape == (10, f, 13, 13)
    weights = shipped.params["softmax.weights"]
    assert pictures[6, 3, 2, 11] == weights[(2 * 13 + 11) * f + 3, 6]


# ----- fool -----------------------------------------------------------------------------------------

def test_fool_turns_most_correctly_read_digits_into_another_changing_few_pixels(shipped, test_sample):
    images, labels = test_sample
    rng = np.random.default_rng(5)
    chosen = [i for i in rng.permutation(len(images))[:40] if shipped.predict(images[i])[0] == labels[i]][:30]
    successes, changed = 0, []
    for i in chosen:
        target = (int(labels[i]) + 1 + int(rng.integers(9))) % 10
        seen = shipped.input_images(images[i])[0]  # (28, 28) as the network reads it
        before = seen.copy()
        fooled = explain.fool(shipped, seen, target)
        np.testing.assert_array_equal(seen, before)  # the input is left alone
        assert fooled.shape == (28, 28) and fooled.min() >= 0 and fooled.max() <= 255
        if shipped.predict(fooled, seen=True)[0] == target:
            successes += 1
            changed.append(int(np.count_nonzero(fooled != seen)))
    assert successes >= 0.9 * len(chosen)
    assert np.median(changed) <= 40          # a few dozen of the 784 pixels, not a repainted digit


def test_fool_leaves_a_digit_already_read_as_the_target_unchanged(shipped, digit):
    said = int(shipped.predict(digit, seen=True)[0])
    np.testing.assert_array_equal(explain.fool(shipped, digit, said), digit)


def test_fool_works_on_the_image_as_the_network_reads_it(shipped):
    seen, probabilities, _ = shipped.read(steep_stroke())
    target = explain.runner_up(probabilities)
    fooled = explain.fool(shipped, seen, target)
    assert shipped.predict(fooled, seen=True)[0] == target  # read as it is, the way the pad read `seen`
    assert np.count_nonzero(fooled != seen) <= 60

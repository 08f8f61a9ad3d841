"""core.stress, core.filterlab, core.digitmap: the maths behind the stress sliders, the filter lab and the digit map."""
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from core import digitmap, filterlab, stress
from core.data import load_sample
from core.steps import run_to_end
from core.network import CNN
from core.steps import run_to_end
from core.train import evaluate


# ----- stress -------------------------------------------------------------------------------------

def test_neutral_settings_leave_the_drawing_as_it_is(test_sample):
    image = test_sample[0][3]
    np.testing.assert_allclose(stress.transformed(image), image, atol=1e-3)


def test_rotation_is_anticlockwise_and_shift_moves_right():
    dot = np.zeros((28, 28))
    dot[14, 20] = 255  # six pixels right of the centre
    assert np.unravel_index(np.argmax(stress.transformed(dot, rotate=90)), dot.shape) == (8, 14)
    assert np.unravel_index(np.argmax(stress.transformed(dot, shift=3)), dot.shape) == (14, 23)


def test_thicken_adds_ink_and_noise_changes_pixels_within_range(test_sample):
    image = test_sample[0][3].astype(np.float32)
    assert stress.transformed(image, thicken=1).sum() > image.sum() > stress.transformed(image, thicken=-1).sum()
    noisy = stress.transformed(image, noise=0.5)
    assert noisy.min() >= 0 and noisy.max() <= 255
    assert np.count_nonzero(np.abs(noisy - image) > 1) > 100
    np.testing.assert_array_equal(noisy, stress.transformed(image, noise=0.5))  # one fixed pattern


def test_a_batch_with_no_settings_given_comes_back_unchanged_as_float32():
    rng = np.random.default_rng(3)
    images = (rng.random((4, 28, 28)) * 255 * (rng.random((4, 28, 28)) < 0.3)).astype(np.uint8)
    out = stress.transformed_batch(images)  # every setting at its default: neutral
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, images, atol=1e-3)


def test_noise_is_the_seeded_pattern_times_the_setting_times_full_ink():
    grey = np.full((2, 28, 28), 127.5)
    strength = np.array([0.05, 0.1])  # small enough that no pixel is clipped
    out = stress.transformed_batch(grey, noise=strength)
    assert out.dtype == np.float32
    pattern = np.random.default_rng(stress.NOISE_SEED).standard_normal((28, 28))  # (28, 28)
    expected = 127.5 + strength[:, None, None] * 255 * pattern  # (2, 28, 28)
    assert 0 < expected.min() and expected.max() < 255
    np.testing.assert_allclose(out, expected, atol=1e-3)


def test_robustness_is_the_networks_probability_of_each_transformed_drawing(shipped, test_sample):
    image, probabilities, _ = shipped.read(test_sample[0][7])  # as the network reads it
    digit = int(np.argmax(probabilities))
    values, probability = stress.robustness(shipped, image, "rotate", digit, count=9)
    assert values[0] == stress.KNOBS["rotate"].low and values[-1] == stress.KNOBS["rotate"].high
    for value, p in zip(values, probability):
        expected = shipped.predict_proba(stress.transformed(image, rotate=value), seen=True)[0, digit]
        assert p == pytest.approx(expected, rel=1e-5, abs=1e-6)
    middle = probability[len(values) // 2]  # rotate 0: the drawing itself, the pad's own answer
    assert middle == pytest.approx(probabilities[digit], rel=1e-4)


def test_robustness_does_not_deskew_the_network_input_again(shipped):
    drawn = np.zeros((28, 28))
    for row in range(7, 22):  # leaning 1.6 columns a row: past deskew's cap, so a second deskew moves it
        col = round(14 + 1.6 * (row - 14))
        drawn[row, max(col, 0):col + 2] = 255
    image, probabilities, _ = shipped.read(drawn)
    digit = int(np.argmax(probabilities))
    _, probability = stress.robustness(shipped, image, "shift", digit, count=3)
    assert probability[1] == pytest.approx(probabilities[digit], rel=1e-4)  # shift 0: the pad's answer


def test_robustness_keeps_the_other_sliders(shipped, test_sample):
    image = test_sample[0][7]
    settings = {**stress.NEUTRAL, "shift": 4.0}
    values, probability = stress.robustness(shipped, image, "noise", 2, settings, count=5)
    expected = shipped.predict_proba(stress.transformed(image, shift=4.0, noise=values[-1]), seen=True)[0, 2]
    assert probability[-1] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("knob", sorted(stress.KNOBS))
def test_the_default_sweep_passes_through_the_untouched_drawing_and_both_ends(knob):
    values = stress.sweep_values(knob)
    spec = stress.KNOBS[knob]
    assert values[0] == spec.low and values[-1] == spec.high
    assert stress.NEUTRAL[knob] in values  # the chart's curve goes through the pad's own answer
    np.testing.assert_allclose(np.diff(values), np.diff(values)[0])  # evenly spaced


def test_the_default_robustness_curve_holds_the_pads_own_answer(shipped, test_sample):
    image, probabilities, _ = shipped.read(test_sample[0][7])
    digit = int(np.argmax(probabilities))
    values, probability = stress.robustness(shipped, image, "rotate", digit)  # the chart's call
    np.testing.assert_array_equal(values, stress.sweep_values("rotate"))
    assert probability[list(values).index(0.0)] == pytest.approx(probabilities[digit], rel=1e-4)


# ----- filter lab ---------------------------------------------------------------------------------

def test_accuracy_steps_end_with_the_same_accuracy_as_evaluate(shipped, test_sample):
    images, labels = test_sample
    steps = list(filterlab.accuracy_steps(shipped, images, labels, chunk=300))
    assert [seen for _, seen in steps] == [300, 600, 900, 1200, 1500, 1800, 2000]
    correct, seen = steps[-1]
    assert correct / seen == pytest.approx(evaluate(shipped, images, labels)[1])


def test_switching_filters_off_costs_accuracy_and_leaves_the_model_alone(shipped, test_sample):
    images, labels = test_sample
    before = shipped.params["conv.filters"].copy()
    dark = filterlab.with_filters(shipped, np.zeros_like(before))
    np.testing.assert_array_equal(shipped.params["conv.filters"], before)
    full = filterlab.accuracy(shipped, images, labels)
    assert full > 0.9
    assert filterlab.accuracy(dark, images, labels) < 0.2  # every filter off: nothing to see


def test_presets_are_scaled_to_the_strength_asked():
    assert set(filterlab.PRESETS) == {"horizontal edge", "vertical edge", "diagonal", "blur", "identity"}
    edge = filterlab.preset("vertical edge", 1.5)
    assert np.max(np.abs(edge)) == 1.5 and edge[0, 0] == -1.5 and edge[0, 2] == 1.5
    assert filterlab.strength_of(np.zeros((3, 3))) == 1.0
    assert filterlab.strength_of(np.array([[0, -2.0, 1]])) == 2.0
    assert filterlab.strength_of(np.array([[0.25, -0.5]])) == 0.5  # a weak filter keeps its own strength
    for name, kernel in filterlab.PRESETS.items():  # by default: largest |weight| 1, the preset as written
        np.testing.assert_array_equal(filterlab.preset(name), kernel)


def test_with_filters_puts_exactly_the_filters_given_into_the_copy(shipped):
    filters = np.random.default_rng(0).standard_normal(shipped.params["conv.filters"].shape)  # (8, 3, 3)
    twin = filterlab.with_filters(shipped, filters)
    np.testing.assert_array_equal(twin.params["conv.filters"], filters.astype(np.float32))


def test_training_the_output_layer_only_learns_with_hand_made_filters(test_sample):
    images, labels = load_sample("train")
    test_images, test_labels = test_sample
    net = CNN(num_filters=4, seed=3)
    net.params["conv.filters"][...] = [filterlab.preset(name) for name in
                                       ("horizontal edge", "vertical edge", "diagonal", "identity")]
    filters = net.params["conv.filters"].copy()
    before = filterlab.accuracy(net, test_images, test_labels)
    stages = list(filterlab.train_output_layer_steps(net, images[:3000], labels[:3000]))
    assert stages[0][0] == "features" and stages[-1][:2] == ("training", 1.0)
    np.testing.assert_array_equal(net.params["conv.filters"], filters)  # frozen
    after = filterlab.accuracy(net, test_images, test_labels)
    assert before < 0.3 and after > 0.8


def _output_layer_by_hand(net, images, labels, seed, epochs, batch, lr, momentum):
    """The output layer's weights after plain-NumPy SGD with heavy-ball momentum on fixed pooled
    features: the slow, written-out version of train_output_layer_steps. Returns (weights, biases, losses)."""
    features = filterlab.pooled_features(net, images).astype(np.float64)  # (N, 13*13*F)
    weights = net.params["softmax.weights"].astype(np.float64)  # (13*13*F, 10)
    biases = net.params["softmax.biases"].astype(np.float64)  # (10,)
    velocity_w, velocity_b = np.zeros_like(weights), np.zeros_like(biases)
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(images))
        for start in range(0, len(images), batch):
            chosen = order[start:start + batch]
            logits = features[chosen] @ weights + biases  # (B, 10)
            exp = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs = exp / exp.sum(axis=1, keepdims=True)  # (B, 10)
            losses.append(float(-np.mean(np.log(probs[np.arange(len(chosen)), labels[chosen]]))))
            d_logits = (probs - np.eye(10)[labels[chosen]]) / len(chosen)  # (B, 10)
            velocity_w = momentum * velocity_w - lr * (features[chosen].T @ d_logits)
            velocity_b = momentum * velocity_b - lr * d_logits.sum(axis=0)
            weights, biases = weights + velocity_w, biases + velocity_b
    return weights, biases, losses


@pytest.fixture(scope="module")
def small_training_set(test_sample):
    images, labels = test_sample
    return images[:250], labels[:250].astype(np.intp)


def test_training_the_output_layer_matches_sgd_with_momentum_written_out(small_training_set):
    images, labels = small_training_set
    settings = {"epochs": 2, "batch_size": 24, "learning_rate": 0.05, "momentum": 0.5}  # 11 steps an epoch
    net = CNN(num_filters=2, seed=5, dtype=np.float64)
    expected_w, expected_b, losses = _output_layer_by_hand(net, images, labels, 7, settings["epochs"],
                                                           settings["batch_size"], settings["learning_rate"],
                                                           settings["momentum"])
    stages = list(filterlab.train_output_layer_steps(net, images, labels, seed=7, **settings))
    np.testing.assert_allclose(net.params["softmax.weights"], expected_w, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(net.params["softmax.biases"], expected_b, rtol=1e-9, atol=1e-12)
    training = [(fraction, loss) for stage, fraction, loss in stages if stage == "training"]
    reported = [10, 20, 22]  # every tenth step and the last of 2 * 11
    assert [fraction for fraction, _ in training] == pytest.approx([done / 22 for done in reported])
    assert [loss for _, loss in training] == pytest.approx([losses[done - 1] for done in reported], rel=1e-9)


def test_output_training_reports_feature_progress_by_chunk_of_images(small_training_set):
    images, labels = small_training_set  # 250 images: chunks of 100, 100, 50, then the features
    net = CNN(num_filters=2, seed=5)
    stages = list(filterlab.train_output_layer_steps(net, images, labels, epochs=1, batch_size=250))
    features = [(stage, fraction) for stage, fraction, _ in stages[:-1]]
    assert features == [("features", 0.4), ("features", 0.8), ("features", 1.0), ("features", 1.0)]
    assert all(np.isnan(loss) for _, _, loss in stages[:-1])
    assert stages[-1][:2] == ("training", 1.0)  # one step, the last: reported


def test_train_output_layer_uses_seed_0_and_the_house_settings_and_returns_the_last_loss(small_training_set):
    images, labels = small_training_set
    config = filterlab.OUTPUT_TRAINING
    net = CNN(num_filters=2, seed=5, dtype=np.float64)
    expected_w, expected_b, losses = _output_layer_by_hand(net, images, labels, 0, 1, config["batch_size"],
                                                           config["learning_rate"], config["momentum"])
    loss = filterlab.train_output_layer(net, images, labels, epochs=1)
    np.testing.assert_allclose(net.params["softmax.weights"], expected_w, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(net.params["softmax.biases"], expected_b, rtol=1e-9, atol=1e-12)
    assert loss == pytest.approx(losses[-1], rel=1e-9)
    again = CNN(num_filters=2, seed=5, dtype=np.float64)  # the steps' own default seed is 0 too
    run_to_end(filterlab.train_output_layer_steps(again, images, labels, epochs=1))
    np.testing.assert_array_equal(again.params["softmax.weights"], net.params["softmax.weights"])
    seeded, by_steps = CNN(num_filters=2, seed=5), CNN(num_filters=2, seed=5)  # a seed given is passed on
    filterlab.train_output_layer(seeded, images, labels, seed=3, epochs=1)
    run_to_end(filterlab.train_output_layer_steps(by_steps, images, labels, seed=3, epochs=1))
    np.testing.assert_array_equal(seeded.params["softmax.weights"], by_steps.params["softmax.weights"])


def test_output_training_accepts_labels_given_as_whole_floats(small_training_set):
    images, labels = small_training_set  # e.g. read back from a JSON file
    by_int, by_float = CNN(num_filters=2, seed=5), CNN(num_filters=2, seed=5)
    assert filterlab.train_output_layer(by_float, images, labels.astype(np.float64), epochs=1) == \
        filterlab.train_output_layer(by_int, images, labels, epochs=1)
    np.testing.assert_array_equal(by_float.params["softmax.weights"], by_int.params["softmax.weights"])


def test_pooled_features_are_what_the_output_layer_reads(shipped, test_sample):
    images = test_sample[0][:20]
    features = filterlab.pooled_features(shipped, images)
    logits = features @ shipped.params["softmax.weights"] + shipped.params["softmax.biases"]
    np.testing.assert_allclose(logits, shipped.logits(images), rtol=1e-5, atol=1e-5)
    steps = list(filterlab.pooled_feature_steps(shipped, images, chunk=8))
    np.testing.assert_array_equal(steps[-1], features)


def test_pooled_features_of_images_as_the_network_reads_them_are_not_deskewed_again(shipped, test_sample):
    drawn = test_sample[0][:20]
    seen = shipped.input_images(drawn)  # (20, 28, 28)
    np.testing.assert_allclose(filterlab.pooled_features(shipped, seen, seen=True),
                               filterlab.pooled_features(shipped, drawn), rtol=1e-6, atol=1e-6)
    skipped = filterlab.pooled_features(shipped, drawn, seen=True)  # drawn read as it is: not deskewed
    assert not np.allclose(skipped, filterlab.pooled_features(shipped, drawn), atol=1e-3)


# ----- digit map ----------------------------------------------------------------------------------

def test_the_fast_pca_finds_the_same_directions_as_a_full_svd(shipped, test_sample):
    features = filterlab.pooled_features(shipped, test_sample[0][:600])
    with threadpool_limits(limits=1, user_api="blas"):   # two BLAS threads on a busy machine: 10x slower
        fast = digitmap.principal_components(features)
        exact = digitmap.exact_principal_components(features)
    np.testing.assert_allclose(fast.components @ fast.components.T, np.eye(2), atol=1e-9)
    assert abs(float(fast.components[0] @ exact.components[0])) > 0.9999
    assert abs(float(fast.components[1] @ exact.components[1])) > 0.999
    np.testing.assert_allclose(fast.variance, exact.variance, rtol=1e-3)
    scale = np.abs(exact.project(features)).max()
    np.testing.assert_allclose(fast.project(features), exact.project(features), atol=2e-2 * scale)


def test_the_exact_pca_is_exact_for_float32_features_far_from_the_origin():
    """The checking version works in float64 whatever the features' type, so it matches the
    covariance's eigenvectors to float64 precision even where float32 centring would not."""
    rng = np.random.default_rng(3)
    features = (rng.standard_normal((200, 6)) * [5, 2, 1, 0.5, 0.2, 0.1] + 1000).astype(np.float32)
    exact = digitmap.exact_principal_components(features)
    x = features.astype(np.float64)
    variance, directions = np.linalg.eigh(np.cov(x, rowvar=False))  # ascending
    np.testing.assert_allclose(exact.mean, x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(exact.variance, variance[::-1][:2], rtol=1e-10)
    np.testing.assert_allclose(np.abs(exact.components @ directions[:, ::-1][:, :2]), np.eye(2), atol=1e-10)


def test_principal_components_uses_the_seed_it_is_given():
    rng = np.random.default_rng(4)
    features = rng.standard_normal((60, 30))  # no clear main directions: the sketch's start shows
    for seed in (0, 7):
        direct = digitmap.principal_components(features, seed=seed)
        stepped = run_to_end(digitmap.principal_component_steps(features, seed=seed))
        np.testing.assert_array_equal(direct.components, stepped.components)
    assert not np.array_equal(digitmap.principal_components(features, seed=0).components,
                              digitmap.principal_components(features, seed=7).components)


def test_pca_puts_the_most_spread_along_the_first_axis():
    rng = np.random.default_rng(0)
    points = rng.standard_normal((500, 5)) * [10, 3, 0.1, 0.1, 0.1] + 7
    projection = digitmap.principal_components(points)
    assert abs(projection.components[0, 0]) > 0.99 and abs(projection.components[1, 1]) > 0.99
    assert projection.project(points).mean(axis=0) == pytest.approx([0, 0], abs=1e-9)
    assert projection.variance[0] == pytest.approx(100, rel=0.2)


def test_run_to_end_returns_the_last_step_and_runs_every_step():
    from core.steps import run_to_end

    ran = []

    def steps():
        for i in range(4):
            ran.append(i)
            yield i * 10

    assert run_to_end(steps()) == 30 and ran == [0, 1, 2, 3]
    assert run_to_end(iter(()), default=(0, 0)) == (0, 0)
    assert run_to_end(iter(())) is None

"""The fast batched network: shapes, probabilities, stability, agreement with the slow reference."""
import subprocess
import sys

import numpy as np
import pytest

from core import reference
from core.layers import Conv3x3, MaxPool2, Softmax
from core.losses import cross_entropy, softmax
from core.network import CNN

RNG = np.random.default_rng(7)


def random_images(n):
    return RNG.integers(0, 256, (n, 28, 28)).astype(np.uint8)


def test_shapes_through_every_layer():
    x = RNG.standard_normal((5, 28, 28))
    conv = Conv3x3(8, RNG, np.float64)
    out = conv.forward(x)
    assert out.shape == (5, 26, 26, 8)
    pooled = MaxPool2().forward(out)
    assert pooled.shape == (5, 13, 13, 8)
    logits = Softmax(13 * 13 * 8, 10, RNG, np.float64).forward(pooled)
    assert logits.shape == (5, 10)


def test_parameter_contract():
    model = CNN(num_filters=8, seed=0)
    shapes = {name: array.shape for name, array in model.params.items()}
    assert shapes == {"conv.filters": (8, 3, 3), "softmax.weights": (1352, 10), "softmax.biases": (10,)}
    assert np.all(model.params["softmax.biases"] == 0)
    # The tutorial's initialisation: randn / 9 and randn / input_len.
    assert 0.05 < model.params["conv.filters"].std() < 0.2
    assert 0.0005 < model.params["softmax.weights"].std() < 0.001


def test_probabilities_are_a_distribution_for_batches_and_single_images():
    model = CNN(seed=1)
    probs = model.predict_proba(random_images(6))
    assert probs.shape == (6, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)
    assert np.all(probs >= 0)
    single = model.predict_proba(random_images(1)[0])  # (28, 28) -> (1, 10)
    assert single.shape == (1, 10)
    assert model.predict(random_images(3)).shape == (3,)


def test_uint8_and_float_inputs_agree():
    model = CNN(seed=2)
    images = random_images(2)
    np.testing.assert_allclose(model.predict_proba(images), model.predict_proba(images.astype(np.float64)), rtol=1e-6)


def test_bad_image_shape_is_refused():
    with pytest.raises(ValueError, match="28, 28"):
        CNN().predict_proba(np.zeros((2, 27, 28)))
    for shape in [(2, 28, 27), (28,), (1, 1, 28, 28)]:  # right number of axes, wrong sizes; or wrong number
        with pytest.raises(ValueError) as error:
            CNN().predict(np.zeros(shape))
        assert str(error.value) == f"expected images of shape (N, 28, 28) or (28, 28), got {shape}"


def test_softmax_is_stable_for_huge_logits():
    logits = np.array([[1e4, 0, -1e4, 5, 0, 0, 0, 0, 0, 0], [-1e4] * 10])
    probs = softmax(logits)
    assert np.all(np.isfinite(probs))
    np.testing.assert_allclose(probs.sum(axis=1), 1)
    assert probs[0, 0] == pytest.approx(1.0)
    loss, d_logits, _ = cross_entropy(logits, np.array([2, 3]))
    assert np.isfinite(loss) and np.all(np.isfinite(d_logits))
    assert loss == pytest.approx((2e4 + np.log(10)) / 2)  # -log p = 1e4 - (-1e4); uniform row: log 10


def test_network_stays_finite_when_logits_are_huge():
    model = CNN(seed=3)
    model.params["softmax.weights"][:] = RNG.standard_normal((1352, 10)) * 1e3  # logits ~ 1e4
    probs = model.predict_proba(random_images(4))
    assert np.all(np.isfinite(probs))
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)
    loss, grads = model.loss_and_grads(random_images(4), [0, 1, 2, 3])
    assert np.isfinite(loss) and all(np.all(np.isfinite(g)) for g in grads.values())


def test_batched_path_equals_the_per_sample_reference():
    model = CNN(num_filters=8, seed=4, dtype=np.float64)
    model.params["softmax.biases"][:] = RNG.standard_normal(10)
    images, labels = random_images(3), np.array([3, 0, 9])
    loss, grads = model.loss_and_grads(images, labels)
    ref_loss, ref_grads = reference.loss_and_grads(model.params, images, labels)
    assert loss == pytest.approx(ref_loss, abs=1e-6)
    for name in grads:
        np.testing.assert_allclose(grads[name], ref_grads[name], atol=1e-6, rtol=0)
    x = images[0] / 255 - 0.5
    ref_conv = reference.conv_forward(x, model.params["conv.filters"])
    np.testing.assert_allclose(model.feature_maps(images[0]), ref_conv, atol=1e-6)


def test_the_reference_conv_gradients_are_those_of_its_forward_pass():
    image, filters = RNG.standard_normal((6, 7)), RNG.standard_normal((2, 3, 3))  # not square: axes kept apart
    d_out = RNG.standard_normal((4, 5, 2))
    d_filters, d_image = reference.conv_backward(image, filters, d_out)
    projection = lambda im, fi: float(np.sum(reference.conv_forward(im, fi) * d_out))  # linear in each
    for values, grad, other in [(image, d_image, lambda v: projection(v, filters)),
                                (filters, d_filters, lambda v: projection(image, v))]:
        for index in np.ndindex(values.shape):  # the slope along each entry, exact for a linear map
            step = np.zeros_like(values)
            step[index] = 1.0
            assert grad[index] == pytest.approx(other(values + step) - other(values), rel=1e-9, abs=1e-9)


def test_the_reference_softmax_stays_finite_for_huge_logits():
    biases = np.array([800.0, 0, -800, 1, 0, 0, 0, 0, 0, 0])  # exp(800) overflows a float64
    logits, probabilities = reference.softmax_forward(np.zeros((1, 1, 1)), np.zeros((1, 10)), biases)
    np.testing.assert_array_equal(logits, biases)
    assert probabilities[0] == pytest.approx(1.0) and probabilities.sum() == pytest.approx(1.0)


def test_maxpool_tie_rule_sends_gradient_to_first_maximum_in_row_major_order():
    # Four 2x2 windows (one filter) with ties in different places.
    x = np.array([[5, 5, 1, 2],
                  [5, 5, 3, 3],
                  [0, 7, 4, 1],
                  [7, 7, 2, 4]], dtype=np.float64)[None, :, :, None]  # (1, 4, 4, 1)
    pool = MaxPool2()
    np.testing.assert_array_equal(pool.forward(x)[0, :, :, 0], [[5, 3], [7, 4]])
    d_x = pool.backward(np.array([[1.0, 2.0], [3.0, 4.0]])[None, :, :, None])[0, :, :, 0]
    expected = np.array([[1, 0, 0, 0],   # 5 5 / 5 5: top-left wins
                         [0, 0, 2, 0],   # 3 3 on the bottom row: bottom-left wins
                         [0, 3, 4, 0],   # 0 7 / 7 7: top-right wins; 4 / 4: top-left wins
                         [0, 0, 0, 0]], dtype=np.float64)
    np.testing.assert_array_equal(d_x, expected)
    ref = reference.pool_backward(x[0], np.array([[1.0, 2.0], [3.0, 4.0]])[:, :, None])[:, :, 0]
    np.testing.assert_array_equal(ref, expected)
    assert np.count_nonzero(pool.backward(np.ones((1, 2, 2, 1)))) == 4  # one position per window


def test_loss_and_grads_changes_no_parameter():
    model = CNN(seed=5)
    before = model.get_params()
    model.loss_and_grads(random_images(4), [1, 2, 3, 4])
    for name, value in before.items():
        np.testing.assert_array_equal(model.params[name], value)


def test_save_and_load_round_trip(tmp_path):
    model = CNN(num_filters=8, seed=6)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = CNN.load(path)
    for name, value in model.params.items():
        np.testing.assert_array_equal(loaded.params[name], value)
    images = random_images(3)
    np.testing.assert_allclose(loaded.predict_proba(images), model.predict_proba(images))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]  # no temporary left behind


def test_load_params_reads_back_the_saved_weights(tmp_path):
    from core.modelfile import PARAM_KEYS, load_params

    model = CNN(num_filters=3, seed=2, deskew=True)
    model.save(tmp_path / "model.npz")
    params = load_params(tmp_path / "model.npz")
    assert sorted(params) == sorted(PARAM_KEYS)
    for name in PARAM_KEYS:
        assert params[name].dtype == np.float32
        np.testing.assert_array_equal(params[name], model.params[name])


def test_a_model_with_another_filter_count_loads(tmp_path):
    CNN(num_filters=4, seed=0).save(tmp_path / "four.npz")
    model = CNN.load(tmp_path / "four.npz")
    assert model.num_filters == 4
    assert model.predict_proba(random_images(1)).shape == (1, 10)


def test_copy_is_independent():
    model = CNN(seed=8)
    twin = model.copy()
    twin.params["conv.filters"][0, 0, 0] += 1
    assert model.params["conv.filters"][0, 0, 0] != twin.params["conv.filters"][0, 0, 0]


def test_importing_core_loads_no_qt():
    code = (
        "import sys, importlib, pkgutil, core\n"
        "for m in pkgutil.iter_modules(core.__path__): importlib.import_module('core.' + m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'gui')]\n"
        "print(len(list(pkgutil.iter_modules(core.__path__))))\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 8  # really imported the modules


@pytest.mark.parametrize("num_filters, dtype", [(3, np.float64), (8, np.float32), (12, np.float32)])
def test_copy_keeps_the_filter_count_dtype_and_every_weight(num_filters, dtype):
    model = CNN(num_filters=num_filters, seed=9, dtype=dtype)
    twin = model.copy()
    assert twin.num_filters == num_filters and twin.dtype == dtype
    for name, value in model.params.items():
        assert twin.params[name] is not value
        np.testing.assert_array_equal(twin.params[name], value)
    images = random_images(2)
    np.testing.assert_array_equal(twin.predict_proba(images), model.predict_proba(images))


def test_a_saved_model_is_readable_by_others_and_a_replaced_one_keeps_its_mode(tmp_path):
    import os
    import stat

    old_umask = os.umask(0o022)
    try:
        new = tmp_path / "new.npz"
        CNN(seed=1).save(new)
        assert stat.S_IMODE(new.stat().st_mode) == 0o644       # not mkstemp's private 0600
        kept = tmp_path / "kept.npz"
        CNN(seed=1).save(kept)
        kept.chmod(0o640)
        CNN(seed=2).save(kept)
        assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    finally:
        os.umask(old_umask)


@pytest.mark.parametrize("deskew", [False, True])
def test_read_gives_the_input_probabilities_and_maps_of_one_forward_pass(deskew):
    model = CNN(seed=2, deskew=deskew)
    image = np.zeros((28, 28), np.float32)
    for row in range(6, 22):                                # a slanted bar, which deskewing changes
        image[row, 16 - row // 3:19 - row // 3] = 255
    seen, probabilities, maps = model.read(image)
    np.testing.assert_array_equal(seen, model.input_images(image)[0])
    np.testing.assert_allclose(probabilities, model.predict_proba(image)[0], rtol=1e-6)
    np.testing.assert_allclose(maps, model.feature_maps(image), rtol=1e-6, atol=1e-7)
    assert maps.flags.c_contiguous and maps.shape == (26, 26, 8)


def test_images_already_as_the_network_reads_them_skip_its_input_stage():
    model = CNN(seed=2, deskew=True)
    image = np.zeros((28, 28), np.float32)
    for row in range(7, 22):                                # leaning 1.6 columns a row: past deskew's cap
        col = round(14 + 1.6 * (row - 14))
        image[row, max(col, 0):col + 2] = 255
    seen, probabilities, _ = model.read(image)
    assert np.abs(model.input_images(seen)[0] - seen).max() > 100   # deskewing it again would change it
    np.testing.assert_allclose(model.predict_proba(seen, seen=True)[0], probabilities, rtol=1e-6)
    assert np.abs(model.predict_proba(seen)[0] - probabilities).max() > 1e-4   # seen=False runs the stage again
    labels = [int(np.argmax(probabilities))]
    seen_loss = model.forward_backward(seen, labels, seen=True)[0]
    np.testing.assert_allclose(seen_loss, model.forward_backward(image, labels)[0], rtol=1e-6)
    with pytest.raises(ValueError):
        model.predict(np.zeros((27, 28)), seen=True)


def test_the_map_sides_are_what_the_layers_make_of_a_digit():
    from core.mnist_format import CONV_SIDE, POOLED_SIDE
    from core.modelfile import shapes_problem

    model = CNN(num_filters=3, seed=0)
    maps = model.conv.forward(np.zeros((1, 28, 28), np.float32))
    assert maps.shape == (1, CONV_SIDE, CONV_SIDE, 3)
    assert model.pool.forward(maps).shape == (1, POOLED_SIDE, POOLED_SIDE, 3)
    assert shapes_problem({key: array.shape for key, array in model.params.items()}) is None

"""The layers keep feature maps channels-first in memory and hand out (N, H, W, F) views; an
array laid out channels-last must give exactly the same results (it only costs a copy)."""
import numpy as np

from core.layers import Conv3x3, MaxPool2, Softmax

RNG = np.random.default_rng(11)


def both_layouts(shape_nhwf):
    """The same values twice: a C-contiguous (N, H, W, F) array and a view of (N, F, H, W) memory."""
    values = np.round(RNG.standard_normal(shape_nhwf), 1)  # rounding makes pooling ties common
    channels_first = np.ascontiguousarray(values.transpose(0, 3, 1, 2)).transpose(0, 2, 3, 1)
    assert values.flags.c_contiguous and not channels_first.flags.c_contiguous
    return values, channels_first


def test_conv_output_is_a_channels_first_view_with_the_documented_shape():
    conv = Conv3x3(4, RNG, np.float64)
    out = conv.forward(RNG.standard_normal((3, 9, 8)))
    assert out.shape == (3, 7, 6, 4)
    assert out.transpose(0, 3, 1, 2).flags.c_contiguous  # (N, F, H, W) in memory


def test_pool_forward_and_backward_agree_across_layouts():
    plain, viewed = both_layouts((2, 6, 8, 3))
    d_out = RNG.standard_normal((2, 3, 4, 3))
    results = []
    for x in (plain, viewed):
        pool = MaxPool2()
        results.append((pool.forward(x), pool.backward(d_out)))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    assert np.count_nonzero(results[0][1]) == d_out.size  # one winner per window, even with ties


def test_dense_layer_agrees_across_layouts_and_keeps_the_row_col_filter_weight_order():
    plain, viewed = both_layouts((2, 5, 5, 3))
    layer = Softmax(5 * 5 * 3, 10, RNG, np.float64)
    expected = plain.reshape(2, -1) @ layer.params["weights"]  # rows in (row, column, filter) order
    d_logits = RNG.standard_normal((2, 10))
    for x in (plain, viewed):
        np.testing.assert_allclose(layer.forward(x), expected, atol=1e-12)
        d_x = layer.backward(d_logits)
        np.testing.assert_allclose(layer.grads["weights"], plain.reshape(2, -1).T @ d_logits, atol=1e-12)
        np.testing.assert_allclose(d_x, (d_logits @ layer.params["weights"].T).reshape(plain.shape), atol=1e-12)

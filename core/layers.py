"""The three layers of the classic MNIST CNN, vectorised over a leading batch dimension N.

Each layer has ``forward(x)``, which remembers what its backward pass needs, and
``backward(d_out)``, which returns the gradient with respect to the layer's input and
stores the gradients of its parameters in ``self.grads`` (same keys as ``self.params``).
Layers never change their own parameters: an optimizer does that (core.optim).

Shapes follow the tutorial this network comes from: images are (N, 28, 28), feature maps
are (N, H, W, F). In memory the feature maps are channels-first, (N, F, H, W): each filter's
map of each image is one contiguous block, so that the convolution is one matrix product per
image and max-pooling works on whole rows. The layers hand each other (N, H, W, F) views of
those arrays (a transpose, no copy), and `_channels_first` turns a view back without copying;
an array laid out channels-last works too, at the price of one copy.

core.reference holds slow per-sample loop versions of the same maths; tests check that both agree.
"""
import numpy as np

# The nine filter taps in row-major order, as (row offset, column offset).
TAPS = tuple((i, j) for i in range(3) for j in range(3))


def _channels_first(x):
    """(N, H, W, F) -> (N, F, H, W), C-contiguous; no copy when x is a view made by _channels_last."""
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def _channels_last(x):
    """(N, F, H, W) -> the (N, H, W, F) view of the same memory."""
    return x.transpose(0, 2, 3, 1)


class Conv3x3:
    """`num_filters` 3x3 filters, no bias, "valid" cross-correlation with stride 1.

    im2col: the nine shifted copies of the input (one per filter tap) are stacked, so that each
    image's F output maps are one (F, 9) @ (9, H-2 * W-2) matrix product.
    """

    def __init__(self, num_filters, rng, dtype=np.float32):
        # Divide by 9 to keep the initial outputs small, as the tutorial does.
        filters = rng.standard_normal((num_filters, 3, 3)) / 9
        self.params = {"filters": filters.astype(dtype)}  # (F, 3, 3)
        self.grads = {}
        self._columns = None

    def forward(self, x):
        """x: (N, H, W) -> (N, H-2, W-2, F)."""
        n, h, w = x.shape
        self._columns = None  # the previous batch's go before this one's are made: a lower peak
        columns = np.empty((n, 9, h - 2, w - 2), dtype=np.result_type(x, self.params["filters"]))
        for tap, (i, j) in enumerate(TAPS):  # columns[:, tap, r, c] = x[:, r + i, c + j]
            columns[:, tap] = x[:, i:i + h - 2, j:j + w - 2]
        self._columns = columns.reshape(n, 9, -1)  # (N, 9, P), P = (H-2) * (W-2)
        filters = self.params["filters"].reshape(-1, 9)  # (F, 9)
        out = np.matmul(filters, self._columns)  # (N, F, P)
        return _channels_last(out.reshape(n, -1, h - 2, w - 2))  # (N, H-2, W-2, F)

    def backward(self, d_out, need_input_grad=True):
        """d_out: (N, H-2, W-2, F) -> gradient w.r.t. x, (N, H, W).

        The first layer of the network has no use for its input gradient, so training passes
        need_input_grad=False and gets None back; gradient checks ask for it.
        """
        n, h, w, num_filters = d_out.shape
        d_maps = _channels_first(d_out).reshape(n, num_filters, -1)  # (N, F, P)
        # (F, 3, 3): each filter weight sums d_out times the pixel it touched, over every window.
        per_image = np.matmul(d_maps, self._columns.transpose(0, 2, 1))  # (N, F, 9)
        self.grads["filters"] = per_image.sum(axis=0).reshape(num_filters, 3, 3)
        if not need_input_grad:
            return None
        filters = self.params["filters"].reshape(num_filters, 9)  # (F, 9)
        d_columns = np.matmul(filters.T, d_maps).reshape(n, 9, h, w)  # (N, 9, H-2, W-2)
        d_x = np.zeros((n, h + 2, w + 2), dtype=d_columns.dtype)  # (N, H, W)
        for tap, (i, j) in enumerate(TAPS):  # each output position spreads back over its window
            d_x[:, i:i + h, j:j + w] += d_columns[:, tap]
        return d_x


class MaxPool2:
    """Non-overlapping 2x2 max pooling, (N, H, W, F) -> (N, H/2, W/2, F).

    Tie rule: when several positions of a window hold the maximum, the gradient goes to the
    first of them in row-major order (top-left, top-right, bottom-left, bottom-right) and
    to no other. Exactly one position per window receives it.

    The input is first copied into four contiguous "corner" maps, one per window position, so
    that the maximum and the backward routing are whole-array operations (a four-way maximum)
    rather than operations on interleaved strided views.
    """

    # Row-major order of the four window positions, as (row offset, column offset).
    POSITIONS = ((0, 0), (0, 1), (1, 0), (1, 1))

    def __init__(self):
        self.params, self.grads = {}, {}
        self._corners = None
        self._out = None

    @staticmethod
    def _by_position(x):
        """(N, H, W, F) -> (2, 2, N, F, H/2, W/2) view: [row in window, column in window, ...]."""
        n, h, w, f = x.shape
        return x.reshape(n, h // 2, 2, w // 2, 2, f).transpose(2, 4, 0, 5, 1, 3)

    def forward(self, x):
        """x: (N, H, W, F) with H and W even -> (N, H/2, W/2, F)."""
        self._corners = self._out = None  # the previous batch's go first: a lower peak
        corners = np.ascontiguousarray(self._by_position(x))  # (2, 2, N, F, H/2, W/2)
        out = np.maximum(corners[0, 0], corners[0, 1])  # (N, F, H/2, W/2)
        np.maximum(out, corners[1, 0], out=out)
        np.maximum(out, corners[1, 1], out=out)
        self._corners, self._out = corners, out  # backward finds each window's winner from these
        return _channels_last(out)  # (N, H/2, W/2, F)

    def _winners(self):
        """(2, 2, N, F, H/2, W/2) bool: True at the first position holding its window's maximum."""
        corners, out = self._corners, self._out
        won = np.empty(corners.shape, dtype=bool)
        free = np.ones(out.shape, dtype=bool)  # (N, F, H/2, W/2): no earlier position held the maximum
        for r, c in self.POSITIONS[:3]:
            np.equal(corners[r, c], out, out=won[r, c])
            won[r, c] &= free
            free &= ~won[r, c]
        won[1, 1] = free  # the maximum is somewhere: if at no earlier position, then bottom-right
        return won

    def backward(self, d_out):
        """d_out: (N, H/2, W/2, F) -> (N, H, W, F), non-zero only at each window's winner."""
        d_pooled = _channels_first(d_out)  # (N, F, H/2, W/2)
        n, f, h, w = d_pooled.shape
        d_x = np.empty((n, f, 2 * h, 2 * w), dtype=d_pooled.dtype)  # (N, F, H, W)
        d_windows = d_x.reshape(n, f, h, 2, w, 2)  # view: [..., row pair, row in pair, column pair, column in pair]
        for (r, c), won in zip(self.POSITIONS, self._winners().reshape(4, n, f, h, w)):
            np.multiply(d_pooled, won, out=d_windows[:, :, :, r, :, c])
        return _channels_last(d_x)  # (N, H, W, F)


class Softmax:
    """Fully connected layer from the flattened pooled maps to the 10 class scores.

    forward returns the logits; the softmax itself is applied by core.losses, fused with the
    cross-entropy so that it stays finite for any logits. The pooled map is flattened in
    (row, column, filter) order, as in the tutorial: that is the order of the rows of
    params["weights"]. The product itself runs on the channels-first flattening, (filter, row,
    column), with the weight rows put in that order for it.
    """

    def __init__(self, input_len, num_classes, rng, dtype=np.float32):
        weights = rng.standard_normal((input_len, num_classes)) / input_len
        self.params = {
            "weights": weights.astype(dtype),  # (13*13*F, 10)
            "biases": np.zeros(num_classes, dtype=dtype),  # (10,)
        }
        self.grads = {}
        self._flat = None
        self._weights = None
        self._input_shape = None

    def forward(self, x):
        """x: (N, 13, 13, F) -> logits (N, 10)."""
        n, h, w, f = self._input_shape = x.shape
        self._flat = _channels_first(x).reshape(n, -1)  # (N, F*13*13), (filter, row, col) order
        weights = self.params["weights"].reshape(h * w, f, -1)  # (13*13, F, 10)
        self._weights = np.ascontiguousarray(weights.transpose(1, 0, 2)).reshape(f * h * w, -1)  # (F*13*13, 10)
        return self._flat @ self._weights + self.params["biases"]  # (N, 10)

    def backward(self, d_logits):
        """d_logits: (N, 10) -> gradient w.r.t. x, (N, 13, 13, F)."""
        n, h, w, f = self._input_shape
        d_weights = (self._flat.T @ d_logits).reshape(f, h * w, -1)  # (F, 13*13, 10)
        self.grads["weights"] = d_weights.transpose(1, 0, 2).reshape(h * w * f, -1)  # (13*13*F, 10), a copy
        self.grads["biases"] = d_logits.sum(axis=0)  # (10,)
        d_x = (d_logits @ self._weights.T).reshape(n, f, h, w)  # (N, F, 13, 13)
        return _channels_last(d_x)  # (N, 13, 13, F)

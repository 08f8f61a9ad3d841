"""The three layers of the classic MNIST CNN, vectorised over a leading batch dimension N.

Each layer has ``forward(x)``, which remembers what its backward pass needs, and
``backward(d_out)``, which returns the gradient with respect to the layer's input and
stores the gradients of its parameters in ``self.grads`` (same keys as ``self.params``).
Layers never change their own parameters: an optimizer does that (core.optim).

Shapes follow the tutorial this network comes from: images are (N, 28, 28), feature maps
are channels-last (N, H, W, F). core.reference holds slow per-sample loop versions of the
same maths; tests check that both agree.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


class Conv3x3:
    """`num_filters` 3x3 filters, no bias, "valid" cross-correlation with stride 1."""

    def __init__(self, num_filters, rng, dtype=np.float32):
        # Divide by 9 to keep the initial outputs small, as the tutorial does.
        filters = rng.standard_normal((num_filters, 3, 3)) / 9
        self.params = {"filters": filters.astype(dtype)}  # (F, 3, 3)
        self.grads = {}
        self._windows = None

    def forward(self, x):
        """x: (N, H, W) -> (N, H-2, W-2, F)."""
        # A strided view, no copy: windows[n, i, j] is the 3x3 patch whose top-left is (i, j).
        self._windows = sliding_window_view(x, (3, 3), axis=(1, 2))  # (N, H-2, W-2, 3, 3)
        return np.einsum("nhwij,fij->nhwf", self._windows, self.params["filters"], optimize=True)

    def backward(self, d_out, need_input_grad=True):
        """d_out: (N, H-2, W-2, F) -> gradient w.r.t. x, (N, H, W).

        The first layer of the network has no use for its input gradient, so training passes
        need_input_grad=False and gets None back; gradient checks ask for it.
        """
        # (F, 3, 3): each filter weight sums d_out times the pixel it touched, over every window.
        self.grads["filters"] = np.einsum("nhwij,nhwf->fij", self._windows, d_out, optimize=True)
        if not need_input_grad:
            return None
        n, h, w, _ = d_out.shape
        d_x = np.zeros((n, h + 2, w + 2), dtype=d_out.dtype)  # (N, H, W)
        filters = self.params["filters"]
        for i in range(3):  # 9 shifted adds: each output position spreads back over its window
            for j in range(3):
                d_x[:, i:i + h, j:j + w] += d_out @ filters[:, i, j]
        return d_x


class MaxPool2:
    """Non-overlapping 2x2 max pooling, (N, H, W, F) -> (N, H/2, W/2, F).

    Tie rule: when several positions of a window hold the maximum, the gradient goes to the
    first of them in row-major order (top-left, top-right, bottom-left, bottom-right) and
    to no other. Exactly one position per window receives it.
    """

    # Row-major order of the four window positions, as (row offset, column offset).
    POSITIONS = ((0, 0), (0, 1), (1, 0), (1, 1))

    def __init__(self):
        self.params, self.grads = {}, {}
        self._winner = None
        self._input_shape = None

    @staticmethod
    def _corners(x):
        """The four (N, H/2, W/2, F) views of x, one per window position, in row-major order."""
        n, h, w, f = x.shape
        blocks = x.reshape(n, h // 2, 2, w // 2, 2, f)  # (N, H/2, 2, W/2, 2, F)
        return [blocks[:, :, r, :, c] for r, c in MaxPool2.POSITIONS]

    def forward(self, x):
        """x: (N, H, W, F) with H and W even -> (N, H/2, W/2, F)."""
        self._input_shape = x.shape
        corners = self._corners(x)
        out = np.maximum(np.maximum(corners[0], corners[1]), np.maximum(corners[2], corners[3]))
        # Index (0..3) of the first corner holding the maximum: scan from the last corner to the
        # first so that earlier positions overwrite later ones.
        winner = np.full(out.shape, 3, dtype=np.uint8)  # (N, H/2, W/2, F)
        for k in (2, 1, 0):
            winner[corners[k] == out] = k
        self._winner = winner
        return out

    def backward(self, d_out):
        """d_out: (N, H/2, W/2, F) -> (N, H, W, F), non-zero only at each window's winner."""
        d_x = np.zeros(self._input_shape, dtype=d_out.dtype)
        for k, d_corner in enumerate(self._corners(d_x)):  # views into d_x
            np.copyto(d_corner, d_out, where=self._winner == k)
        return d_x


class Softmax:
    """Fully connected layer from the flattened pooled maps to the 10 class scores.

    forward returns the logits; the softmax itself is applied by core.losses, fused with the
    cross-entropy so that it stays finite for any logits. The pooled map is flattened in
    (row, column, filter) order, as in the tutorial.
    """

    def __init__(self, input_len, num_classes, rng, dtype=np.float32):
        weights = rng.standard_normal((input_len, num_classes)) / input_len
        self.params = {
            "weights": weights.astype(dtype),  # (13*13*F, 10)
            "biases": np.zeros(num_classes, dtype=dtype),  # (10,)
        }
        self.grads = {}
        self._flat = None
        self._input_shape = None

    def forward(self, x):
        """x: (N, 13, 13, F) -> logits (N, 10)."""
        self._input_shape = x.shape
        self._flat = x.reshape(x.shape[0], -1)  # (N, 13*13*F), row-major = (row, col, filter)
        return self._flat @ self.params["weights"] + self.params["biases"]

    def backward(self, d_logits):
        """d_logits: (N, 10) -> gradient w.r.t. x, (N, 13, 13, F)."""
        self.grads["weights"] = self._flat.T @ d_logits  # (13*13*F, 10)
        self.grads["biases"] = d_logits.sum(axis=0)  # (10,)
        return (d_logits @ self.params["weights"].T).reshape(self._input_shape)

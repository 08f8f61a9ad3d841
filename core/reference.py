"""The same network written the slow, obvious way: one image at a time, one pixel at a time.

Nothing here is used to train or predict. It exists to be read, and so that the tests can
check the fast vectorised layers (core.layers) against it. Everything is float64.
"""
import math

import numpy as np


def conv_forward(image, filters):
    """image (H, W), filters (F, 3, 3) -> (H-2, W-2, F)."""
    h, w = image.shape
    out = np.zeros((h - 2, w - 2, len(filters)))
    for i in range(h - 2):
        for j in range(w - 2):
            region = image[i:i + 3, j:j + 3]
            for f, kernel in enumerate(filters):
                out[i, j, f] = np.sum(region * kernel)
    return out


def conv_backward(image, filters, d_out):
    """Gradients of a conv output w.r.t. the filters (F, 3, 3) and the image (H, W)."""
    h, w = image.shape
    d_filters = np.zeros(filters.shape)
    d_image = np.zeros(image.shape)
    for i in range(h - 2):
        for j in range(w - 2):
            for f in range(len(filters)):
                d_filters[f] += d_out[i, j, f] * image[i:i + 3, j:j + 3]
                d_image[i:i + 3, j:j + 3] += d_out[i, j, f] * filters[f]
    return d_filters, d_image


def pool_forward(x):
    """x (H, W, F) -> (H/2, W/2, F), the maximum of each 2x2 window."""
    h, w, num_filters = x.shape
    out = np.zeros((h // 2, w // 2, num_filters))
    for i in range(h // 2):
        for j in range(w // 2):
            for f in range(num_filters):
                out[i, j, f] = x[2 * i:2 * i + 2, 2 * j:2 * j + 2, f].max()
    return out


def pool_backward(x, d_out):
    """The gradient reaches one position per window: the first maximum in row-major order."""
    h, w, num_filters = x.shape
    d_x = np.zeros(x.shape)
    for i in range(h // 2):
        for j in range(w // 2):
            for f in range(num_filters):
                window = x[2 * i:2 * i + 2, 2 * j:2 * j + 2, f]
                r, c = divmod(int(np.argmax(window)), 2)  # argmax returns the first maximum
                d_x[2 * i + r, 2 * j + c, f] = d_out[i, j, f]
    return d_x


def softmax_forward(pooled, weights, biases):
    """pooled (13, 13, F) -> (logits (10,), probabilities (10,))."""
    flat = pooled.flatten()  # (row, column, filter) order
    logits = np.array([sum(flat[k] * weights[k, c] for k in range(len(flat))) + biases[c]
                       for c in range(len(biases))])
    top = max(logits)
    exps = [math.exp(z - top) for z in logits]
    total = sum(exps)
    return logits, np.array([e / total for e in exps])


def sample_loss_and_grads(params, image, label):
    """Cross-entropy of one image (28, 28, 0..255) and the gradients of every parameter."""
    x = image.astype(np.float64) / 255 - 0.5
    filters, weights = params["conv.filters"], params["softmax.weights"]
    conv = conv_forward(x, filters)
    pooled = pool_forward(conv)
    _, probs = softmax_forward(pooled, weights, params["softmax.biases"])
    loss = -math.log(probs[label])

    d_logits = probs.copy()
    d_logits[label] -= 1
    flat = pooled.flatten()
    d_weights = np.outer(flat, d_logits)
    d_pooled = (weights @ d_logits).reshape(pooled.shape)
    d_conv = pool_backward(conv, d_pooled)
    d_filters, _ = conv_backward(x, filters, d_conv)
    grads = {"conv.filters": d_filters, "softmax.weights": d_weights, "softmax.biases": d_logits}
    return loss, grads


def loss_and_grads(params, images, labels):
    """Mean loss and mean gradients over a batch, looping over the images one by one."""
    total_loss = 0.0
    totals = {name: np.zeros(np.shape(value)) for name, value in params.items()}
    for image, label in zip(images, labels):
        loss, grads = sample_loss_and_grads(params, image, int(label))
        total_loss += loss
        for name in totals:
            totals[name] += grads[name]
    n = len(images)
    return total_loss / n, {name: total / n for name, total in totals.items()}

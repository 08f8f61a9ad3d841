"""Why the network says what it says: its arithmetic with the real numbers, and its evidence.

Every figure here comes from the network's own layers (net.conv, net.pool, net.softmax), so it
agrees with the network's own pass over the drawing (net.read: probabilities and feature maps);
the tests also check it against the slow loops of core.reference.

The output layer is linear in the pooled maps, so a class score splits exactly:

    logit[d] = bias[d] + sum over filters f of  sum over cells (r, c) of  W[r, c, f, d] * pooled[r, c, f]

`evidence(net, image, d)` is the (13, 13, F) array of those products, W x pooled value: where
on the drawing (and through which filter) the network found its reasons for digit d.

`image` is always a (28, 28) array on 0..255 as the network reads it (ink high): the first value of
net.read(drawing), already through the network's input stage (deskewed if the model deskews), so
nothing here runs that stage again. `net` is a core.network.CNN; nothing here changes its parameters.
"""
from dataclasses import dataclass

import numpy as np

from core.losses import softmax
from core.mnist_format import CONV_SIDE, IMAGE_SHAPE, NUM_CLASSES, POOLED_SIDE
from core.steps import run_to_end


@dataclass(frozen=True)
class Forward:
    """One image's pass through the network, every intermediate kept."""

    normalised: np.ndarray  # (28, 28) x / 255 - 0.5, in the network's dtype
    conv: np.ndarray  # (26, 26, F)
    pooled: np.ndarray  # (13, 13, F)
    logits: np.ndarray  # (10,)
    probabilities: np.ndarray  # (10,)


def forward(net, image) -> Forward:
    """Run one (28, 28) image, as the network reads it, through the network's own layers, keeping every stage."""
    x = net._normalise(image, seen=True)  # (1, 28, 28)
    conv = net.conv.forward(x)  # (1, 26, 26, F)
    pooled = net.pool.forward(conv)  # (1, 13, 13, F)
    logits = net.softmax.forward(pooled)  # (1, 10)
    return Forward(x[0], conv[0], pooled[0], logits[0], softmax(logits)[0])


def output_weights(net) -> np.ndarray:
    """The output layer's weights as (13, 13, F, 10): W[r, c, f, d] multiplies pooled[r, c, f]."""
    f = net.num_filters
    return net.params["softmax.weights"].reshape(POOLED_SIDE, POOLED_SIDE, f, NUM_CLASSES)


# ----- click a number, see its arithmetic -----------------------------------------------------

def conv_arithmetic(net, image, f, row, col) -> dict:
    """How feature map f got its value at (row, col), 0-based in 0..25.

    "patch" (3, 3): the normalised input under the window; "filter" (3, 3); "products" (3, 3)
    = patch x filter; "sum": their sum; "value": the network's own output there (equal to
    the feature maps net.read gave for the drawing; "sum" differs from it only by rounding).
    """
    _check_index(f, net.num_filters, "filter")
    _check_index(row, CONV_SIDE, "row")
    _check_index(col, CONV_SIDE, "column")
    result = forward(net, image)
    patch = result.normalised[row:row + 3, col:col + 3]  # (3, 3)
    kernel = net.params["conv.filters"][f]  # (3, 3)
    products = patch.astype(np.float64) * kernel.astype(np.float64)  # (3, 3)
    return {"patch": patch.copy(), "filter": kernel.copy(), "products": products,
            "sum": float(products.sum()), "value": float(result.conv[row, col, f])}


def pool_arithmetic(net, image, f, row, col) -> dict:
    """How pooled map f got its value at (row, col), 0-based in 0..12.

    "window" (2, 2): the feature-map values it pools, whose top-left is "origin" (2*row, 2*col);
    "winner" (r, c) in the window: the position whose value is kept and the only one the
    gradient flows back to (read from the pooling layer's own backward pass); "value".
    """
    _check_index(f, net.num_filters, "filter")
    _check_index(row, POOLED_SIDE, "row")
    _check_index(col, POOLED_SIDE, "column")
    result = forward(net, image)
    top, left = 2 * row, 2 * col
    window = result.conv[top:top + 2, left:left + 2, f]  # (2, 2)
    # Send a gradient of 1 back from this one pooled cell: it lands on the winner only.
    d_pooled = np.zeros((1,) + result.pooled.shape, dtype=result.pooled.dtype)  # (1, 13, 13, F)
    d_pooled[0, row, col, f] = 1
    d_conv = net.pool.backward(d_pooled)[0, top:top + 2, left:left + 2, f]  # (2, 2)
    winner = tuple(int(i) for i in np.argwhere(d_conv != 0)[0])
    return {"window": window.copy(), "origin": (top, left), "winner": winner,
            "gradient": d_conv.copy(), "value": float(result.pooled[row, col, f])}


def score_breakdown(net, image) -> dict:
    """Each class score as its bias plus one sum per filter, then the softmax.

    "contributions" (10, F): sum over the 13x13 cells of weight x pooled value, per digit and
    filter; "biases" (10,); "logits" (10,) the network's own scores, equal to contributions
    summed over F plus biases; "probabilities" (10,) the softmax of the logits.
    """
    result = forward(net, image)
    pooled = result.pooled.astype(np.float64)  # (13, 13, F)
    weights = output_weights(net).astype(np.float64)  # (13, 13, F, 10)
    contributions = np.einsum("rcf,rcfd->df", pooled, weights)  # (10, F)
    return {"contributions": contributions,
            "biases": net.params["softmax.biases"].astype(np.float64),
            "logits": result.logits.astype(np.float64),
            "probabilities": result.probabilities.astype(np.float64)}


def softmax_arithmetic(logits) -> dict:
    """The softmax with its numbers: "shifted" = logits - max, "exps", "total", "probabilities"."""
    logits = np.asarray(logits, dtype=np.float64)  # (10,)
    shifted = logits - logits.max()
    exps = np.exp(shifted)
    return {"shifted": shifted, "exps": exps, "total": float(exps.sum()),
            "probabilities": exps / exps.sum()}


# ----- evidence ---------------------------------------------------------------------------------

def evidence(net, image, digit) -> np.ndarray:
    """(13, 13, F): weight x pooled value for `digit`; it sums to contributions[digit]."""
    _check_index(digit, NUM_CLASSES, "digit")
    pooled = forward(net, image).pooled.astype(np.float64)  # (13, 13, F)
    return pooled * output_weights(net)[..., digit].astype(np.float64)


def evidence_difference(net, image, a, b) -> np.ndarray:
    """(13, 13, F): why `a` rather than `b`; sums to logit[a] - logit[b] - (bias[a] - bias[b])."""
    _check_index(a, NUM_CLASSES, "digit")
    _check_index(b, NUM_CLASSES, "digit")
    pooled = forward(net, image).pooled.astype(np.float64)  # (13, 13, F)
    weights = output_weights(net).astype(np.float64)
    return pooled * (weights[..., a] - weights[..., b])


def runner_up(probabilities) -> int:
    """The second most probable digit (the first one in digit order on a tie)."""
    order = np.argsort(-np.asarray(probabilities), kind="stable")
    return int(order[1])


def on_input(cells) -> np.ndarray:
    """A (13, 13) map laid over the (28, 28) input: cell (i, j) covers pixels 2i+1..2i+2.

    Pooled cell (i, j) takes the best of feature-map pixels 2i..2i+1, whose 3x3 windows are
    centred on input pixels 2i+1..2i+2; the outermost ring of the input gets 0.
    """
    cells = np.asarray(cells)
    grid = np.zeros(IMAGE_SHAPE, dtype=np.float64)  # (28, 28)
    grid[1:-1, 1:-1] = np.repeat(np.repeat(cells, 2, axis=0), 2, axis=1)  # (26, 26)
    return grid


def digit_pictures(net) -> np.ndarray:
    """The output weights as pictures: (10, F, 13, 13), what each digit looks for through each filter."""
    return np.transpose(output_weights(net), (3, 2, 0, 1)).copy()


# ----- fool it ----------------------------------------------------------------------------------

FOOL_PIXELS_PER_STEP = 4  # pixels changed per gradient step (doubled every FOOL_GROW_EVERY steps)
FOOL_STEP = 64.0  # how far each chosen pixel moves, in 0..255 units
FOOL_GROW_EVERY = 40
FOOL_MAX_STEPS = 300


def fool(net, image, target, max_steps=FOOL_MAX_STEPS) -> np.ndarray:
    """A (28, 28) image in 0..255, close to `image`, that the network reads as `target` (both as the
    network reads them: check the result with net.predict(result, seen=True)).

    Gradient steps on the input towards `target`: each step takes the gradient of the
    cross-entropy for `target` w.r.t. the pixels (the network's own backward pass) and moves only
    the few pixels with the steepest slope that still have room to move that way, by
    FOOL_STEP each, clipped to 0..255. When the network reads `target`, changes are undone again,
    smallest first, as long as it still does, so few pixels stay changed. If `max_steps` are not
    enough, the last attempt is returned.
    """
    return run_to_end(fool_steps(net, image, target, max_steps))


def fool_steps(net, image, target, max_steps=FOOL_MAX_STEPS):
    """fool() as a generator: None after each gradient step, the image last (for a GUI to run in slices)."""
    _check_index(target, NUM_CLASSES, "digit")
    original = np.asarray(image, dtype=np.float64)  # (28, 28)
    if original.shape != IMAGE_SHAPE:
        raise ValueError(f"expected a (28, 28) image, got {original.shape}")
    current = np.clip(original, 0, 255)
    for step in range(max_steps):
        _, _, probs, d_input = net.forward_backward(current[None], [target], need_input_grad=True, seen=True)
        if int(np.argmax(probs[0])) == target:
            yield _undo_needless_changes(net, original, current, target)
            return
        slope = d_input[0].astype(np.float64)  # (28, 28) d loss / d normalised pixel (same sign as raw)
        room = np.where(slope < 0, 255 - current, current)  # how far each pixel can go downhill
        steepness = np.where(room > 0, np.abs(slope), 0.0).ravel()
        count = FOOL_PIXELS_PER_STEP * 2 ** (step // FOOL_GROW_EVERY)
        chosen = np.argsort(steepness, kind="stable")[-count:]
        chosen = chosen[steepness[chosen] > 0]
        if chosen.size == 0:
            break
        rows, cols = np.unravel_index(chosen, current.shape)
        current[rows, cols] = np.clip(current[rows, cols] - np.sign(slope[rows, cols]) * FOOL_STEP, 0, 255)
        yield None
    yield current


def _undo_needless_changes(net, original, fooled, target) -> np.ndarray:
    """Undo the smallest changes first, as many as keep the network reading `target`."""
    delta = (fooled - original).ravel()  # (784,)
    changed = np.flatnonzero(delta)
    order = changed[np.argsort(np.abs(delta[changed]), kind="stable")]  # smallest change first
    candidates = np.repeat(fooled.ravel()[None], len(order) + 1, axis=0)  # (K+1, 784)
    for undone in range(1, len(order) + 1):  # candidate k: the k smallest changes undone
        candidates[undone, order[:undone]] = original.ravel()[order[:undone]]
    reads_target = net.predict(candidates.reshape(-1, *IMAGE_SHAPE), seen=True) == target
    return candidates[np.flatnonzero(reads_target).max()].reshape(IMAGE_SHAPE)


def _check_index(value, limit, what) -> None:
    if not 0 <= int(value) < limit:
        raise IndexError(f"{what} {value} is outside 0..{limit - 1}")

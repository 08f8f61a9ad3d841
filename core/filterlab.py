"""The filter lab's maths: hand-made filters, accuracy in small steps, retraining the output layer.

Long jobs are generators that do a small slice of work per step and yield their progress, so a
GUI can run them a slice at a time between events (and drop them when they are out of date)
without a thread. Each works on the network it is given: pass a copy if the original may change.
"""
import numpy as np

from core.losses import cross_entropy
from core.mnist_format import POOLED_SIDE
from core.optim import SGD
from core.steps import run_to_end

# Hand-made 3x3 filters, largest |weight| 1; the lab scales them to the filter they replace.
PRESETS = {
    "horizontal edge": np.array([[-1, -1, -1], [0, 0, 0], [1, 1, 1]], dtype=np.float64),
    "vertical edge": np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], dtype=np.float64),
    "diagonal": np.array([[0, 1, 1], [-1, 0, 1], [-1, -1, 0]], dtype=np.float64),
    "blur": np.full((3, 3), 1.0),
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float64),
}

CHUNK = 100  # images per step of a long job (about 5 ms on an idle core)
OUTPUT_TRAINING = {"epochs": 4, "batch_size": 64, "learning_rate": 0.01, "momentum": 0.9}


def preset(name: str, strength: float = 1.0) -> np.ndarray:
    """The preset filter (3, 3) scaled so its largest |weight| is `strength`."""
    return PRESETS[name] * float(strength)


def strength_of(kernel) -> float:
    """The largest |weight| of a filter, or 1 for a filter that is all zeros."""
    largest = float(np.max(np.abs(kernel)))
    return largest if largest > 0 else 1.0


def with_filters(net, filters):
    """A copy of `net` with its conv filters (F, 3, 3) replaced."""
    twin = net.copy()
    twin.params["conv.filters"][...] = filters
    return twin


def accuracy_steps(net, images, labels, chunk=CHUNK):
    """Yields (correct so far, images scored so far), one chunk at a time; the last is the total."""
    correct = 0
    for start in range(0, len(images), chunk):
        predicted = net.predict(images[start:start + chunk])
        correct += int(np.sum(predicted == labels[start:start + chunk]))
        yield correct, min(start + chunk, len(images))


def accuracy(net, images, labels) -> float:
    """The share of images the network reads correctly (all steps of accuracy_steps at once)."""
    correct, seen = run_to_end(accuracy_steps(net, images, labels), default=(0, 0))
    return correct / seen if seen else float("nan")


def pooled_features(net, images, seen=False) -> np.ndarray:
    """images (N, 28, 28) 0..255 -> the pooled maps flattened as the output layer reads them, (N, 13*13*F).

    seen: the images are already as the network reads them (net.read's first value), so its input
    stage is not run on them again; by default they are digits as drawn (MNIST's, the user's samples).
    """
    pooled = net.pool.forward(net.conv.forward(net._normalise(images, seen)))  # (N, 13, 13, F)
    return pooled.reshape(len(pooled), -1)


def pooled_feature_steps(net, images, chunk=CHUNK):
    """Yields None per chunk of `images` done; the last yield is all their pooled features (N, D)."""
    width = net.softmax.params["weights"].shape[0]  # 13*13*F
    features = np.empty((len(images), width), dtype=net.dtype)  # filled in place: no big concatenation
    for start in range(0, len(images), chunk):
        features[start:start + chunk] = pooled_features(net, images[start:start + chunk])
        yield None
    yield features


def train_output_layer_steps(net, images, labels, seed=0, **settings):
    """Retrain only the output layer of `net` in place (filters frozen); a generator.

    With the filters fixed, the pooled maps of every image are fixed too, so they are computed
    once; then SGD runs on the output layer alone. Yields (stage, fraction done, last loss):
    stage "features" while the pooled maps are computed, then "training"; the final yield has
    fraction 1.0. `settings` override OUTPUT_TRAINING.
    """
    config = {**OUTPUT_TRAINING, **settings}
    features = None
    for done, result in enumerate(pooled_feature_steps(net, images), start=1):
        features = result
        yield "features", min(1.0, done * CHUNK / max(len(images), 1)), float("nan")
    labels = np.asarray(labels, dtype=np.intp)
    layer = net.softmax
    optimizer = SGD(layer.params, lr=config["learning_rate"], momentum=config["momentum"])
    rng = np.random.default_rng(seed)
    batch = config["batch_size"]
    steps_per_epoch = -(-len(features) // batch)
    total = config["epochs"] * steps_per_epoch
    loss = float("nan")
    for epoch in range(config["epochs"]):
        order = rng.permutation(len(features))
        for step in range(steps_per_epoch):
            chosen = order[step * batch:(step + 1) * batch]
            x = features[chosen].reshape(len(chosen), POOLED_SIDE, POOLED_SIDE, -1)  # (B, 13, 13, F)
            loss, d_logits, _ = cross_entropy(layer.forward(x), labels[chosen])
            layer.backward(d_logits)
            optimizer.step(layer.grads)
            done = epoch * steps_per_epoch + step + 1
            if done % 10 == 0 or done == total:
                yield "training", done / total, loss


def train_output_layer(net, images, labels, seed=0, **settings) -> float:
    """All of train_output_layer_steps at once; returns the last batch loss."""
    _, _, loss = run_to_end(train_output_layer_steps(net, images, labels, seed, **settings),
                            default=(None, None, float("nan")))
    return loss

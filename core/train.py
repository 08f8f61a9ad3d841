"""Training: one loop, written as a generator, driven by the CLI (core.cli) and by the GUI.

    for progress in train(model, TrainConfig(), train_set, test_set):
        ...  # show it; stop pulling to pause; make should_stop() true to stop

The loop yields a Progress after every batch and another at the end of every epoch (with
the test-set figures). It checks should_stop() before each batch, so stopping leaves the
model exactly as the last finished step made it. Which images it trains and tests on is
decided before (core.dataset_choice); TrainConfig holds the optimisation settings only.
The order and distortions of each step's images come from core.batches; augmented runs have
them made ahead of the steps by a worker process (core.prefetch): the same batches either way.
"""
import contextlib
import math
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from core import prefetch as batch_worker
from core.batches import batches
from core.checks import first_failed
from core.errors import TrainingDiverged
from core.losses import log_softmax
from core.mnist_format import NUM_CLASSES
from core.optim import SGD

RUNNING_WINDOW = 100  # batches averaged into Progress.loss and .accuracy (the tutorial's 100 steps)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings. The defaults are the recipe for the full 60,000 MNIST images."""

    epochs: int = 48  # 12 read drawn digits 0.7 points worse; the faster engine pays for the rest (README)
    batch_size: int = 64
    learning_rate: float = 0.02
    lr_schedule: str = "cosine"  # "cosine": decays to 0 over the run; "constant"
    momentum: float = 0.9
    augment: bool = True  # random shifts, scaling, rotation, slant and stroke width, on the fly
    seed: int = 0

    def validate(self):
        """Raise ValueError naming the first setting that cannot work."""
        checks = (
            (self.epochs >= 1, "epochs must be at least 1"),
            (self.batch_size >= 1, "batch size must be at least 1"),
            (math.isfinite(self.learning_rate) and self.learning_rate > 0, "learning rate must be positive"),
            (self.lr_schedule in ("cosine", "constant"), "learning-rate schedule must be 'cosine' or 'constant'"),
            (0 <= self.momentum < 1, "momentum must be at least 0 and below 1"),
        )
        first_failed(checks)


# The tutorial's run: 3 epochs, one image per step, plain SGD at 0.005 (on the first 1,000
# images: core.dataset_choice.TUTORIAL_IMAGES).
TUTORIAL = TrainConfig(epochs=3, batch_size=1, learning_rate=0.005, lr_schedule="constant",
                       momentum=0.0, augment=False)


@dataclass(frozen=True)
class Progress:
    kind: str  # "batch" after each step, "epoch" after each epoch's test
    epoch: int  # 1-based
    epochs: int
    step: int  # 1-based, within the epoch
    steps_per_epoch: int
    images_seen: int  # in this run, over all epochs
    total_images: int  # images_seen when the run is over
    loss: float  # mean over the last RUNNING_WINDOW batches
    accuracy: float  # likewise, 0..1
    learning_rate: float
    images_per_s: float  # training speed of this run, not counting pauses or tests
    eta_s: float  # estimated seconds of training left
    test_loss: float | None = None  # on "epoch" progress, when there is a test set
    test_accuracy: float | None = None
    # On "epoch" progress with a test set: the model's answers on it, (N, 10), so that a caller
    # wanting them (the GUI's results) need not score the test set again.
    test_probabilities: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def fraction(self):
        return self.images_seen / self.total_images if self.total_images else 1.0


def evaluate(model, images, labels, batch_size=1000):
    """Mean cross-entropy and accuracy of `model` on a labelled set."""
    loss, accuracy, _ = score(model, images, labels, batch_size)
    return loss, accuracy


def score(model, images, labels, batch_size=1000):
    """(mean cross-entropy, accuracy, probabilities (N, 10)) of `model` on a labelled set."""
    total_loss, correct = 0.0, 0
    chunks = []
    with threadpool_limits(limits=1, user_api="blas"):
        for start in range(0, len(images), batch_size):
            logits = model.logits(images[start:start + batch_size])  # (B, 10)
            batch_labels = np.asarray(labels[start:start + batch_size], dtype=np.intp)
            log_probs = log_softmax(logits)  # (B, 10)
            total_loss -= float(log_probs[np.arange(len(batch_labels)), batch_labels].sum())
            correct += int((logits.argmax(axis=1) == batch_labels).sum())
            chunks.append(np.exp(log_probs))
    n = max(len(images), 1)
    probabilities = np.concatenate(chunks) if chunks else np.zeros((0, NUM_CLASSES))  # (N, 10)
    return total_loss / n, correct / n, probabilities


def learning_rate_at(config, step, total_steps):
    """The learning rate for global step `step` (0-based) of `total_steps`."""
    if config.lr_schedule == "constant":
        return config.learning_rate
    return config.learning_rate * 0.5 * (1 + math.cos(math.pi * step / total_steps))


def _checked(dataset):
    images, labels = dataset
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    return images, labels


def train(model, config, train_set, test_set=None, should_stop=lambda: False, *,
          learning_rate=None, gradients=None, prefetch=None):
    """Train `model` in place on all of train_set; yield a Progress after each batch and each epoch.

    learning_rate(global_step, total_steps) -> float, when given, replaces the config's schedule
    (asked before every step, so a rate changed while training applies from the next step).
    gradients, when a dict, holds after every step that step's gradients (keys of model.params;
    the arrays are the layers' own, valid until the next step).
    prefetch: make the augmented batches ahead of the steps in a second process (core.prefetch);
    None: whenever the run augments and core.prefetch can (the batches are the same either way).
    """
    config.validate()
    images, labels = _checked(train_set)
    if test_set is not None:
        test_set = _checked(test_set)
    with threadpool_limits(limits=1, user_api="blas"), np.errstate(over="ignore", invalid="ignore"):
        with contextlib.closing(_batch_source(images, config, prefetch)) as source:
            yield from _train_loop(model, config, source, labels, test_set, should_stop,
                                   learning_rate or (lambda step, total: learning_rate_at(config, step, total)),
                                   gradients)


def _batch_source(images, config, prefetch):
    """The run's (indices, x) per step (core.batches), made in line or by a worker process."""
    if prefetch is None:
        prefetch = config.augment and batch_worker.available()
    source = batches(images, config)
    return batch_worker.prefetched(source, config.batch_size) if prefetch else source


def _train_loop(model, config, source, labels, test_set, should_stop, learning_rate, gradients):
    n = len(labels)
    steps_per_epoch = math.ceil(n / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    optimizer = SGD(model.params, config.learning_rate, config.momentum)
    recent = deque(maxlen=RUNNING_WINDOW)  # (loss * batch, correct, batch) of recent steps
    last_good = model.get_params()
    seen, busy = 0, 0.0
    for epoch in range(1, config.epochs + 1):
        for step in range(1, steps_per_epoch + 1):
            if should_stop():
                return
            started = time.perf_counter()  # the step's time includes waiting for its batch
            batch, x = next(source)  # (B,) indices, (B, 28, 28) images
            y = labels[batch]
            global_step = (epoch - 1) * steps_per_epoch + step - 1
            optimizer.lr = learning_rate(global_step, total_steps)
            loss, correct = _step(model, optimizer, x, y, epoch, step, last_good, gradients)
            busy += time.perf_counter() - started
            seen += len(batch)
            recent.append((loss * len(batch), correct, len(batch)))
            yield _progress("batch", config, epoch, step, steps_per_epoch, seen, n, recent, optimizer.lr, busy)
        if test_set is not None:
            yield _progress("epoch", config, epoch, steps_per_epoch, steps_per_epoch, seen, n, recent,
                            optimizer.lr, busy, *score(model, *test_set))


def _step(model, optimizer, x, y, epoch, step, last_good, gradients=None):
    """One gradient step. On a NaN or infinite loss (or weights), go back to `last_good`.

    `last_good` holds the weights at which the most recent loss was finite: the weights this
    step starts from once their loss checks out. Weights whose own loss overflowed are never kept.
    """
    loss, grads, probs = model.forward_backward(x, y)
    if not math.isfinite(loss):
        _restore(model, optimizer, last_good)
        raise _diverged(loss, optimizer.lr, epoch, step)
    for name, value in model.params.items():  # 14 k numbers: cheap insurance
        last_good[name][...] = value
    optimizer.step(grads)
    if gradients is not None:
        gradients.update(grads)
    if not all(np.isfinite(p).all() for p in model.params.values()):
        _restore(model, optimizer, last_good)
        raise _diverged(float("inf"), optimizer.lr, epoch, step)
    correct = int((probs.argmax(axis=1) == y).sum())
    return loss, correct


def _restore(model, optimizer, params):
    model.set_params(params)
    optimizer.reset()


def _diverged(loss, lr, epoch, step):
    return TrainingDiverged(
        f"Training diverged in epoch {epoch}, step {step}: the loss became {loss}. "
        f"The last good weights were restored. Try a smaller learning rate than {lr:g}."
    )


def _progress(kind, config, epoch, step, steps_per_epoch, seen, n, recent, lr, busy,
              test_loss=None, test_accuracy=None, test_probabilities=None):
    total = n * config.epochs
    weighted_loss = sum(r[0] for r in recent)
    correct = sum(r[1] for r in recent)
    count = sum(r[2] for r in recent) or 1
    speed = seen / busy if busy > 0 else 0.0
    return Progress(
        kind=kind, epoch=epoch, epochs=config.epochs, step=step, steps_per_epoch=steps_per_epoch,
        images_seen=seen, total_images=total, loss=weighted_loss / count, accuracy=correct / count,
        learning_rate=lr, images_per_s=speed, eta_s=(total - seen) / speed if speed else float("inf"),
        test_loss=test_loss, test_accuracy=test_accuracy, test_probabilities=test_probabilities,
    )



if __name__ == "__main__":  # the command line is core.cli's; this module never imports it (no import circle)
    raise SystemExit("digitpad-train: run it as `digitpad-train` or `python -m core.cli`.")

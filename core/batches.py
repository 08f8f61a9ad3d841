"""The run's batches: which images each training step sees, and how they are distorted.

    for batch, x in batches(images, config):   # every step of the run, in order
        ...                                    # batch (B,) indices, x (B, 28, 28) the step's input

This is the only place a run draws random numbers: one generator, seeded by config.seed, draws
each epoch's order and then every batch's distortions, one batch after another. So the same
config gives the same batches whether they are made here, in the training loop, or ahead of it
in another process (core.prefetch).
"""
import numpy as np

from core.augment import augment as distort  # imported here, not in a forked worker


def batches(images, config):
    """Yield (indices (B,), x (B, 28, 28)) for each of the run's config.epochs * ceil(N / B) steps."""
    rng = np.random.default_rng(config.seed)
    augment = distort if config.augment else (lambda x, rng: x)
    n = len(images)
    for _ in range(config.epochs):
        order = rng.permutation(n)  # (N,) a fresh order every epoch
        for start in range(0, n, config.batch_size):
            batch = order[start:start + config.batch_size]  # (B,), the last one may be shorter
            yield batch, augment(images[batch], rng)


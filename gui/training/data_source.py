"""The images a training run uses: the chosen MNIST set, cut to size, plus the user's own digits.

`TrainingData` describes them in a few bytes (plus the user's small personal set), so the
training process (gui.training.process) can be sent the description and load the 47 MB itself.
"""
from dataclasses import dataclass

import numpy as np

from core import data

PERSONAL_SHARE = 0.05     # the user's samples are repeated to make up about this share of the images
MAX_REPEATS = 20          # ...but no sample is shown more than this many times per epoch

Dataset = tuple[np.ndarray, np.ndarray]   # images (N, 28, 28) uint8, labels (N,) uint8


@dataclass(frozen=True)
class TrainingData:
    """A picklable recipe for a run's images; calling it loads them (see load_training_data)."""
    source: str                         # "sample" | "mnist"
    train_size: int | None = None       # first N training images; None: all
    personal: Dataset | None = None     # the user's own samples, mixed in
    data_dir: str | None = None         # where full MNIST is; None: core.data's usual places

    def __call__(self):
        return load_training_data(self.source, self.train_size, self.personal, self.data_dir)


def load_training_data(source: str, train_size: int | None, personal: Dataset | None = None, data_dir=None):
    """(train_set, test_set) for `source` "sample" or "mnist"; raises core.errors.DataError."""
    train_set, test_set, _ = data.load_dataset(source, data_dir, allow_download=False)
    images, labels = train_set
    if train_size is not None:
        images, labels = images[:train_size], labels[:train_size]
    if personal is not None and len(personal[1]):
        images, labels = mix_in(images, labels, *personal)
    return (images, labels), test_set


def mix_in(images: np.ndarray, labels: np.ndarray, extra_images: np.ndarray, extra_labels: np.ndarray):
    """Append the extra samples, repeated so they are about PERSONAL_SHARE of the result."""
    repeats = int(np.clip(round(PERSONAL_SHARE * len(labels) / len(extra_labels)), 1, MAX_REPEATS))
    extra_images = np.repeat(np.asarray(extra_images, np.uint8), repeats, axis=0)   # (R*M, 28, 28)
    extra_labels = np.repeat(np.asarray(extra_labels, np.uint8), repeats)           # (R*M,)
    return np.concatenate([images, extra_images]), np.concatenate([labels, extra_labels])

"""The images a training run uses: the chosen MNIST set, cut to size, plus the user's own digits.

`load_training_data` runs in the training thread (reading and decompressing takes a moment).
"""
import numpy as np

from core import data

PERSONAL_SHARE = 0.05     # the user's samples are repeated to make up about this share of the images
MAX_REPEATS = 20          # ...but no sample is shown more than this many times per epoch

Dataset = tuple[np.ndarray, np.ndarray]   # images (N, 28, 28) uint8, labels (N,) uint8


def load_training_data(source: str, train_size: int | None, personal: Dataset | None = None):
    """(train_set, test_set) for `source` "sample" or "mnist"; raises core.errors.DataError."""
    if source == "mnist":
        train_set = data.load_mnist("train", allow_download=False)
        test_set = data.load_mnist("test", allow_download=False)
    else:
        train_set, test_set = data.load_sample("train"), data.load_sample("test")
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

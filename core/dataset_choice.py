"""Which images a training run trains and tests on: the one place that decides, for the CLI and the GUI.

A DatasetChoice names the source (full MNIST, the bundled sample, or "auto": MNIST, else the
sample), how many of the first training and test images to use, and the user's own samples to
mix into the training images. It is small and picklable, so the GUI sends it to its training
process, which loads the 47 MB there. core.train.TrainConfig holds the optimisation settings only.

    choice = DatasetChoice("sample", train_size=1000)
    run_data = choice.load()        # RunData(train_set, test_set, description)
"""
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from core.checks import first_failed
from core.data import SOURCES, load_dataset

Dataset = tuple[np.ndarray, np.ndarray]   # images (N, 28, 28) uint8, labels (N,) uint8

PERSONAL_SHARE = 0.05     # the user's samples are repeated to make up about this share of the images
MAX_REPEATS = 20          # ...but no sample is shown more than this many times per epoch
TUTORIAL_IMAGES = 1000    # the tutorial trains on the first 1,000 training images, tests on the first 1,000


class RunData(NamedTuple):
    train_set: Dataset
    test_set: Dataset
    description: str      # where the images come from and how many the files hold, for the user


@dataclass(frozen=True)
class DatasetChoice:
    source: str = "auto"                # "auto" | "mnist" | "sample" (see core.data.load_dataset)
    train_size: int | None = None       # the first N training images; None: all
    test_size: int | None = None        # the first N test images; None: all
    personal: Dataset | None = None     # the user's own samples, mixed into the training images
    data_dir: str | Path | None = None  # where full MNIST is; None: core.data's usual places

    def validate(self) -> None:
        """Raise ValueError naming the first choice that cannot work."""
        checks = (
            (self.source in SOURCES, f"the data source must be one of {', '.join(SOURCES)}"),
            (self.train_size is None or self.train_size >= 1, "training-set size must be at least 1"),
            (self.test_size is None or self.test_size >= 1, "test-set size must be at least 1"),
        )
        first_failed(checks)

    def load(self, *, allow_download=False, log=None, progress=None, should_cancel=None) -> RunData:
        """Read the chosen images. The keywords go to core.data.load_dataset (which raises DataError,
        DownloadError, DownloadCancelled); full MNIST is downloaded only with allow_download."""
        self.validate()
        train_set, test_set, description = load_dataset(
            self.source, self.data_dir, allow_download=allow_download, log=log, progress=progress,
            should_cancel=should_cancel)
        train_set, test_set = first(train_set, self.train_size), first(test_set, self.test_size)
        if self.personal is not None and len(self.personal[1]):
            train_set = mix_in(train_set, self.personal)
        return RunData(train_set, test_set, description)


def first(dataset: Dataset, size: int | None) -> Dataset:
    """The first `size` images and labels (all when None)."""
    images, labels = dataset
    return (images, labels) if size is None else (images[:size], labels[:size])


def mix_in(dataset: Dataset, extra: Dataset) -> Dataset:
    """Append the extra samples, repeated so they are about PERSONAL_SHARE of the result."""
    (images, labels), (extra_images, extra_labels) = dataset, extra
    repeats = int(np.clip(round(PERSONAL_SHARE * len(labels) / len(extra_labels)), 1, MAX_REPEATS))
    extra_images = np.repeat(np.asarray(extra_images, np.uint8), repeats, axis=0)   # (R*M, 28, 28)
    extra_labels = np.repeat(np.asarray(extra_labels, np.uint8), repeats)           # (R*M,)
    return np.concatenate([images, extra_images]), np.concatenate([labels, extra_labels])

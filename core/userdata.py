"""The user's own handwriting samples, kept in one .npz file in their data folder.

Every change is written to disk at once and atomically: the new file is written next to
the old one and swapped in with os.replace, so a failed write (read-only folder, full
disk) leaves the previous file as it was. Each change is all-or-nothing: when saving
fails, the in-memory samples stay as they were before the call and DataError is raised.

An unreadable samples file is never deleted or overwritten:
- by default, opening it raises DataError and leaves the file alone;
- with start_empty_if_corrupt=True the collection starts empty, the problem is kept in
  .load_error, and the first save renames the bad file aside to
  "<name>.corrupt-<YYYYmmdd-HHMMSS>" (see .set_aside_path) before writing a new one.
"""
import os
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np

from core import atomic, paths
from core.errors import DataError
from core.mnist_format import IMAGE_SHAPE, NUM_CLASSES

FILE_NAME = "handwriting.npz"
ZIP_MAGIC = b"PK\x03\x04"  # every file np.savez writes starts with a zip entry header


class PersonalDataset:
    """Labelled 28x28 digits drawn by the user, persisted in <folder>/handwriting.npz."""

    def __init__(self, folder=None, *, start_empty_if_corrupt=False):
        self.folder = Path(folder) if folder is not None else paths.user_data_dir()
        self.path = self.folder / FILE_NAME
        self.load_error = None  # DataError when the file on disk could not be read
        self.set_aside_path = None  # where an unreadable file was moved on the first save
        self._images = _frozen(np.zeros((0, *IMAGE_SHAPE), np.uint8))  # (N, 28, 28)
        self._labels = _frozen(np.zeros(0, np.uint8))  # (N,)
        if not self.path.exists():
            return
        try:
            images, labels = read_samples(self.path)
        except DataError as error:
            if not start_empty_if_corrupt:
                raise
            self.load_error = error
            return
        self._images, self._labels = _frozen(images), _frozen(labels)

    def __len__(self):
        return len(self._labels)

    @property
    def images(self):
        """Read-only uint8 array (N, 28, 28), ink high (0..255) like MNIST."""
        return self._images

    @property
    def labels(self):
        """Read-only uint8 array (N,) of digits 0..9."""
        return self._labels

    def counts(self):
        """How many samples of each digit: int array (10,)."""
        return np.bincount(self._labels, minlength=NUM_CLASSES)

    def add(self, image28, label):
        """Store one (28, 28) image with values 0..255 under digit `label`, and save."""
        image = _as_sample_image(image28)  # (28, 28) uint8
        label = _as_label(label)
        images = np.concatenate([self._images, image[None]])  # (N+1, 28, 28)
        labels = np.append(self._labels, np.uint8(label))  # (N+1,)
        self._commit(images, labels)

    def remove(self, index):
        """Delete the sample at position `index` (negative counts from the end), and save."""
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"no sample at index {index}; there are {n}")
        keep = np.ones(n, bool)
        keep[index] = False
        self._commit(self._images[keep], self._labels[keep])

    def clear(self):
        """Delete every sample, and save the empty collection."""
        self._commit(self._images[:0], self._labels[:0])

    def score(self, model):
        """(correct, total): how many samples model.predict(images) gets right."""
        if len(self) == 0:
            return 0, 0
        predicted = np.asarray(model.predict(self._images))  # (N,)
        return int(np.count_nonzero(predicted == self._labels)), len(self)

    def _commit(self, images, labels):
        """Write the new arrays; only once that succeeded do they replace the current ones."""
        if self.load_error is not None and self.set_aside_path is None:
            self.set_aside_path = _set_aside(self.path)
        write_samples(self.path, images, labels)
        self._images, self._labels = _frozen(images), _frozen(labels)
        self.load_error = None


def read_samples(path):
    """Load and check a samples file -> (images uint8 (N, 28, 28), labels uint8 (N,)).

    Raises DataError naming the file and what is wrong with it.
    """
    path = Path(path)
    try:
        with open(path, "rb") as stream:
            start = stream.read(len(ZIP_MAGIC))
        if start != ZIP_MAGIC:
            kind = "it is empty" if not start else "it is not a .npz archive"
            raise ValueError(kind + " (it may have been damaged or replaced by another file)")
        with np.load(path, allow_pickle=False) as archive:  # an NpzFile: the magic was checked
            missing = {"images", "labels"} - set(archive.files)
            if missing:
                raise ValueError(f"it has no {' or '.join(sorted(missing))} array")
            images, labels = archive["images"], archive["labels"]
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as error:
        raise DataError(
            f"Your handwriting samples file {path} could not be read: {error}. "
            "The file was left as it is."
        ) from error
    problem = _samples_problem(images, labels)
    if problem:
        raise DataError(
            f"Your handwriting samples file {path} is not a valid samples file: {problem}. "
            "The file was left as it is."
        )
    return images, labels


def write_samples(path, images, labels):
    """Atomically write images (N, 28, 28) uint8 and labels (N,) uint8 to `path`.

    The data goes to a temporary file in the same folder that then replaces `path`;
    if anything fails the temporary file is removed, `path` is untouched and DataError
    is raised.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.save_npz(path, {"images": images, "labels": labels})
    except OSError as error:
        reason = error.strerror or str(error)
        raise DataError(
            f"Your handwriting samples could not be saved to {path}: {reason}. "
            "Check that the folder is writable and the disk is not full, then try again; "
            "the previously saved samples are unchanged."
        ) from error


def _samples_problem(images, labels):
    """A short description of what is wrong with loaded arrays, or None if they are fine."""
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        return f"images must be uint8 of shape (N, 28, 28), got {images.dtype} {images.shape}"
    if labels.dtype != np.uint8 or labels.ndim != 1:
        return f"labels must be uint8 of shape (N,), got {labels.dtype} {labels.shape}"
    if len(labels) != len(images):
        return f"{len(images)} images but {len(labels)} labels"
    if labels.size and labels.max() >= NUM_CLASSES:
        return f"label {int(labels.max())} is not a digit 0..9"
    return None


def _as_sample_image(image28):
    """Check a (28, 28) image with values 0..255 and convert it to uint8 (rounded)."""
    image = np.asarray(image28)
    if image.shape != IMAGE_SHAPE:
        raise ValueError(f"a sample must be a (28, 28) image, got shape {image.shape}")
    if not np.issubdtype(image.dtype, np.number) or np.issubdtype(image.dtype, np.complexfloating):
        raise ValueError(f"a sample must hold real numbers, got {image.dtype}")
    if not np.all(np.isfinite(image)) or image.min() < 0 or image.max() > 255:
        raise ValueError("a sample's pixel values must be finite and within 0..255")
    return np.rint(image).astype(np.uint8)


def _as_label(label):
    """Check that `label` is an integer digit 0..9 and return it as int."""
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)):
        raise ValueError(f"a label must be an integer digit 0..9, got {label!r}")
    if not 0 <= label < NUM_CLASSES:
        raise ValueError(f"a label must be a digit 0..9, got {label}")
    return int(label)


def _set_aside(path):
    """Rename an unreadable file to <name>.corrupt-<timestamp> and return the new path."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    suffix = 1
    while target.exists():
        suffix += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{suffix}")
    try:
        os.replace(path, target)
    except FileNotFoundError:
        return None  # already gone (moved by the user): nothing to keep
    except OSError as error:
        raise DataError(
            f"The unreadable samples file {path} could not be moved aside to {target.name}: "
            f"{error.strerror or error}. Nothing was saved; move or fix that file, then try again."
        ) from error
    return target


def _frozen(array):
    """Mark `array` read-only so callers cannot change stored samples behind our back."""
    array.flags.writeable = False
    return array

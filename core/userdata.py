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

The file is read like any file a user can replace (core.safefile): only a regular file, only
an archive of two well-formed uint8 arrays whose sizes are checked before anything is read.

Two app instances may add samples to the same file at once. Every change therefore takes an
exclusive lock on a sidecar file (".handwriting.npz.lock", fcntl.flock; kept, never deleted,
so every instance locks the same file), re-reads the file as it is on disk now, applies the
change to that, writes, and only then lets go: no instance overwrites another's samples.
Removing or clearing takes away only the samples this instance showed the user.
"""
import collections
import contextlib
import os
import stat
import time
from pathlib import Path

import numpy as np

from core import atomic, paths
from core.errors import DataError
from core.mnist_format import IMAGE_SHAPE, NUM_CLASSES
from core.safefile import FileRejected, NpzArchive, Rejection, os_reason, path_problem, shown_path

try:
    import fcntl
except ImportError:  # Windows: no flock; changes are still atomic, only not merged between instances
    fcntl = None

FILE_NAME = "handwriting.npz"
LOCK_NAME = f".{FILE_NAME}.lock"
MAX_SAMPLES = 50_000  # 39 MB of images; a person draws a few hundred
SAMPLE_BYTES = IMAGE_SHAPE[0] * IMAGE_SHAPE[1] + 1  # one image and its label
MAX_TOTAL_BYTES = MAX_SAMPLES * SAMPLE_BYTES
MAX_FILE_BYTES = MAX_TOTAL_BYTES + 1024 * 1024  # plus the zip and .npy headers
# Read far enough to say what is wrong ("images must be uint8"); only uint8 arrays are accepted.
NUMBER_DTYPES = ("uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "bool",
                 "float16", "float32", "float64")


class PersonalDataset:
    """Labelled 28x28 digits drawn by the user, persisted in <folder>/handwriting.npz."""

    def __init__(self, folder=None, *, start_empty_if_corrupt=False):
        self.folder = Path(folder) if folder is not None else paths.user_data_dir()
        self.path = self.folder / FILE_NAME
        self.load_error = None  # DataError when the file on disk could not be read
        self.set_aside_path = None  # where an unreadable file was moved on the first save
        self._images = _frozen(np.zeros((0, *IMAGE_SHAPE), np.uint8))  # (N, 28, 28)
        self._labels = _frozen(np.zeros(0, np.uint8))  # (N,)
        try:
            images, labels = _read_if_present(self.path)
        except DataError as error:
            if not start_empty_if_corrupt:
                raise
            self.load_error = error
            return
        if images is not None:
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

        def append(images, labels):
            if len(labels) >= MAX_SAMPLES:
                raise DataError(f"Your handwriting set in {self.path} is full ({MAX_SAMPLES:,} samples); "
                                "remove some samples before adding more.")
            return np.concatenate([images, image[None]]), np.append(labels, np.uint8(label))  # (N+1, ...)

        self._commit(append)

    def remove(self, index):
        """Delete the sample at position `index` (negative counts from the end), and save."""
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"no sample at index {index}; there are {n}")
        shown = (self._images[index:index + 1 or None], self._labels[index:index + 1 or None])
        self._commit(lambda images, labels: _without(images, labels, *shown))

    def clear(self):
        """Delete every sample this instance holds (and shows), and save."""
        shown = (self._images, self._labels)
        self._commit(lambda images, labels: _without(images, labels, *shown))

    def score(self, model):
        """(correct, total): how many samples model.predict(images) gets right."""
        if len(self) == 0:
            return 0, 0
        predicted = np.asarray(model.predict(self._images))  # (N,)
        return int(np.count_nonzero(predicted == self._labels)), len(self)

    def _commit(self, change):
        """Apply change(images, labels) -> (images, labels) to the file as it is now, under the lock.

        Only once the write succeeded do the arrays in memory become the new ones.
        """
        with _locked(self.folder, self.path):
            images, labels = self._current()
            images, labels = change(images, labels)
            write_samples(self.path, images, labels)
        self._images, self._labels = _frozen(images), _frozen(labels)
        self.load_error = None

    def _current(self):
        """The samples on disk now (another instance may have added some); else what we hold."""
        try:
            on_disk = _read_if_present(self.path)
        except DataError:                       # unreadable (at start, or since): keep it aside, go on
            self.set_aside_path = _set_aside(self.path) or self.set_aside_path
            return self._images, self._labels
        if on_disk[0] is None:                  # no file (first sample, or moved away): what we hold
            return self._images, self._labels
        return on_disk


def _without(images, labels, gone_images, gone_labels):
    """images, labels minus one occurrence of each (image, label) pair in gone_*, the first ones first.

    One pass over each: every sample is looked up by its bytes in a count of the pairs to remove,
    so clearing N samples costs O(N), not a comparison of every pair with every sample.
    """
    to_remove = collections.Counter(_sample_keys(gone_images, gone_labels))
    keep = np.ones(len(labels), bool)  # (N,)
    for i, key in enumerate(_sample_keys(images, labels)):
        if to_remove[key] > 0:
            to_remove[key] -= 1
            keep[i] = False
    return images[keep], labels[keep]


def _sample_keys(images, labels):
    """(N, 28, 28) uint8 images and (N,) labels -> one bytes key per sample, equal only for equal samples."""
    flat = np.ascontiguousarray(images, dtype=np.uint8).reshape(len(images), IMAGE_SHAPE[0] * IMAGE_SHAPE[1])  # (N, 784)
    return (row.tobytes() + bytes([int(label)]) for row, label in zip(flat, labels))


@contextlib.contextmanager
def _locked(folder: Path, path: Path):
    """Hold an exclusive lock on the folder's sidecar lock file (blocks while another instance writes)."""
    handle = _open_lock(folder, path)
    with handle:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _open_lock(folder: Path, path: Path):
    """The lock file, opened without ever blocking (something other than a file there is refused)."""
    lock = folder / LOCK_NAME
    try:
        if folder.exists() and not folder.is_dir():
            raise DataError(f"Your handwriting samples could not be saved: {folder} is a file, not a folder. "
                            "Move that file away, then try again.")
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_NONBLOCK", 0), 0o644)
    except OSError as error:
        raise DataError(
            f"Your handwriting samples could not be saved to {shown_path(path)}: {os_reason(error)}. "
            "Check that the folder is writable and the disk is not full, then try again; "
            "the previously saved samples are unchanged."
        ) from error
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise DataError(f"Your handwriting samples could not be saved: the lock file {lock} is not a file. "
                        "Remove it, then try again.")
    return os.fdopen(fd, "r+b")


def _read_if_present(path: Path):
    """read_samples(path), or (None, None) when there is no file; DataError when it cannot be used."""
    problem = path_problem(path)
    if problem:
        raise DataError(f"Your handwriting samples file {shown_path(path)} could not be read: {problem}. "
                        "Fix the folder or set DIGITPAD_USER_DIR to another one.")
    if not path.exists() and not path.is_symlink():
        return None, None
    return read_samples(path)


def read_samples(path):
    """Load and check a samples file -> (images uint8 (N, 28, 28), labels uint8 (N,)).

    Raises DataError naming the file and what is wrong with it.
    """
    path = Path(path)
    try:
        with NpzArchive(path, max_file_bytes=MAX_FILE_BYTES, max_total_bytes=MAX_TOTAL_BYTES,
                        allowed_dtypes=NUMBER_DTYPES) as archive:
            missing = {"images", "labels"} - set(archive.members)
            if missing:
                raise FileRejected(f"it has no {' or '.join(sorted(missing))} array")
            problem = _samples_problem(archive.members["images"], archive.members["labels"])
            if not problem:
                images, labels = archive.read("images"), archive.read("labels")
                problem = _labels_problem(labels)
    except FileRejected as rejected:
        reason = rejected.reason
        if rejected.kind is Rejection.NOT_AN_ARCHIVE:
            reason = f"{reason} (it may have been damaged or replaced by another file)"
        raise DataError(f"Your handwriting samples file {path} could not be read: {reason}. "
                        "The file was left as it is.") from None
    if problem:
        raise DataError(f"Your handwriting samples file {path} is not a valid samples file: {problem}. "
                        "The file was left as it is.")
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
    """What is wrong with the arrays (anything with .dtype and .shape), or None if they fit."""
    if images.dtype != np.uint8 or len(images.shape) != 3 or images.shape[1:] != IMAGE_SHAPE:
        return f"images must be uint8 of shape (N, 28, 28), got {images.dtype} {images.shape}"
    if labels.dtype != np.uint8 or len(labels.shape) != 1:
        return f"labels must be uint8 of shape (N,), got {labels.dtype} {labels.shape}"
    if labels.shape[0] != images.shape[0]:
        return f"{images.shape[0]} images but {labels.shape[0]} labels"
    if labels.shape[0] > MAX_SAMPLES:
        return f"it holds {labels.shape[0]:,} samples, more than the {MAX_SAMPLES:,} digitpad keeps"
    return None


def _labels_problem(labels):
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

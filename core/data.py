"""Where digitpad's training data comes from: full MNIST (local or downloaded) or the bundled sample.

A data set is a tuple (images uint8 (N, 28, 28), labels uint8 (N,)). Full MNIST is looked
for, in order, in the data_dir argument, the folder named by DIGITPAD_DATA_DIR, then the
user's cache folder, where it is downloaded when missing. The sample in assets/mnist-sample/
is 10,000 training and 2,000 test images of real MNIST, in the same file format.
"""
import os
from pathlib import Path

from core.download import MIRRORS, SHA256, download_mnist, file_verifies
from core.errors import DataError
from core.idx import read_images, read_labels
from core.mnist_format import SPLIT_FILES
from core.paths import ASSETS_DIR, cache_dir
from core.safefile import path_problem, shown_path

__all__ = [
    "MIRRORS", "SAMPLE_DIR", "SAMPLE_FILES", "SPLIT_FILES", "download_mnist", "load_dataset", "load_mnist",
    "load_sample", "mnist_available", "mnist_folder", "mnist_problem",
]

SAMPLE_DIR = ASSETS_DIR / "mnist-sample"
# The sample's files carry a prefix so that they are never mistaken for (or taken as) the full set.
SAMPLE_FILES = {split: tuple(f"sample-{name}" for name in names) for split, names in SPLIT_FILES.items()}
SOURCES = ("auto", "mnist", "sample")


def mnist_folder(data_dir=None) -> Path:
    """The folder full MNIST is read from: data_dir, else $DIGITPAD_DATA_DIR, else the cache folder."""
    return _locate(data_dir)[0]


def _locate(data_dir) -> tuple[Path, str | None]:
    """(folder, what chose it); None means the cache folder, the one place we download into."""
    if data_dir is not None:
        return Path(data_dir), "the data_dir argument"
    from_env = os.environ.get("DIGITPAD_DATA_DIR")
    if from_env:
        return Path(from_env), "DIGITPAD_DATA_DIR"
    return cache_dir(), None


def mnist_available(data_dir=None) -> bool:
    """True when the four full-MNIST files are in mnist_folder(data_dir) and their checksums match."""
    return mnist_problem(data_dir) is None


def mnist_problem(data_dir=None) -> str | None:
    """None when full MNIST is ready in mnist_folder(data_dir); else a message saying what is wrong."""
    folder, origin = _locate(data_dir)
    unusable = _folder_problem(folder, SHA256, origin)
    if unusable:
        return unusable
    missing = [name for name in SHA256 if not (folder / name).is_file()]
    damaged = [name for name in SHA256 if name not in missing and not file_verifies(folder / name, name)]
    if not missing and not damaged:
        return None
    if origin is None and not damaged and len(missing) == len(SHA256):
        return "Full MNIST is not downloaded yet."
    defects = [f"{', '.join(names)} {what}" for names, what in
               ((missing, "missing"), (damaged, "damaged (not the exact MNIST content)")) if names]
    remedy = ("Put good copies of the four MNIST files there." if origin
              else "Download full MNIST again to replace them.")
    chosen = f" (chosen by {origin})" if origin else ""
    return f"Full MNIST cannot be used from {folder}{chosen}: {' and '.join(defects)}. {remedy}"


def load_mnist(split: str, data_dir=None, *, allow_download=True, progress=None, should_cancel=None):
    """Full MNIST `split` ("train" or "test") -> (images (N, 28, 28) uint8, labels (N,) uint8).

    A folder given by data_dir or DIGITPAD_DATA_DIR must already hold the files. The cache
    folder is filled by download_mnist (progress and should_cancel are passed on) when a file
    is missing, unless allow_download is False. Raises DataError, DownloadError or
    DownloadCancelled.
    """
    names = _split_names(split)
    folder, origin = _locate(data_dir)
    unusable = _folder_problem(folder, names, origin)
    if unusable:
        raise DataError(unusable)
    missing = [name for name in names if not (folder / name).is_file()]
    if missing and origin:
        raise DataError(
            f"{folder} (from {origin}) does not contain {', '.join(missing)}. "
            f"It should hold the four MNIST files: {', '.join(SHA256)}."
        )
    if missing and not allow_download:
        raise DataError(f"Full MNIST is not in {folder} and downloading is turned off.")
    if missing:
        download_mnist(folder, progress=progress, should_cancel=should_cancel)
    return _load_pair(folder, names)


def _folder_problem(folder: Path, names, origin) -> str | None:
    """A message when the folder or its files cannot even be looked at (no permission, name too long)."""
    for path in (folder, *(folder / name for name in names)):
        problem = path_problem(path)
        if problem:
            which = f" ({path.name})" if path != folder else ""
            remedy = (f"Fix it or choose another folder (this one was chosen by {origin})." if origin
                      else "Fix that folder or set DIGITPAD_CACHE_DIR to another; or set DIGITPAD_DATA_DIR "
                           "to a folder holding full MNIST.")
            return f"Full MNIST cannot be used from {shown_path(folder)}: {problem}{which}. {remedy}"
    return None


def load_sample(split: str):
    """The bundled real-MNIST sample: train 10,000 or test 2,000 images, 10% per digit."""
    _split_names(split)  # validates `split`
    return _load_pair(SAMPLE_DIR, SAMPLE_FILES[split])


def load_dataset(source="auto", data_dir=None, allow_download=True, log=None, progress=None, should_cancel=None):
    """(train_set, test_set, description) for the CLI and GUI.

    source "mnist": full MNIST via load_mnist (errors propagate). "sample": the bundled
    sample. "auto": full MNIST, falling back to the sample on DataError or DownloadError,
    with log(message) told why, but only from the default (cache) location: a folder the user
    named (data_dir, DIGITPAD_DATA_DIR) that is missing or damaged is their error to hear about,
    not a reason to train on other data. DownloadCancelled always propagates: the user asked to stop.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    if source == "sample":
        return _sample_dataset()
    if source == "mnist":
        return _full_dataset(data_dir, allow_download, progress, should_cancel)
    try:
        return _full_dataset(data_dir, allow_download, progress, should_cancel)
    except DataError as exc:  # DownloadError included
        if _locate(data_dir)[1] is not None:
            raise
        if log is not None:
            log(f"{exc}\nUsing the MNIST sample bundled with digitpad instead.")
        return _sample_dataset()


def _full_dataset(data_dir, allow_download, progress, should_cancel):
    options = dict(allow_download=allow_download, progress=progress, should_cancel=should_cancel)
    train_set = load_mnist("train", data_dir, **options)
    test_set = load_mnist("test", data_dir, **options)
    return train_set, test_set, _describe("MNIST", mnist_folder(data_dir), train_set, test_set)


def _sample_dataset():
    train_set, test_set = load_sample("train"), load_sample("test")
    return train_set, test_set, _describe("MNIST sample", "digitpad's assets", train_set, test_set)


def _describe(what: str, where, train_set, test_set) -> str:
    return f"{what} from {where}: {len(train_set[1]):,} training and {len(test_set[1]):,} test images"


def _split_names(split: str) -> tuple[str, str]:
    try:
        return SPLIT_FILES[split]
    except KeyError:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}") from None


def _load_pair(folder: Path, names: tuple[str, str]):
    images_path, labels_path = folder / names[0], folder / names[1]
    images = read_images(images_path)  # (N, 28, 28) uint8
    labels = read_labels(labels_path)  # (N,) uint8
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} holds {len(images):,} images but {labels_path} holds {len(labels):,} labels; "
            "the two files must come from the same MNIST split."
        )
    return images, labels

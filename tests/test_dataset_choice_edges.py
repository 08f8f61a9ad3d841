"""DatasetChoice at its edges: the rounding of the personal share, what load() passes on, folder order."""
import numpy as np
import pytest

from core import dataset_choice
from core.data import load_sample
from core.dataset_choice import MAX_REPEATS, DatasetChoice, mix_in


@pytest.mark.parametrize("base, extra, repeats", [
    (1000, 5, 10),            # 5% of 1,000 is 50: each of 5 samples ten times
    (1000, 200, 1),           # more samples than 5%: each once
    (100000, 2, MAX_REPEATS), # few samples, a big set: capped
    (30, 1, 2),               # round(1.5) -> 2
    (10, 4, 1),               # under one repeat rounds up to one
])
def test_mix_in_repeats_each_sample_the_same_number_of_times(base, extra, repeats):
    images = np.zeros((base, 28, 28), np.uint8)
    labels = np.zeros(base, np.uint8)
    extra_images = np.arange(extra * 784, dtype=np.int64).reshape(extra, 28, 28) % 256
    extra_labels = np.arange(1, extra + 1) % 10
    mixed_images, mixed_labels = mix_in((images, labels), (extra_images, extra_labels))
    assert mixed_images.dtype == np.uint8 and mixed_labels.dtype == np.uint8
    assert len(mixed_labels) == base + extra * repeats
    np.testing.assert_array_equal(mixed_labels[base:], np.repeat(extra_labels, repeats))
    np.testing.assert_array_equal(mixed_images[base:], np.repeat(extra_images.astype(np.uint8), repeats, axis=0))


def test_load_passes_the_folder_and_never_downloads_unless_asked(tmp_path, monkeypatch):
    seen = []

    def fake_load_dataset(source, data_dir, allow_download=True, log=None, progress=None, should_cancel=None):
        seen.append((source, data_dir, allow_download, log, progress, should_cancel))
        images, labels = load_sample("test")
        return (images, labels), (images[:5], labels[:5]), "fake"

    monkeypatch.setattr(dataset_choice, "load_dataset", fake_load_dataset)
    choice = DatasetChoice("mnist", train_size=10, data_dir=tmp_path)
    train_set, test_set, description = choice.load()
    assert seen[-1] == ("mnist", tmp_path, False, None, None, None)
    assert len(train_set[1]) == 10 and len(test_set[1]) == 5 and description == "fake"
    log, progress, cancel = print, len, bool
    choice.load(allow_download=True, log=log, progress=progress, should_cancel=cancel)
    assert seen[-1] == ("mnist", tmp_path, True, log, progress, cancel)


def test_the_mnist_folder_is_the_argument_then_the_variable_then_the_cache(tmp_path, monkeypatch):
    from core.data import mnist_folder
    from core.paths import cache_dir

    assert mnist_folder() == cache_dir()
    monkeypatch.setenv("DIGITPAD_DATA_DIR", str(tmp_path / "env"))
    assert mnist_folder() == tmp_path / "env"
    assert mnist_folder(tmp_path / "arg") == tmp_path / "arg"

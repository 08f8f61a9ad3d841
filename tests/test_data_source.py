"""gui.training.data_source: a run's images, from a small picklable recipe (no Qt, no process)."""
import pickle

import numpy as np
import pytest

from core.data import load_sample
from core.errors import DataError
from gui.training import data_source
from gui.training.data_source import MAX_REPEATS, PERSONAL_SHARE, TrainingData, load_training_data, mix_in


def personal(count, label=7):
    images = np.full((count, 28, 28), 200, np.uint8)
    return images, np.full(count, label, np.uint8)


def test_the_sample_recipe_gives_the_sample_cut_to_size():
    (images, labels), test_set = TrainingData("sample", train_size=300)()
    sample_images, sample_labels = load_sample("train")
    np.testing.assert_array_equal(images, sample_images[:300])
    np.testing.assert_array_equal(labels, sample_labels[:300])
    np.testing.assert_array_equal(test_set[0], load_sample("test")[0])


def test_no_train_size_takes_every_image():
    (images, _), _ = load_training_data("sample", None)
    assert len(images) == len(load_sample("train")[0])


def test_personal_samples_are_appended_at_about_five_percent():
    extra = personal(3)
    (images, labels), _ = TrainingData("sample", train_size=1200, personal=extra)()
    repeats = round(PERSONAL_SHARE * 1200 / 3)                           # 20
    assert len(images) == 1200 + 3 * repeats and len(labels) == len(images)
    assert (labels[1200:] == 7).all() and (images[1200:] == 200).all()
    np.testing.assert_array_equal(labels[:1200], load_sample("train")[1][:1200])


def test_an_empty_personal_set_adds_nothing():
    (images, _), _ = TrainingData("sample", train_size=50, personal=personal(0))()
    assert len(images) == 50


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
    mixed_images, mixed_labels = mix_in(images, labels, extra_images, extra_labels)
    assert mixed_images.dtype == np.uint8 and mixed_labels.dtype == np.uint8
    assert len(mixed_labels) == base + extra * repeats
    np.testing.assert_array_equal(mixed_labels[base:], np.repeat(extra_labels, repeats))
    np.testing.assert_array_equal(mixed_images[base:], np.repeat(extra_images.astype(np.uint8), repeats, axis=0))


def test_the_recipe_is_small_when_pickled_and_names_the_data_folder(tmp_path, monkeypatch):
    recipe = TrainingData("mnist", train_size=10, data_dir=str(tmp_path))
    assert len(pickle.dumps(recipe)) < 1000
    seen = {}

    def fake_load_dataset(source, data_dir, allow_download=True, **kwargs):
        seen.update(source=source, data_dir=data_dir, allow_download=allow_download)
        images, labels = load_sample("test")
        return (images, labels), (images[:5], labels[:5]), "fake"

    monkeypatch.setattr(data_source.data, "load_dataset", fake_load_dataset)
    (images, _), (test_images, _) = recipe()
    assert seen == {"source": "mnist", "data_dir": str(tmp_path), "allow_download": False}   # never downloads
    assert len(images) == 10 and len(test_images) == 5


def test_a_missing_mnist_folder_is_a_data_error(tmp_path):
    with pytest.raises(DataError):
        TrainingData("mnist", data_dir=str(tmp_path / "nothing"))()


def test_the_mnist_folder_is_the_argument_then_the_variable_then_the_cache(tmp_path, monkeypatch):
    from core.data import mnist_folder
    from core.paths import cache_dir

    assert mnist_folder() == cache_dir()
    monkeypatch.setenv("DIGITPAD_DATA_DIR", str(tmp_path / "env"))
    assert mnist_folder() == tmp_path / "env"
    assert mnist_folder(tmp_path / "arg") == tmp_path / "arg"

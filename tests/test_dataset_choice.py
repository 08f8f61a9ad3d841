"""One place picks a run's images: DatasetChoice cuts the chosen set, mixes in the user's samples, checks sizes."""
import pickle

import numpy as np
import pytest

from core import data
from core.dataset_choice import MAX_REPEATS, PERSONAL_SHARE, DatasetChoice, first, mix_in
from core.errors import DataError


@pytest.fixture(scope="module")
def sample():
    return data.load_sample("train"), data.load_sample("test")


def test_the_first_n_training_and_test_images_are_used(sample):
    train_set, test_set, description = DatasetChoice("sample", train_size=300, test_size=70).load()
    np.testing.assert_array_equal(train_set[0], sample[0][0][:300])
    np.testing.assert_array_equal(train_set[1], sample[0][1][:300])
    np.testing.assert_array_equal(test_set[0], sample[1][0][:70])
    np.testing.assert_array_equal(test_set[1], sample[1][1][:70])
    assert "MNIST sample" in description


def test_no_sizes_means_every_image(sample):
    train_set, test_set, _ = DatasetChoice("sample").load()
    assert len(train_set[1]) == len(sample[0][1]) and len(test_set[1]) == len(sample[1][1])


def test_the_users_samples_are_repeated_to_about_their_share_of_the_training_images(sample):
    personal = (sample[1][0][:4], sample[1][1][:4])
    train_set, test_set, _ = DatasetChoice("sample", train_size=400, test_size=50, personal=personal).load()
    repeats = round(PERSONAL_SHARE * 400 / 4)          # 5 copies of each of the 4
    assert len(train_set[1]) == 400 + 4 * repeats
    np.testing.assert_array_equal(train_set[0][400:], np.repeat(personal[0], repeats, axis=0))
    np.testing.assert_array_equal(train_set[1][400:], np.repeat(personal[1], repeats))
    assert len(test_set[1]) == 50                       # the test set never gets them


def test_mixing_in_is_bounded_both_ways():
    images, labels = np.zeros((10, 28, 28), np.uint8), np.zeros(10, np.uint8)
    one = (np.ones((1, 28, 28), np.uint8), np.ones(1, np.uint8))
    assert len(mix_in((images, labels), one)[1]) == 10 + 1                      # at least once
    many = (np.zeros((100_000, 28, 28), np.uint8), np.zeros(100_000, np.uint8))
    assert len(mix_in(many, one)[1]) == 100_000 + MAX_REPEATS                    # at most MAX_REPEATS


def test_an_empty_personal_set_changes_nothing(sample):
    empty = (np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8))
    train_set, _, _ = DatasetChoice("sample", train_size=100, personal=empty).load()
    assert len(train_set[1]) == 100


@pytest.mark.faults
@pytest.mark.parametrize("choice, message", [
    (DatasetChoice("sample", train_size=0), "training-set size"),
    (DatasetChoice("sample", test_size=-3), "test-set size"),
    (DatasetChoice("emnist"), "data source"),
])
def test_impossible_choices_are_refused_naming_the_setting(choice, message):
    with pytest.raises(ValueError, match=message):
        choice.load()


@pytest.mark.faults
def test_full_mnist_from_an_empty_folder_is_a_data_error_without_download(tmp_path):
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz"):
        DatasetChoice("mnist", data_dir=tmp_path).load()


def test_a_choice_travels_to_a_process_as_a_few_bytes_plus_the_users_samples():
    personal = (np.zeros((3, 28, 28), np.uint8), np.arange(3, dtype=np.uint8))
    choice = DatasetChoice("mnist", train_size=5000, personal=personal)
    assert len(pickle.dumps(DatasetChoice("mnist", train_size=5000))) < 500
    copy = pickle.loads(pickle.dumps(choice))
    assert (copy.source, copy.train_size) == ("mnist", 5000)
    np.testing.assert_array_equal(copy.personal[1], personal[1])


def test_first_keeps_everything_for_none():
    images, labels = np.zeros((5, 28, 28)), np.arange(5)
    assert first((images, labels), None)[0] is images
    assert len(first((images, labels), 2)[1]) == 2

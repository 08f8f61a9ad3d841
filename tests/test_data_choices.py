"""core.data's and DatasetChoice's answers word for word, the smallest sizes allowed, and the callbacks' path."""
import numpy as np
import pytest

from core import data
from core.dataset_choice import DatasetChoice
from core.errors import DataError
from core.idx import encode_idx_gz


def test_the_sample_is_described_by_what_and_where():
    description = data.load_dataset("sample")[2]
    assert description == "MNIST sample from digitpad's assets: 10,000 training and 2,000 test images"


def test_an_unknown_source_or_split_is_refused_naming_the_choices():
    with pytest.raises(ValueError) as source:
        data.load_dataset("emnist")
    assert str(source.value) == "source must be one of ('auto', 'mnist', 'sample'), not 'emnist'"
    with pytest.raises(ValueError) as split:
        data.load_mnist("valid", allow_download=False)
    assert str(split.value) == "split must be 'train' or 'test', not 'valid'"


def test_images_and_labels_of_different_lengths_are_refused_naming_both(tmp_path):
    names = ("imgs.gz", "labs.gz")
    (tmp_path / names[0]).write_bytes(encode_idx_gz(np.zeros((3, 28, 28), np.uint8)))
    (tmp_path / names[1]).write_bytes(encode_idx_gz(np.zeros(2, np.uint8)))
    with pytest.raises(DataError) as caught:
        data._load_pair(tmp_path, names)
    assert str(caught.value) == (f"{tmp_path / names[0]} holds 3 images but {tmp_path / names[1]} holds 2 labels; "
                                 "the two files must come from the same MNIST split.")


def test_the_default_source_is_auto_which_reports_a_named_folders_problem(tmp_path):
    with pytest.raises(DataError):                # "auto" from a folder the user named: their error to hear
        data.load_dataset(data_dir=tmp_path, allow_download=False)


@pytest.mark.parametrize("source", ["mnist", "auto"])
def test_full_mnist_gets_the_progress_and_cancel_callbacks(monkeypatch, source):
    seen = []

    def fake_load_mnist(split, data_dir=None, **options):
        seen.append(options)
        return np.zeros((1, 28, 28), np.uint8), np.zeros(1, np.uint8)

    monkeypatch.setattr(data, "load_mnist", fake_load_mnist)
    progress, should_cancel = (lambda *args: None), (lambda: False)
    data.load_dataset(source, allow_download=False, progress=progress, should_cancel=should_cancel)
    assert seen == [dict(allow_download=False, progress=progress, should_cancel=should_cancel)] * 2


def test_one_image_each_is_the_smallest_choice_allowed():
    DatasetChoice("sample", train_size=1, test_size=1).validate()


def test_an_unknown_source_choice_lists_the_sources():
    with pytest.raises(ValueError) as caught:
        DatasetChoice("emnist").validate()
    assert str(caught.value) == "the data source must be one of auto, mnist, sample"

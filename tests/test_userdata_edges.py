"""PersonalDataset at its edges: indices at both ends, the highest label, set-aside names and failures."""
import numpy as np
import pytest

from core import userdata
from core.errors import DataError
from core.userdata import PersonalDataset, read_samples


def filled(tmp_path, values):
    data = PersonalDataset(tmp_path)
    for value in values:
        data.add(np.full((28, 28), float(value)), value % 10)
    return data


@pytest.mark.parametrize("index, left", [(0, [2, 3]), (2, [1, 2]), (-1, [1, 2]), (-3, [2, 3])])
def test_remove_takes_exactly_the_sample_at_either_end(tmp_path, index, left):
    data = filled(tmp_path, [1, 2, 3])
    data.remove(index)
    assert data.labels.tolist() == left
    assert PersonalDataset(tmp_path).labels.tolist() == left


@pytest.mark.parametrize("index", [3, -4])
def test_remove_refuses_an_index_just_past_either_end(tmp_path, index):
    data = filled(tmp_path, [1, 2, 3])
    with pytest.raises(IndexError, match=f"^no sample at index {index}; there are 3$"):
        data.remove(index)
    assert data.labels.tolist() == [1, 2, 3]


def test_a_file_with_the_label_ten_is_refused_and_nine_is_not(tmp_path):
    path = tmp_path / "s.npz"
    np.savez(path, images=np.zeros((2, 28, 28), np.uint8), labels=np.array([9, 10], np.uint8))
    with pytest.raises(DataError, match="label 10 is not a digit 0..9"):
        read_samples(path)
    np.savez(path, images=np.zeros((2, 28, 28), np.uint8), labels=np.array([9, 0], np.uint8))
    assert read_samples(path)[1].tolist() == [9, 0]


def test_set_aside_names_carry_the_time_then_a_counter_from_two(tmp_path, monkeypatch):
    monkeypatch.setattr(userdata.time, "strftime", lambda fmt: {"%Y%m%d-%H%M%S": "20240102-030405"}[fmt])
    names = []
    for attempt in range(3):
        path = tmp_path / "s.npz"
        path.write_bytes(b"bad %d" % attempt)
        names.append(userdata._set_aside(path).name)
    assert names == ["s.npz.corrupt-20240102-030405", "s.npz.corrupt-20240102-030405-2",
                     "s.npz.corrupt-20240102-030405-3"]


def test_set_aside_of_a_file_already_gone_is_nothing(tmp_path):
    assert userdata._set_aside(tmp_path / "gone.npz") is None


def test_set_aside_that_cannot_move_the_file_says_so(tmp_path, monkeypatch):
    path = tmp_path / "s.npz"
    path.write_bytes(b"bad")

    def refuse(source, target):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(userdata.os, "replace", refuse)
    with pytest.raises(DataError, match=r"^The unreadable samples file .*s\.npz could not be moved aside to "
                                        r"s\.npz\.corrupt-\S+: Permission denied\. Nothing was saved"):
        userdata._set_aside(path)
    assert path.read_bytes() == b"bad"


@pytest.mark.parametrize("content, reason", [
    (b"", "it is empty (it may have been damaged or replaced by another file)"),
    (b"GIF89a not samples", "it is not an .npz archive (it may have been damaged or replaced by another file)"),
])
def test_a_samples_file_that_is_not_an_archive_gets_the_whole_message(tmp_path, content, reason):
    path = tmp_path / "s.npz"
    path.write_bytes(content)
    with pytest.raises(DataError) as caught:
        read_samples(path)
    assert str(caught.value) == (f"Your handwriting samples file {path} could not be read: {reason}. "
                                 "The file was left as it is.")


@pytest.mark.parametrize("arrays, missing", [
    ({"images": np.zeros((1, 28, 28), np.uint8)}, "labels"),
    ({"other": np.zeros(1)}, "images or labels"),
])
def test_a_samples_archive_without_its_arrays_names_them(tmp_path, arrays, missing):
    path = tmp_path / "s.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError) as caught:
        read_samples(path)
    assert str(caught.value) == (f"Your handwriting samples file {path} could not be read: it has no {missing} "
                                 "array. The file was left as it is.")


def test_a_samples_archive_with_wrong_arrays_says_what_is_wrong(tmp_path):
    path = tmp_path / "s.npz"
    np.savez(path, images=np.zeros((2, 28, 28), np.uint8), labels=np.zeros(3, np.uint8))
    with pytest.raises(DataError) as caught:
        read_samples(path)
    assert str(caught.value) == (f"Your handwriting samples file {path} is not a valid samples file: "
                                 "2 images but 3 labels. The file was left as it is.")


def test_the_set_takes_samples_up_to_its_limit_and_not_one_more(tmp_path, monkeypatch):
    monkeypatch.setattr(userdata, "MAX_SAMPLES", 3)
    data = filled(tmp_path, [1, 2, 3])
    with pytest.raises(DataError, match=r"is full \(3 samples\); remove some samples before adding more\.$"):
        data.add(np.zeros((28, 28)), 4)
    assert data.labels.tolist() == [1, 2, 3]


def test_a_failed_write_says_the_old_samples_are_unchanged(tmp_path, monkeypatch):
    from core import atomic

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic, "save_npz", disk_full)
    with pytest.raises(DataError) as caught:
        userdata.write_samples(tmp_path / "s.npz", np.zeros((1, 28, 28), np.uint8), np.zeros(1, np.uint8))
    assert str(caught.value).endswith("Check that the folder is writable and the disk is not full, then try again; "
                                      "the previously saved samples are unchanged.")
    assert "could not be saved to" in str(caught.value)


def test_samples_are_written_into_folders_made_on_the_way(tmp_path):
    path = tmp_path / "a" / "b" / "s.npz"
    userdata.write_samples(path, np.zeros((1, 28, 28), np.uint8), np.array([4], np.uint8))
    assert read_samples(path)[1].tolist() == [4]

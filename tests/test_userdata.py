"""PersonalDataset: persistence across restarts, atomic saves, damaged files, validation."""
import os

import numpy as np
import pytest

from core import atomic, userdata
from core.errors import DataError
from core.userdata import PersonalDataset


def digit_image(value):
    """A (28, 28) float image whose pixels all equal `value` (easy to recognise later)."""
    return np.full((28, 28), float(value))


class ThresholdModel:
    """Stand-in model: 'predicts' the mean pixel value divided by 10."""

    def predict(self, images):
        images = np.asarray(images, dtype=float)  # (N, 28, 28)
        return (images.mean(axis=(1, 2)) // 10).astype(int)  # (N,)


def test_starts_empty_without_creating_anything(tmp_path):
    folder = tmp_path / "new"
    data = PersonalDataset(folder)
    assert len(data) == 0
    assert data.images.shape == (0, 28, 28) and data.labels.shape == (0,)
    assert not folder.exists()


def test_default_folder_is_the_user_data_dir(tmp_path):
    data = PersonalDataset()
    data.add(digit_image(10), 1)
    assert (tmp_path / "userdata" / userdata.FILE_NAME).is_file()  # conftest points the user dir here


def test_samples_survive_a_restart(tmp_path):
    data = PersonalDataset(tmp_path)
    rng = np.random.default_rng(0)
    pictures = rng.uniform(0, 255, size=(3, 28, 28))
    for picture, label in zip(pictures, [7, 0, 9]):
        data.add(picture, label)

    reopened = PersonalDataset(tmp_path)
    assert len(reopened) == 3
    assert reopened.images.dtype == np.uint8 and reopened.labels.dtype == np.uint8
    np.testing.assert_array_equal(reopened.images, np.rint(pictures).astype(np.uint8))
    np.testing.assert_array_equal(reopened.labels, [7, 0, 9])


def test_remove_and_clear_are_saved(tmp_path):
    data = PersonalDataset(tmp_path)
    for label in [1, 2, 3, 4]:
        data.add(digit_image(label * 10), label)
    data.remove(1)
    data.remove(-1)
    assert list(PersonalDataset(tmp_path).labels) == [1, 3]
    assert PersonalDataset(tmp_path).images[1, 0, 0] == 30
    data.clear()
    assert len(PersonalDataset(tmp_path)) == 0


@pytest.mark.faults
def test_remove_rejects_a_missing_index(tmp_path):
    data = PersonalDataset(tmp_path)
    data.add(digit_image(0), 0)
    with pytest.raises(IndexError):
        data.remove(1)
    assert len(data) == 1


def test_counts_per_digit(tmp_path):
    data = PersonalDataset(tmp_path)
    labels = [3, 3, 9, 0, 3]
    for label in labels:
        data.add(digit_image(1), label)
    expected = [labels.count(digit) for digit in range(10)]
    assert data.counts().tolist() == expected


def test_stored_arrays_are_read_only(tmp_path):
    data = PersonalDataset(tmp_path)
    data.add(digit_image(5), 5)
    with pytest.raises(ValueError):
        data.images[0, 0, 0] = 1
    with pytest.raises(ValueError):
        data.labels[0] = 1


@pytest.mark.parametrize("label", [-1, 10, 2.0, True, "3", None])
@pytest.mark.faults
def test_add_rejects_bad_labels(tmp_path, label):
    data = PersonalDataset(tmp_path)
    with pytest.raises(ValueError):
        data.add(digit_image(1), label)
    assert len(data) == 0


@pytest.mark.parametrize(
    "image",
    [np.zeros((28, 27)), np.zeros((1, 28, 28)), np.full((28, 28), 256.0), np.full((28, 28), -1.0),
     np.full((28, 28), np.nan), np.full((28, 28), "a")],
)
@pytest.mark.faults
def test_add_rejects_bad_images(tmp_path, image):
    data = PersonalDataset(tmp_path)
    with pytest.raises(ValueError):
        data.add(image, 1)
    assert len(data) == 0


def test_accepts_numpy_integer_labels(tmp_path):
    data = PersonalDataset(tmp_path)
    data.add(np.zeros((28, 28), np.uint8), np.int64(4))
    assert data.labels.tolist() == [4]


@pytest.mark.faults
@pytest.mark.keeps_data
def test_failed_replace_keeps_old_file_and_memory(tmp_path, monkeypatch):
    data = PersonalDataset(tmp_path)
    data.add(digit_image(20), 2)
    before = data.path.read_bytes()

    def refuse(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(userdata.os, "replace", refuse)
    with pytest.raises(DataError, match="No space left"):
        data.add(digit_image(30), 3)

    assert data.path.read_bytes() == before
    assert data.labels.tolist() == [2]  # the failed change did not happen in memory either
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != userdata.LOCK_NAME) == [userdata.FILE_NAME]  # temp file cleaned up


@pytest.mark.faults
@pytest.mark.keeps_data
def test_failed_write_midway_keeps_old_file(tmp_path, monkeypatch):
    data = PersonalDataset(tmp_path)
    data.add(digit_image(20), 2)
    before = data.path.read_bytes()

    def write_half_then_fail(stream, **arrays):
        stream.write(b"PK\x03\x04 partial")
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(userdata.np, "savez", write_half_then_fail)
    with pytest.raises(DataError):
        data.clear()
    assert data.path.read_bytes() == before
    assert len(data) == 1
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != userdata.LOCK_NAME) == [userdata.FILE_NAME]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions, not root")
@pytest.mark.faults
@pytest.mark.keeps_data
def test_read_only_folder_raises_and_keeps_old_file(tmp_path):
    data = PersonalDataset(tmp_path)
    data.add(digit_image(20), 2)
    before = data.path.read_bytes()
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(DataError, match="writable"):
            data.add(digit_image(40), 4)
    finally:
        tmp_path.chmod(0o700)
    assert data.path.read_bytes() == before
    assert PersonalDataset(tmp_path).labels.tolist() == [2]


def write_raw(folder, **arrays):
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / userdata.FILE_NAME, **arrays)


GOOD_IMAGES = np.zeros((2, 28, 28), np.uint8)
GOOD_LABELS = np.array([1, 2], np.uint8)


@pytest.mark.parametrize(
    "arrays, problem",
    [
        (dict(images=GOOD_IMAGES), "no labels"),
        (dict(images=GOOD_IMAGES.astype(np.float32), labels=GOOD_LABELS), "uint8"),
        (dict(images=np.zeros((2, 28, 27), np.uint8), labels=GOOD_LABELS), "28, 28"),
        (dict(images=GOOD_IMAGES, labels=GOOD_LABELS.astype(np.int64)), "labels must be uint8"),
        (dict(images=GOOD_IMAGES, labels=np.array([1, 2, 3], np.uint8)), "2 images but 3 labels"),
        (dict(images=GOOD_IMAGES, labels=np.array([1, 12], np.uint8)), "label 12"),
        (dict(images=np.array([None, None]), labels=GOOD_LABELS), "could not be read"),
    ],
)
@pytest.mark.faults
@pytest.mark.keeps_data
def test_invalid_file_raises_data_error_and_is_kept(tmp_path, arrays, problem):
    write_raw(tmp_path, **arrays)
    before = (tmp_path / userdata.FILE_NAME).read_bytes()
    with pytest.raises(DataError, match=problem):
        PersonalDataset(tmp_path)
    assert (tmp_path / userdata.FILE_NAME).read_bytes() == before


@pytest.mark.parametrize("content", [b"", b"garbage, not a zip", b"PK\x03\x04truncated"])
@pytest.mark.faults
def test_corrupt_file_raises_data_error_naming_the_file(tmp_path, content):
    (tmp_path / userdata.FILE_NAME).write_bytes(content)
    with pytest.raises(DataError, match=userdata.FILE_NAME) as caught:
        PersonalDataset(tmp_path)
    assert "left as it is" in str(caught.value)
    assert (tmp_path / userdata.FILE_NAME).read_bytes() == content


@pytest.mark.faults
def test_single_npy_array_is_rejected(tmp_path):
    with open(tmp_path / userdata.FILE_NAME, "wb") as stream:
        np.save(stream, GOOD_IMAGES)
    with pytest.raises(DataError, match="not an .npz archive"):
        PersonalDataset(tmp_path)


@pytest.mark.faults
@pytest.mark.keeps_data
def test_start_empty_sets_the_corrupt_file_aside_on_first_save(tmp_path):
    damaged = b"garbage, not a zip"
    (tmp_path / userdata.FILE_NAME).write_bytes(damaged)

    data = PersonalDataset(tmp_path, start_empty_if_corrupt=True)
    assert len(data) == 0
    assert isinstance(data.load_error, DataError)
    assert (tmp_path / userdata.FILE_NAME).read_bytes() == damaged  # untouched until a save

    data.add(digit_image(50), 5)
    assert data.set_aside_path is not None
    assert data.set_aside_path.name.startswith(userdata.FILE_NAME + ".corrupt-")
    assert data.set_aside_path.read_bytes() == damaged
    assert data.load_error is None
    assert PersonalDataset(tmp_path).labels.tolist() == [5]


@pytest.mark.faults
@pytest.mark.keeps_data
def test_set_aside_never_overwrites_an_earlier_one(tmp_path, monkeypatch):
    monkeypatch.setattr(userdata.time, "strftime", lambda _fmt: "20240101-000000")
    kept = []
    for attempt in range(2):
        (tmp_path / userdata.FILE_NAME).write_bytes(b"bad %d" % attempt)
        data = PersonalDataset(tmp_path, start_empty_if_corrupt=True)
        data.add(digit_image(1), 1)
        kept.append(data.set_aside_path)
    assert kept[0] != kept[1]
    assert [path.read_bytes() for path in kept] == [b"bad 0", b"bad 1"]


def test_score_counts_correct_predictions(tmp_path):
    data = PersonalDataset(tmp_path)
    assert data.score(ThresholdModel()) == (0, 0)
    # ThresholdModel reads a picture of value v as digit v // 10.
    for value, label in [(30, 3), (75, 7), (75, 2), (10, 1), (99, 0)]:
        data.add(digit_image(value), label)
    assert data.score(ThresholdModel()) == (3, 5)


@pytest.mark.faults
@pytest.mark.keeps_data
def test_unwritable_folder_raises_and_keeps_old_file(tmp_path, monkeypatch):
    """Same as the read-only folder test, for machines where it is skipped (running as root)."""
    data = PersonalDataset(tmp_path)
    data.add(digit_image(20), 2)
    before = data.path.read_bytes()

    def denied(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", denied)
    with pytest.raises(DataError, match="Permission denied"):
        data.add(digit_image(40), 4)
    assert data.path.read_bytes() == before
    assert data.labels.tolist() == [2]


def test_score_with_the_real_network(tmp_path):
    from core.network import CNN

    model = CNN(seed=3)
    data = PersonalDataset(tmp_path)
    pictures = np.random.default_rng(3).uniform(0, 255, size=(6, 28, 28))
    said = model.predict(np.rint(pictures).astype(np.uint8))  # (6,)
    for picture, label in zip(pictures, [said[0], said[1], (said[2] + 1) % 10, said[3], 0, 0]):
        data.add(picture, int(label))
    expected = 3 + int(said[4] == 0) + int(said[5] == 0)
    assert data.score(model) == (expected, 6)


def without_one_by_one(images, labels, gone_images, gone_labels):
    """The plain statement of _without: for each pair to remove, the first match still kept goes."""
    keep = np.ones(len(labels), bool)
    for image, label in zip(gone_images, gone_labels):
        matches = np.flatnonzero(keep & (labels == label) & np.all(images == image, axis=(1, 2)))
        if len(matches):
            keep[matches[0]] = False
    return images[keep], labels[keep]


def test_removing_samples_agrees_with_removing_them_one_by_one():
    rng = np.random.default_rng(3)
    kinds = rng.integers(0, 256, size=(6, 28, 28), dtype=np.uint8)   # few kinds: many duplicates
    pick = rng.integers(0, 6, size=200)
    images, labels = kinds[pick], (pick % 3).astype(np.uint8)        # same image, same label, mostly
    labels[::7] = 9                                                  # same image under another label
    for gone in (rng.choice(200, 40, replace=False), np.arange(200), [5, 5, 5], []):
        gone_images = images[gone].reshape(-1, 28, 28)
        gone_images[:1] = 255 - gone_images[:1]                      # one pair that is nowhere
        gone_labels = labels[gone]
        fast = userdata._without(images, labels, gone_images, gone_labels)
        slow = without_one_by_one(images, labels, gone_images, gone_labels)
        np.testing.assert_array_equal(fast[0], slow[0])
        np.testing.assert_array_equal(fast[1], slow[1])


def test_clearing_many_samples_takes_one_pass_not_one_per_pair():
    import time

    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, size=(10_000, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=10_000).astype(np.uint8)
    started = time.perf_counter()
    kept_images, kept_labels = userdata._without(images, labels, images, labels)
    took = time.perf_counter() - started
    assert len(kept_images) == len(kept_labels) == 0
    assert took < 1.0        # one pass: about 20 ms; comparing each pair with every sample: about 10 s

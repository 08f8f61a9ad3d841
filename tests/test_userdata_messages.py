"""The personal handwriting set's refusals word for word, its lock file, and its size limit at the boundary."""
import os
import stat
import types

import numpy as np
import pytest

import core.userdata
from core.errors import DataError
from core.userdata import LOCK_NAME, MAX_SAMPLES, PersonalDataset, _samples_problem, write_samples

BLANK = np.zeros((28, 28))
UNCHANGED = ("Check that the folder is writable and the disk is not full, then try again; "
             "the previously saved samples are unchanged.")


@pytest.mark.parametrize("image, label, message", [
    (BLANK, True, "a label must be an integer digit 0..9, got True"),
    (BLANK, "3", "a label must be an integer digit 0..9, got '3'"),
    (BLANK, 10, "a label must be a digit 0..9, got 10"),
    (np.zeros((28, 27)), 3, "a sample must be a (28, 28) image, got shape (28, 27)"),
    (BLANK.astype(complex), 3, "a sample must hold real numbers, got complex128"),
    (np.full((28, 28), "a"), 3, "a sample must hold real numbers, got <U1"),
    (np.full((28, 28), 256.0), 3, "a sample's pixel values must be finite and within 0..255"),
    (np.full((28, 28), np.nan), 3, "a sample's pixel values must be finite and within 0..255"),
])
def test_a_sample_that_cannot_be_stored_is_refused_saying_why(tmp_path, image, label, message):
    store = PersonalDataset(tmp_path)
    with pytest.raises(ValueError) as caught:
        store.add(image, label)
    assert str(caught.value) == message
    assert len(store) == 0 and not (tmp_path / "handwriting.npz").exists()


def test_the_first_sample_makes_the_folder_with_its_parents(tmp_path):
    folder = tmp_path / "home" / "digitpad" / "samples"
    PersonalDataset(folder).add(BLANK, 4)
    assert list(PersonalDataset(folder).counts()) == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0]


def test_the_lock_file_is_readable_by_all_and_executable_by_none(tmp_path):
    old_umask = os.umask(0o022)
    try:
        PersonalDataset(tmp_path).add(BLANK, 1)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / LOCK_NAME).stat().st_mode) == 0o644


def _record_open_flags(monkeypatch) -> list:
    """The flags of every os.open core.userdata makes from now on (the files are opened for real)."""
    flags_seen = []
    real_open = os.open

    def recording_open(path, flags, *args, **kwargs):
        flags_seen.append(flags)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(core.userdata.os, "open", recording_open)
    return flags_seen


def test_the_lock_file_is_opened_without_blocking(tmp_path, monkeypatch):
    """Something planted where the lock goes (a pipe, a device) must never hang the app."""
    flags_seen = _record_open_flags(monkeypatch)
    core.userdata._open_lock(tmp_path, tmp_path / "handwriting.npz").close()
    assert len(flags_seen) == 1 and flags_seen[0] & os.O_NONBLOCK


def test_the_lock_file_opens_on_a_system_without_non_blocking_opens(tmp_path, monkeypatch):
    monkeypatch.delattr(os, "O_NONBLOCK")     # as on Windows
    flags_seen = _record_open_flags(monkeypatch)
    core.userdata._open_lock(tmp_path, tmp_path / "handwriting.npz").close()
    assert (tmp_path / LOCK_NAME).is_file()
    assert flags_seen == [os.O_RDWR | os.O_CREAT]    # no stand-in bit (1 is O_WRONLY: a bad access mode)


def test_a_lock_that_is_no_file_is_refused_by_name(tmp_path):
    os.mkfifo(tmp_path / LOCK_NAME)
    with pytest.raises(DataError) as caught:
        PersonalDataset(tmp_path).add(BLANK, 1)
    assert str(caught.value) == (f"Your handwriting samples could not be saved: the lock file {tmp_path / LOCK_NAME} "
                                 "is not a file. Remove it, then try again.")


def test_a_folder_that_cannot_be_made_is_named_with_the_file_and_reason(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    store = PersonalDataset(blocker / "samples")
    with pytest.raises(DataError) as caught:
        store.add(BLANK, 1)
    assert str(caught.value) == (f"Your handwriting samples could not be saved to {store.path}: "
                                 f"a part of its path is a file, not a folder. {UNCHANGED}")


@pytest.mark.parametrize("error, reason", [(OSError(28, "No space left on device"), "No space left on device"),
                                           (OSError("the disk went away"), "the disk went away")])
def test_a_failed_write_gives_the_systems_reason(tmp_path, monkeypatch, error, reason):
    def failing(path, arrays):
        raise error

    monkeypatch.setattr(core.userdata.atomic, "save_npz", failing)
    path = tmp_path / "handwriting.npz"
    with pytest.raises(DataError) as caught:
        write_samples(path, np.zeros((1, 28, 28), np.uint8), np.zeros(1, np.uint8))
    assert str(caught.value) == f"Your handwriting samples could not be saved to {path}: {reason}. {UNCHANGED}"


def arrays_shaped(count):
    """Stand-ins with only .dtype and .shape, as the archive's member headers are."""
    uint8 = np.dtype(np.uint8)
    return types.SimpleNamespace(dtype=uint8, shape=(count, 28, 28)), types.SimpleNamespace(dtype=uint8, shape=(count,))


def test_a_full_set_is_a_valid_file_and_one_more_is_not():
    assert _samples_problem(*arrays_shaped(MAX_SAMPLES)) is None
    assert _samples_problem(*arrays_shaped(MAX_SAMPLES + 1)) == (
        "it holds 50,001 samples, more than the 50,000 digitpad keeps")

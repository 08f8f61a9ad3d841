"""mnist_problem's messages: each case says what is wrong and what to do, word for word."""
import pytest

from core import data
from core.data import SHA256, mnist_problem


def test_an_empty_cache_folder_is_simply_not_downloaded_yet():
    assert mnist_problem() == "Full MNIST is not downloaded yet."


@pytest.mark.parametrize("chooser", ["argument", "environment"])
def test_a_chosen_folder_names_each_missing_and_damaged_file_and_what_to_do(tmp_path, monkeypatch, chooser):
    folder = tmp_path / "mnist"
    folder.mkdir()
    damaged, *missing = list(SHA256)
    (folder / damaged).write_bytes(b"not the MNIST file")
    if chooser == "argument":
        message, origin = mnist_problem(folder), "the data_dir argument"
    else:
        monkeypatch.setenv("DIGITPAD_DATA_DIR", str(folder))
        message, origin = mnist_problem(), "DIGITPAD_DATA_DIR"
    assert message == (f"Full MNIST cannot be used from {folder} (chosen by {origin}): "
                       f"{', '.join(missing)} missing and {damaged} damaged (not the exact MNIST content). "
                       "Put good copies of the four MNIST files there.")


def test_a_cache_folder_with_some_files_missing_is_not_called_not_downloaded(monkeypatch):
    folder = data.mnist_folder()
    folder.mkdir(parents=True)
    present, *missing = list(SHA256)
    monkeypatch.setattr(data, "file_verifies", lambda path, name: True)   # as if the one file were good
    (folder / present).write_bytes(b"stand-in")
    assert mnist_problem() == (f"Full MNIST cannot be used from {folder}: {', '.join(missing)} missing. "
                               "Download full MNIST again to replace them.")


def test_a_chosen_folder_that_cannot_be_looked_at_names_its_chooser(tmp_path):
    folder = tmp_path / ("x" * 300)          # longer than a file name may be
    message = mnist_problem(folder)
    assert message.startswith("Full MNIST cannot be used from ")
    assert message.endswith("Fix it or choose another folder (this one was chosen by the data_dir argument).")


def test_a_cache_folder_that_cannot_be_looked_at_says_which_settings_to_change(tmp_path, monkeypatch):
    from core.safefile import path_problem, shown_path

    folder = tmp_path / ("c" * 300)          # longer than a file name may be
    monkeypatch.setenv("DIGITPAD_CACHE_DIR", str(folder))
    assert mnist_problem() == (f"Full MNIST cannot be used from {shown_path(folder)}: {path_problem(folder)}. "
                               "Fix that folder or set DIGITPAD_CACHE_DIR to another; or set DIGITPAD_DATA_DIR "
                               "to a folder holding full MNIST.")


def test_a_file_that_cannot_be_looked_at_is_named_after_the_reason(tmp_path):
    from core.safefile import path_problem

    folder = tmp_path / "mnist"
    folder.mkdir()
    looped = folder / list(SHA256)[1]
    looped.symlink_to(looped.name)          # a link to itself: stat fails with "too many levels"
    reason = path_problem(looped)
    assert reason
    assert mnist_problem(folder) == (f"Full MNIST cannot be used from {folder}: {reason} ({looped.name}). "
                                     "Fix it or choose another folder (this one was chosen by the data_dir argument).")

"""digitpad-train's helpers that the in-process runs seldom reach: --require-full-mnist's check, the
names of fallback files, and pointing stdout at the null device once its reader has gone."""
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import pytest

import core.data
from core import cli
from core.dataset_choice import DatasetChoice
from core.errors import DataError
from core.paths import user_data_dir


def test_require_full_mnist_refuses_the_sample_by_name():
    with pytest.raises(DataError) as caught:
        cli.full_mnist_only(DatasetChoice("sample", 40, 30))
    assert str(caught.value).startswith("Not training: --require-full-mnist (used by `make model`) accepts full "
                                        "MNIST only. --dataset sample was asked for. (`make model MNIST=DIR`")


def test_require_full_mnist_says_what_is_wrong_with_the_folder(tmp_path):
    with pytest.raises(DataError) as caught:
        cli.full_mnist_only(DatasetChoice("auto", data_dir=tmp_path))  # an empty folder
    assert core.data.mnist_problem(tmp_path) in str(caught.value)
    assert str(tmp_path) in str(caught.value) and "--dataset sample" not in str(caught.value)


@pytest.mark.parametrize("source", ["auto", "mnist"])
def test_require_full_mnist_turns_a_ready_folder_into_mnist_only(source, tmp_path, monkeypatch):
    ready = tmp_path / "mnist"
    monkeypatch.setattr(core.data, "mnist_problem", lambda folder: None if folder == ready else "not this one")
    chosen = cli.full_mnist_only(DatasetChoice(source, 100, 50, data_dir=ready))
    assert chosen == DatasetChoice("mnist", 100, 50, data_dir=ready)  # no fallback to the sample from here


def test_fallback_files_are_named_by_the_time_and_process(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITPAD_USER_DIR", str(tmp_path))
    before = time.time()
    first, second = cli.fallback_paths(Path("model.npz"))
    after = time.time()
    assert first.parent == user_data_dir() and second.parent == Path(tempfile.gettempdir())
    assert first.name == second.name
    found = re.fullmatch(rf"digitpad-unsaved-(\d{{8}}-\d{{6}})-{os.getpid()}\.npz", first.name)
    assert found, first.name
    stamp = time.mktime(time.strptime(found.group(1), "%Y%m%d-%H%M%S"))  # local time, whole seconds
    assert int(before) - 1 <= stamp <= after


def test_silenced_stdout_writes_to_the_null_device(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    with open(target, "w") as stream:
        monkeypatch.setattr(sys, "stdout", stream)
        cli._silence_stdout()
        assert os.write(stream.fileno(), b"unseen") == 6  # the descriptor still takes writes ...
    assert target.read_bytes() == b""  # ... and they go nowhere


class _BadDescriptor:
    def fileno(self):
        return -1  # dup2 onto it fails with OSError (EBADF)


def _closed_stream(tmp_path):
    stream = open(tmp_path / "closed.txt", "w")
    stream.close()  # fileno() raises ValueError
    return stream


@pytest.mark.parametrize("make_stdout", [lambda tmp_path: None,  # pythonw: no stdout (AttributeError)
                                         _closed_stream,
                                         lambda tmp_path: _BadDescriptor()],
                         ids=["none", "closed", "bad descriptor"])
def test_silencing_stdout_never_raises(make_stdout, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "stdout", make_stdout(tmp_path))
    cli._silence_stdout()


def test_silencing_stdout_leaves_no_descriptor_open_even_when_it_fails(tmp_path, monkeypatch):
    descriptors = Path("/proc/self/fd")
    if not descriptors.is_dir():
        pytest.skip("needs /proc to count open descriptors")
    monkeypatch.setattr(sys, "stdout", _BadDescriptor())
    before = len(list(descriptors.iterdir()))
    for _ in range(5):
        cli._silence_stdout()
    assert len(list(descriptors.iterdir())) == before

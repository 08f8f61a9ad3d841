"""download_mnist against a loopback HTTP server that serves tiny synthetic MNIST files or misbehaves."""
import gzip
import hashlib
import os

import numpy as np
import pytest
from mnist_server import MnistServer, closed_port_url

import core.download
from core.data import load_dataset, load_mnist, mnist_available
from core.download import download_mnist, file_verifies
from core.errors import DataError, DownloadCancelled, DownloadError
from core.idx import encode_idx_gz
from core.paths import cache_dir

TIMEOUT = 0.5
NAMES = tuple(core.download.SHA256)


def synthetic_arrays(seed=0):
    """{file name: array} shaped like MNIST, 30 train and 10 test items."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for prefix, count in (("train", 30), ("t10k", 10)):
        arrays[f"{prefix}-images-idx3-ubyte.gz"] = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        arrays[f"{prefix}-labels-idx1-ubyte.gz"] = rng.integers(0, 10, count, dtype=np.uint8)
    return arrays


@pytest.fixture
def arrays():
    return synthetic_arrays()


@pytest.fixture
def files(arrays, monkeypatch):
    """{file name: .gz bytes}; core.download's checksum table is switched to these files."""
    gz = {name: encode_idx_gz(array) for name, array in arrays.items()}
    table = {name: hashlib.sha256(gzip.decompress(blob)).hexdigest() for name, blob in gz.items()}
    monkeypatch.setattr(core.download, "SHA256", table)
    return gz


@pytest.fixture
def good(files):
    with MnistServer(files) as server:
        yield server


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_writes_the_four_files_and_reports_progress(tmp_path, files, good):
    calls = []
    download_mnist(tmp_path, progress=lambda *args: calls.append(args), mirrors=[good.url], timeout=TIMEOUT)
    assert leftovers(tmp_path) == sorted(NAMES)
    for name in NAMES:
        assert (tmp_path / name).read_bytes() == files[name]
        mine = [(done, total) for done, total, file_name in calls if file_name == name]
        assert mine[0] == (0, len(files[name]))
        assert mine[-1] == (len(files[name]), len(files[name]))
        assert [done for done, _ in mine] == sorted(done for done, _ in mine)


def test_load_mnist_downloads_into_the_cache_when_missing(arrays, good, monkeypatch):
    monkeypatch.setattr(core.download, "MIRRORS", (good.url,))
    images, labels = load_mnist("test")
    np.testing.assert_array_equal(images, arrays["t10k-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(labels, arrays["t10k-labels-idx1-ubyte.gz"])
    assert leftovers(cache_dir()) == sorted(NAMES)
    assert mnist_available()


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        ("403", "HTTP 403"),
        ("404", "HTTP 404"),
        ("500", "HTTP 500"),
        ("hang", f"no answer within {TIMEOUT} s"),
        ("cut", "connection closed after"),
        ("wrong", "checksum mismatch"),
    ],
)
@pytest.mark.faults
@pytest.mark.keeps_data
def test_a_failing_mirror_raises_and_leaves_nothing(tmp_path, files, behaviour, reason):
    with MnistServer(files, behaviour) as bad:
        with pytest.raises(DownloadError) as caught:
            download_mnist(tmp_path, mirrors=[bad.url], timeout=TIMEOUT)
    assert f"{bad.url}{NAMES[0]}: {reason}" in str(caught.value)
    assert leftovers(tmp_path) == []


@pytest.mark.faults
@pytest.mark.keeps_data
def test_refused_connection_is_reported(tmp_path, files):
    refused = closed_port_url()
    with pytest.raises(DownloadError, match="connection refused"):
        download_mnist(tmp_path, mirrors=[refused], timeout=TIMEOUT)
    assert leftovers(tmp_path) == []


@pytest.mark.faults
def test_error_names_every_mirror_with_its_own_reason(tmp_path, files):
    refused = closed_port_url()
    with MnistServer(files, "404") as missing, MnistServer(files, "wrong") as wrong:
        with pytest.raises(DownloadError) as caught:
            download_mnist(tmp_path, mirrors=[refused, missing.url, wrong.url], timeout=TIMEOUT)
    lines = str(caught.value).splitlines()
    assert f"  {refused}{NAMES[0]}: connection refused" in lines
    assert any(line.startswith(f"  {missing.url}{NAMES[0]}: HTTP 404") for line in lines)
    assert any(line.startswith(f"  {wrong.url}{NAMES[0]}: checksum mismatch") for line in lines)


@pytest.mark.faults
@pytest.mark.keeps_data
def test_good_mirror_after_bad_ones_wins(tmp_path, files, good):
    refused = closed_port_url()
    with MnistServer(files, "500") as broken, MnistServer(files, "cut") as cut, MnistServer(files, "wrong") as wrong:
        download_mnist(tmp_path, mirrors=[refused, broken.url, cut.url, wrong.url, good.url], timeout=TIMEOUT)
        assert len(broken.requests) == len(cut.requests) == len(wrong.requests) == len(NAMES)
    assert leftovers(tmp_path) == sorted(NAMES)
    assert all(file_verifies(tmp_path / name, name) for name in NAMES)


@pytest.mark.faults
def test_a_hanging_mirror_is_abandoned_for_the_next(tmp_path, files, good):
    with MnistServer(files, "hang") as hang:
        download_mnist(tmp_path, mirrors=[hang.url, good.url], timeout=TIMEOUT)
    assert len(good.requests) == len(NAMES)
    assert leftovers(tmp_path) == sorted(NAMES)


def test_verified_files_are_not_downloaded_again(tmp_path, files, good):
    download_mnist(tmp_path, mirrors=[good.url], timeout=TIMEOUT)
    good.requests.clear()
    download_mnist(tmp_path, mirrors=[good.url], timeout=TIMEOUT)
    assert good.requests == []


@pytest.mark.faults
def test_a_damaged_cached_file_is_replaced(tmp_path, files, good):
    damaged = tmp_path / NAMES[1]
    damaged.write_bytes(files[NAMES[1]][:-9])
    (tmp_path / NAMES[2]).write_bytes(files[NAMES[2]])
    download_mnist(tmp_path, mirrors=[good.url], timeout=TIMEOUT)
    fetched = sorted(path.rsplit("/", 1)[-1] for path in good.requests)
    assert fetched == sorted([NAMES[0], NAMES[1], NAMES[3]])
    assert damaged.read_bytes() == files[NAMES[1]]


@pytest.mark.faults
@pytest.mark.keeps_data
def test_cancel_mid_download_keeps_nothing_partial(tmp_path, files, good):
    started = []

    def progress(done, total, name):
        started.append(name)

    with pytest.raises(DownloadCancelled):
        download_mnist(tmp_path, progress=progress, should_cancel=lambda: bool(started), mirrors=[good.url])
    assert started and set(started) == {NAMES[0]}
    assert leftovers(tmp_path) == []


@pytest.mark.faults
def test_mnist_available_needs_all_four_verified(tmp_path, files, good):
    assert not mnist_available(tmp_path)
    download_mnist(tmp_path, mirrors=[good.url], timeout=TIMEOUT)
    assert mnist_available(tmp_path)
    (tmp_path / NAMES[3]).write_bytes(gzip.compress(b"\0" * 100))
    assert not mnist_available(tmp_path)


@pytest.mark.faults
@pytest.mark.keeps_data
def test_auto_falls_back_to_the_sample_and_says_why(files, monkeypatch):
    monkeypatch.setattr(core.download, "MIRRORS", (closed_port_url(),))
    messages = []
    train_set, test_set, description = load_dataset("auto", log=messages.append)
    assert len(messages) == 1
    assert "connection refused" in messages[0] and "sample" in messages[0]
    assert "sample" in description
    assert train_set[0].shape == (10_000, 28, 28) and test_set[0].shape == (2_000, 28, 28)
    assert leftovers(cache_dir()) == []


def test_auto_uses_full_mnist_when_it_downloads(arrays, good, monkeypatch):
    monkeypatch.setattr(core.download, "MIRRORS", (good.url,))
    messages = []
    train_set, test_set, description = load_dataset("auto", log=messages.append)
    assert messages == []
    np.testing.assert_array_equal(train_set[1], arrays["train-labels-idx1-ubyte.gz"])
    assert len(test_set[1]) == 10
    assert str(cache_dir()) in description


@pytest.mark.faults
def test_source_mnist_raises_instead_of_falling_back(files, monkeypatch):
    monkeypatch.setattr(core.download, "MIRRORS", (closed_port_url(),))
    with pytest.raises(DownloadError):
        load_dataset("mnist")


@pytest.mark.faults
def test_auto_cancelled_download_is_not_turned_into_a_fallback(files, good, monkeypatch):
    monkeypatch.setattr(core.download, "MIRRORS", (good.url,))
    with pytest.raises(DownloadCancelled):
        load_dataset("auto", should_cancel=lambda: True, log=pytest.fail)


@pytest.mark.faults
@pytest.mark.keeps_data
def test_a_program_ending_as_the_partial_file_is_created_leaves_nothing(tmp_path, files, monkeypatch):
    """The .part file is registered for clean-up at exit before it exists, not just after."""
    real_open = os.open
    left_after_exit = []

    def open_then_exit(path, flags, *args, **kwargs):
        fd = real_open(path, flags, *args, **kwargs)
        if str(path).endswith(core.download.TEMP_SUFFIX):
            core.download._remove_unfinished_downloads()          # what atexit runs at that moment
            left_after_exit.append(os.path.exists(path))
        return fd

    monkeypatch.setattr(os, "open", open_then_exit)
    with pytest.raises(DownloadError):
        download_mnist(tmp_path, mirrors=[closed_port_url()], timeout=TIMEOUT)
    assert left_after_exit == [False]
    assert leftovers(tmp_path) == []


@pytest.mark.faults
def test_a_folder_that_refuses_the_partial_file_is_reported_and_nothing_stays_registered(tmp_path, files, monkeypatch):
    def refuse(path, flags, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(DataError, match=r"^Cannot save train-images-idx3-ubyte\.gz in .*: Permission denied\.$"):
        download_mnist(tmp_path, mirrors=[closed_port_url()], timeout=TIMEOUT)
    assert not core.download._in_flight


def test_the_clean_up_leaves_another_downloads_partial_file_alone(tmp_path, files, monkeypatch):
    monkeypatch.setattr(core.download.secrets, "token_hex", lambda n: "aaaaaaaaaaaa")
    theirs = [tmp_path / ".train-images-idx3-ubyte.gz.aaaaaaaaaaaa.part",      # the same token, no name of ours
              tmp_path / ".train-images-idx3-ubyte.gz.bbbbbbbbbbbb.x1y2z3.part"]
    for path in theirs:
        path.write_bytes(b"someone else's")
    real_open = os.open
    ours = []

    def open_then_exit(path, flags, *args, **kwargs):
        fd = real_open(path, flags, *args, **kwargs)
        if str(path).endswith(core.download.TEMP_SUFFIX):
            ours.append(os.path.basename(path))
            core.download._remove_unfinished_downloads()          # what atexit runs at that moment
        return fd

    monkeypatch.setattr(os, "open", open_then_exit)
    with pytest.raises(DownloadError):
        download_mnist(tmp_path, mirrors=[closed_port_url()], timeout=TIMEOUT)
    assert [path.read_bytes() for path in theirs] == [b"someone else's"] * 2
    assert ours and not any((tmp_path / name).exists() for name in ours)


@pytest.mark.faults
def test_a_file_replaced_by_same_size_different_content_is_verified_afresh(tmp_path, files):
    path = tmp_path / NAMES[2]
    path.write_bytes(files[NAMES[2]])
    assert file_verifies(path, NAMES[2])
    stat = path.stat()
    other = encode_idx_gz(np.full((10, 28, 28), 7, np.uint8))
    other = (other + b"\0" * len(files[NAMES[2]]))[:len(files[NAMES[2]])]     # same size, other bytes
    assert len(other) == stat.st_size and other != files[NAMES[2]]
    path.write_bytes(other)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))     # a later copy
    assert not file_verifies(path, NAMES[2])


def test_a_file_verifies_only_under_its_own_name_and_path(tmp_path, files):
    path = tmp_path / NAMES[2]
    path.write_bytes(files[NAMES[2]])
    copy = tmp_path / "elsewhere.gz"
    copy.write_bytes(gzip.compress(b"\1" * 5000)[:len(files[NAMES[2]])].ljust(len(files[NAMES[2]]), b"\0"))
    os.utime(copy, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns))
    assert file_verifies(path, NAMES[2])
    assert not file_verifies(path, NAMES[3])                 # same file, another expected digest
    assert not file_verifies(copy, NAMES[2])                 # another file of the same size and mtime
    assert not file_verifies(tmp_path / "missing.gz", NAMES[2])


def test_a_claim_covers_its_own_partial_files_in_its_folder_only(tmp_path, monkeypatch):
    folder, elsewhere = tmp_path / "cache", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    prefix = ".train-images-idx3-ubyte.gz.aaaaaaaaaaaa."
    ours = prefix + "x1y2z3" + core.download.TEMP_SUFFIX
    names = [ours,
             prefix + core.download.TEMP_SUFFIX,                    # no random part: mkstemp never makes it
             prefix + "x1y2z3",                                     # not a partial file
             ".train-images-idx3-ubyte.gz.bbbbbbbbbbbb.x1y2z3" + core.download.TEMP_SUFFIX]  # another claim
    for name in names:
        (folder / name).write_bytes(b"")
        (elsewhere / name).write_bytes(b"")
    monkeypatch.chdir(elsewhere)  # the working folder holds look-alikes that are not claimed
    assert core.download._claimed_files(str(folder), prefix) == [os.path.join(str(folder), ours)]
    assert core.download._claimed_files(str(tmp_path / "gone"), prefix) == []

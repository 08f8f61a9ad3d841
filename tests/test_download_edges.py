"""core.download's edges: exact failure messages, pace limits, cancelling, bookkeeping of temporary files."""
import gzip
import hashlib
import http.client
import os
import socket
import threading
import urllib.error

import pytest
from mnist_server import MnistServer, closed_port_url

import core.download
from core.download import (DEADLINE_S, MIN_RATE, RATE_GRACE_S, _check_pace, _MirrorFailed, download_mnist)
from core.errors import DataError, DownloadCancelled, DownloadError

TIMEOUT = 0.5
NAMES = tuple(core.download.SHA256)
CANCELLED = "The MNIST download was cancelled; no partial file was kept."
ADVICE = ("Check the internet connection and try again, or put the four MNIST .gz files in a folder "
          "and set DIGITPAD_DATA_DIR to it.")


@pytest.fixture
def files(monkeypatch):
    """{file name: small .gz bytes}, with core.download's checksum table switched to them."""
    gz = {name: gzip.compress(f"content of {name}".encode(), mtime=0) for name in NAMES}
    table = {name: hashlib.sha256(gzip.decompress(blob)).hexdigest() for name, blob in gz.items()}
    monkeypatch.setattr(core.download, "SHA256", table)
    return gz


@pytest.mark.parametrize("done, elapsed", [
    (0, 1.0),                                  # a slow start inside the grace period is not judged
    (0, float(RATE_GRACE_S)),                  # nor at its very end
    (MIN_RATE * 20, 20.0),                     # exactly the lowest acceptable rate
    (10**9, float(DEADLINE_S)),                # fast enough, at the deadline itself
])
def test_pace_within_the_limits_goes_on(done, elapsed):
    _check_pace(done, elapsed)


@pytest.mark.parametrize("done, elapsed, message", [
    (20_000, 20.0, "cut off after 20 s: 1,000 bytes/s, below the 8,192 bytes/s needed (too slow)"),
    (MIN_RATE * 20 - 1, 20.0, "cut off after 20 s: 8,192 bytes/s, below the 8,192 bytes/s needed (too slow)"),
    (10**9, DEADLINE_S + 0.5, "cut off after 600 s with only 1,000,000,000 bytes received (too slow)"),
])
def test_pace_outside_the_limits_cuts_the_mirror_off(done, elapsed, message):
    with pytest.raises(_MirrorFailed) as caught:
        _check_pace(done, elapsed)
    assert str(caught.value) == message


def test_cancelling_before_the_first_file_makes_the_folder_and_says_so(tmp_path):
    folder = tmp_path / "a" / "b"
    with pytest.raises(DownloadCancelled) as caught:
        download_mnist(folder, should_cancel=lambda: True, mirrors=[closed_port_url()])
    assert str(caught.value) == CANCELLED and folder.is_dir() and list(folder.iterdir()) == []


def test_without_a_folder_the_cache_folder_is_used(tmp_path, monkeypatch):
    cache = tmp_path / "cache" / "digitpad"
    monkeypatch.setattr(core.download, "cache_dir", lambda: cache)
    with pytest.raises(DownloadCancelled):
        download_mnist(should_cancel=lambda: True)
    assert cache.is_dir()


def test_cancelling_is_honoured_even_when_every_file_is_already_there(tmp_path, files):
    for name, blob in files.items():
        (tmp_path / name).write_bytes(blob)
    with pytest.raises(DownloadCancelled):
        download_mnist(tmp_path, should_cancel=lambda: True, mirrors=[closed_port_url()])


def test_cancelling_while_a_file_is_checked_stops_before_connecting(tmp_path, files):
    answers = iter([False])                       # not yet at the first check; pressed by the next

    with pytest.raises(DownloadCancelled):
        download_mnist(tmp_path, should_cancel=lambda: next(answers, True), mirrors=[closed_port_url()])
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_cannot_be_made_is_named_with_the_reason(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    with pytest.raises(DataError) as caught:
        download_mnist(blocker / "mnist", mirrors=[closed_port_url()])
    assert str(caught.value) == f"Cannot create the folder {blocker / 'mnist'} for MNIST: Not a directory."


def test_a_damaged_file_that_cannot_be_deleted_is_named_with_the_reason(tmp_path, files, monkeypatch):
    damaged = tmp_path / NAMES[0]
    damaged.write_bytes(b"not gzip")

    def refuse(self, missing_ok=False):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(core.download.Path, "unlink", refuse)
    with pytest.raises(DataError) as caught:
        download_mnist(tmp_path, mirrors=[closed_port_url()])
    assert str(caught.value) == f"{damaged} is damaged and cannot be deleted (Permission denied); delete it by hand."


def test_every_mirror_failing_is_one_message_with_each_reason_and_the_advice(tmp_path, files):
    refused = closed_port_url() + "MNIST_X/"      # a path ending in X: the address is used as given
    with MnistServer(files, "wrong") as wrong:
        with pytest.raises(DownloadError) as caught:
            download_mnist(tmp_path, mirrors=[refused, wrong.url, "nowhere/"], timeout=TIMEOUT)
    assert str(caught.value) == (
        f"Could not download {NAMES[0]} from any mirror:\n"
        f"  {refused}{NAMES[0]}: connection refused\n"
        f"  {wrong.url}{NAMES[0]}: checksum mismatch (the content is not the expected MNIST file)\n"
        f"  nowhere/{NAMES[0]}: not a usable address (unknown url type: 'nowhere/{NAMES[0]}')\n" + ADVICE)
    assert list(tmp_path.iterdir()) == [] and core.download._in_flight == set()


def test_a_finished_download_leaves_no_claim_behind(tmp_path, files):
    with MnistServer(files) as good:
        download_mnist(tmp_path, mirrors=[good.url], timeout=TIMEOUT)
    assert core.download._in_flight == set()


def test_a_connection_attempt_that_times_out_names_the_timeout(tmp_path, files, monkeypatch):
    def slow_connect(url, timeout):
        raise urllib.error.URLError(TimeoutError("timed out"))

    monkeypatch.setattr(core.download.urllib.request, "urlopen", slow_connect)
    with pytest.raises(DownloadError) as caught:
        download_mnist(tmp_path, mirrors=["http://example.invalid/"], timeout=0.25)
    assert f"{NAMES[0]}: no answer within 0.25 s\n" in str(caught.value)


class CutChunkedServer:
    """Answers every request with a chunked body promising 100 bytes, sends 5 (and `after`) and closes."""

    def __init__(self, after=b"\r\n"):
        self.after = after

    def __enter__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self

    def _serve(self):
        with self.sock:
            conn, _ = self.sock.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"5\r\nhello" + self.after)

    def __exit__(self, *exc):
        self.thread.join(5)


# Cut inside the chunk's closing CRLF: http.client's IncompleteRead then holds that "\r", which is
# framing, not content: only the 5 bytes of the body count.
@pytest.mark.parametrize("after", [b"\r\n", b"\r", b""], ids=["after-chunk", "inside-crlf", "before-crlf"])
def test_a_chunked_answer_cut_short_says_how_much_arrived(tmp_path, files, after):
    with CutChunkedServer(after) as cut:
        with pytest.raises(DownloadError) as caught:
            download_mnist(tmp_path, mirrors=[cut.url], timeout=TIMEOUT)
    assert f"{NAMES[0]}: connection closed after 5 of 100 bytes\n" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


class FullDisk:
    def write(self, chunk):
        raise OSError(28, "No space left on device")


def test_a_failed_write_names_the_file_and_folder(tmp_path, files):
    target = tmp_path / NAMES[0]
    with MnistServer(files) as good:
        with pytest.raises(DataError) as caught:
            core.download._stream(good.url + NAMES[0], FullDisk(), target, None, None, TIMEOUT)
    assert str(caught.value) == f"Cannot save {NAMES[0]} in {tmp_path}: No space left on device."


def test_a_failed_rename_names_the_file_and_folder(tmp_path):
    with pytest.raises(DataError) as caught:
        core.download._move(str(tmp_path / "gone.part"), tmp_path / NAMES[0])
    assert str(caught.value) == f"Cannot save {NAMES[0]} in {tmp_path}: No such file or directory."


def test_a_file_that_is_not_gzip_is_named_so(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(b"plain text, not gzip")
    with pytest.raises(_MirrorFailed) as caught:
        core.download._safe_sha256(path)
    assert str(caught.value).startswith("not a valid gzip file (Not a gzipped file")


def test_a_pipe_is_never_hashed_and_is_named(tmp_path):
    pipe = tmp_path / NAMES[0]
    os.mkfifo(pipe)
    with pytest.raises(_MirrorFailed) as caught:
        core.download._decompressed_sha256(pipe)
    assert str(caught.value).startswith(f"{NAMES[0]}: ") and len(str(caught.value)) > len(NAMES[0]) + 2


def test_a_gzip_bomb_is_stopped_at_the_limit_before_the_rest_is_read(tmp_path, monkeypatch):
    """The size limit is checked as the content comes, never after reading it all: a bomb whose end is
    damaged is still refused for its size, which it would not be if it were read whole first."""
    monkeypatch.setattr(core.download, "MAX_DECOMPRESSED_BYTES", 1000)
    bomb = gzip.compress(bytes(3 * 1024 * 1024), mtime=0)
    path = tmp_path / "bomb.gz"
    path.write_bytes(bomb[:-100])
    with pytest.raises(_MirrorFailed) as caught:
        core.download._safe_sha256(path)
    assert str(caught.value) == "decompresses to more than 1,000 bytes; not an MNIST file"

"""A mirror that trickles bytes: every read is answered within the timeout, the file never
arrives. It must be cut off (overall deadline, minimum rate), the next mirror tried, and
nothing partial kept. Served by tests/mnist_server.py's "trickle" behaviour on loopback."""
import pytest
from mnist_server import MnistServer

import core.download
from core.download import SHA256, download_mnist
from core.errors import DownloadError

pytestmark = pytest.mark.faults

FIRST = next(iter(SHA256))
JUNK = {name: b"x" * 4000 for name in SHA256}


@pytest.mark.keeps_data
def test_a_trickling_mirror_is_cut_off_for_its_rate_and_the_next_one_tried(tmp_path, monkeypatch):
    monkeypatch.setattr(core.download, "RATE_GRACE_S", 0.5)
    monkeypatch.setattr(core.download, "MIN_RATE", 1000)          # the trickle gives about 20 bytes/s
    with MnistServer(JUNK, "trickle") as slow, MnistServer(JUNK, "403") as other:
        with pytest.raises(DownloadError) as caught:
            download_mnist(tmp_path, mirrors=[slow.url, other.url], timeout=5)
        assert other.requests                                      # the next mirror was tried
    message = str(caught.value)
    assert f"{slow.url}{FIRST}: cut off after" in message and "below the 1,000 bytes/s needed" in message
    assert f"{other.url}{FIRST}: HTTP 403" in message
    assert list(tmp_path.iterdir()) == []                          # nothing partial kept


@pytest.mark.keeps_data
def test_a_trickling_mirror_is_cut_off_at_the_overall_deadline(tmp_path, monkeypatch):
    monkeypatch.setattr(core.download, "DEADLINE_S", 0.5)
    monkeypatch.setattr(core.download, "MIN_RATE", 0)              # only the deadline can end it
    with MnistServer(JUNK, "trickle") as slow:
        with pytest.raises(DownloadError, match="cut off after 0.5 s with only"):
            download_mnist(tmp_path, mirrors=[slow.url], timeout=5)
    assert list(tmp_path.iterdir()) == []

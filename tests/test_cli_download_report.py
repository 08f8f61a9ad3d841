"""The CLI is never silent while it waits on a mirror: it names each one it tries and the wait."""
import pytest

import core.download
from core import cli
from mnist_server import MnistServer, closed_port_url

IMAGES = "train-images-idx3-ubyte.gz"


@pytest.fixture
def dead_mirrors(monkeypatch):
    with MnistServer({}, "404") as missing:
        urls = (closed_port_url(), missing.url)
        monkeypatch.setattr(core.download, "MIRRORS", urls)
        yield urls


def test_each_mirror_tried_is_named_with_its_wait_before_the_error(capsys, tmp_path, dead_mirrors):
    status = cli.main(["--dataset", "mnist", "--save", str(tmp_path / "m.npz")])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 1
    trying = [line for line in lines if line.startswith("Trying ")]
    wait = f"giving up on it after 10 s without an answer, or {core.download.DEADLINE_S} s in all"
    assert trying == [f"Trying {url}{IMAGES} ({wait})" for url in dead_mirrors]
    assert lines[-1].startswith("digitpad-train: error: Could not download")


def test_the_report_goes_to_the_stderr_of_the_moment(capsys, tmp_path, dead_mirrors):
    """A second run in the same process (tests, scripts) still reports, to its own stderr."""
    cli.main(["--dataset", "mnist", "--save", str(tmp_path / "m.npz")])
    capsys.readouterr()
    cli.main(["--dataset", "mnist", "--save", str(tmp_path / "m.npz")])
    assert capsys.readouterr().err.count("Trying ") == 2

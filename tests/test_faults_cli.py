"""digitpad-train facing damaged data, dead mirrors, bad model files and unwritable places.

Every failure must be one `digitpad-train: error: ...` line on stderr (no traceback) and exit
status 1, with no model file written and any earlier one left byte for byte as it was.
Most tests call core.cli.main in-process (fast); Ctrl+C during a download runs a real process.
"""
import gzip
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from mnist_server import MnistServer, closed_port_url

import core.download
from core import cli
from core.data import SPLIT_FILES
from core.idx import encode_idx, encode_idx_gz
from core.network import CNN
from core.paths import cache_dir

pytestmark = pytest.mark.faults

QUICK = ["--epochs", "1", "--train-size", "32", "--test-size", "50", "--no-augment", "--batch-size", "16"]
IMAGES, LABELS = SPLIT_FILES["train"]


def run_main(capsys, *argv):
    """(exit status, stdout, stderr) of `digitpad-train argv`."""
    status = cli.main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out, err


def the_error_line(err: str) -> str:
    """The single error line; it must be the last line of stderr and no traceback may precede it."""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("digitpad-train:")]
    assert len(errors) == 1, err
    assert lines[-1] == errors[0]
    return errors[0]


def write_mnist_folder(folder, count=20):
    """A small but valid MNIST folder: four IDX .gz files, `count` train and test items."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for images_name, labels_name in SPLIT_FILES.values():
        (folder / images_name).write_bytes(encode_idx_gz(rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)))
        (folder / labels_name).write_bytes(encode_idx_gz(rng.integers(0, 10, count, dtype=np.uint8)))
    return folder


def header(dims, dtype=0x08, zeros=b"\0\0") -> bytes:
    return zeros + bytes([dtype, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)


GOOD_IMAGES = encode_idx_gz(np.zeros((20, 28, 28), np.uint8))
# (file to damage, its new content, words the error line must contain)
DAMAGED = {
    "empty": (IMAGES, b"", "is empty"),
    "truncated gzip": (IMAGES, GOOD_IMAGES[: len(GOOD_IMAGES) // 2], "is truncated"),
    "not gzip": (IMAGES, encode_idx(np.zeros((20, 28, 28), np.uint8)), "is not a gzip file"),
    "wrong magic": (IMAGES, gzip.compress(header((20, 28, 28), zeros=b"\1\0") + bytes(20 * 784)),
                    "does not start with two zero bytes"),
    "wrong data type": (IMAGES, gzip.compress(header((20, 28, 28), dtype=0x0D) + bytes(20 * 784)), "IDX type 0x0d"),
    "size disagrees with dims": (IMAGES, gzip.compress(header((20, 28, 28)) + bytes(7 * 784)),
                                 "of the 15,680 data bytes"),
    "billions of items": (IMAGES, gzip.compress(header((3_000_000_000, 28, 28)) + bytes(784)),
                          "claims 3,000,000,000 images"),
    "count mismatch": (LABELS, encode_idx_gz(np.zeros(19, np.uint8)), "holds 20 images but"),
    "label out of range": (LABELS, encode_idx_gz(np.full(20, 10, np.uint8)), "holds the label 10"),
}


@pytest.mark.keeps_data
@pytest.mark.parametrize("case", DAMAGED)
def test_damaged_data_dir_is_one_error_line_and_keeps_the_old_model(capsys, tmp_path, case):
    name, content, words = DAMAGED[case]
    data = write_mnist_folder(tmp_path / "mnist")
    (data / name).write_bytes(content)
    save = tmp_path / "model.npz"
    save.write_bytes(b"the user's earlier model")
    status, out, err = run_main(capsys, "--dataset", "mnist", "--data-dir", data, "--save", save, *QUICK)
    line = the_error_line(err)
    assert status == 1
    assert words in line and name in line
    assert "Training" not in err and "Test Accuracy" not in out     # it stopped before training
    assert save.read_bytes() == b"the user's earlier model"


@pytest.mark.keeps_data
@pytest.mark.parametrize("how", ["--data-dir", "DIGITPAD_DATA_DIR"])
def test_a_damaged_data_dir_the_user_named_is_an_error_even_with_auto(capsys, tmp_path, monkeypatch, how):
    """The user asked for that data: training on the bundled sample instead would give another model."""
    data = write_mnist_folder(tmp_path / "mnist")
    (data / IMAGES).write_bytes(b"")
    save = tmp_path / "m.npz"
    save.write_bytes(b"the user's earlier model")
    chosen = ["--data-dir", data] if how == "--data-dir" else []
    if how == "DIGITPAD_DATA_DIR":
        monkeypatch.setenv("DIGITPAD_DATA_DIR", str(data))
    status, out, err = run_main(capsys, *chosen, "--save", save, *QUICK)
    line = the_error_line(err)
    assert status == 1 and "is empty" in line and IMAGES in line
    assert "Using the MNIST sample" not in err and "Test Accuracy" not in out
    assert save.read_bytes() == b"the user's earlier model"


def test_a_damaged_default_cache_with_auto_says_why_and_trains_on_the_sample(capsys, tmp_path):
    write_mnist_folder(cache_dir())
    (cache_dir() / IMAGES).write_bytes(b"")
    status, out, err = run_main(capsys, "--no-download", "--save", tmp_path / "m.npz", *QUICK)
    assert status == 0 and "Traceback" not in err
    notice = [line for line in err.splitlines() if "Using the MNIST sample" in line]
    assert len(notice) == 1
    assert "MNIST sample" in out and CNN.load(tmp_path / "m.npz").num_filters == 8


@pytest.fixture
def dead_mirrors(monkeypatch):
    """Five mirrors that each fail in their own way; core.download is pointed at them."""
    junk = {name: b"x" * 4000 for name in core.download.SHA256}
    servers = [MnistServer(junk, behaviour) for behaviour in ("403", "500", "cut", "wrong")]
    for server in servers:
        server.__enter__()
    urls = [closed_port_url()] + [server.url for server in servers]
    monkeypatch.setattr(core.download, "MIRRORS", tuple(urls))
    yield urls
    for server in servers:
        server.__exit__(None, None, None)


@pytest.mark.keeps_data
def test_no_network_names_every_mirror_and_why_in_one_line(capsys, tmp_path, dead_mirrors):
    status, out, err = run_main(capsys, "--dataset", "mnist", "--save", tmp_path / "m.npz", *QUICK)
    line = the_error_line(err)
    assert status == 1
    reasons = ["connection refused", "HTTP 403", "HTTP 500", "connection closed after 2,000 of 4,000 bytes",
               "checksum mismatch"]
    for url, reason in zip(dead_mirrors, reasons):
        assert f"{url}{IMAGES}: {reason}" in line
    assert list(cache_dir().iterdir()) == []                    # nothing partial or wrong kept
    assert not (tmp_path / "m.npz").exists()


def test_no_network_with_auto_falls_back_in_one_notice_line(capsys, tmp_path, dead_mirrors):
    status, out, err = run_main(capsys, "--save", tmp_path / "m.npz", *QUICK)
    assert status == 0 and "Traceback" not in err
    notice = [line for line in err.splitlines() if "Could not download" in line]
    assert len(notice) == 1 and all(url in notice[0] for url in dead_mirrors)
    assert notice[0].endswith("Using the MNIST sample bundled with digitpad instead.")
    assert list(cache_dir().iterdir()) == []


def model_file(path, **changes):
    arrays = {name: value.copy() for name, value in CNN(seed=0).params.items()}
    arrays.update(changes)
    np.savez(path, **{name: value for name, value in arrays.items() if value is not None})
    return path


class Boom:
    def __reduce__(self):
        return (exec, ("raise SystemExit('a pickle was executed')",))


BAD_MODELS = {
    "not a zip": (lambda path: path.write_bytes(b"GIF89a, not a model"), "not an .npz archive"),
    "pickle inside": (lambda path: model_file(path, **{"softmax.biases": np.array([Boom()], dtype=object)}),
                      "pickled Python objects"),
    "missing key": (lambda path: model_file(path, **{"softmax.weights": None}), "lacks softmax.weights"),
    "wrong shape": (lambda path: model_file(path, **{"conv.filters": np.zeros((8, 5, 5), np.float32)}),
                    "conv.filters has shape (8, 5, 5)"),
    "wrong dtype": (lambda path: model_file(path, **{"softmax.biases": np.zeros(10, np.int32)}), "int32"),
    "NaN": (lambda path: model_file(path, **{"softmax.biases": np.full(10, np.nan, np.float32)}), "NaN"),
    "infinity": (lambda path: model_file(path, **{"conv.filters": np.full((8, 3, 3), np.inf, np.float32)}),
                 "infinite"),
}


@pytest.mark.keeps_data
@pytest.mark.parametrize("case", BAD_MODELS)
def test_bad_init_model_is_one_error_line(capsys, tmp_path, case):
    make, words = BAD_MODELS[case]
    bad = tmp_path / "bad.npz"
    make(bad)
    save = tmp_path / "model.npz"
    save.write_bytes(b"the user's earlier model")
    status, out, err = run_main(capsys, "--dataset", "sample", "--init", bad, "--save", save, *QUICK)
    line = the_error_line(err)
    assert status == 1 and words in line and "bad.npz" in line
    assert save.read_bytes() == b"the user's earlier model"


def test_a_model_with_another_filter_count_trains_and_saves(capsys, tmp_path):
    start = tmp_path / "four.npz"
    CNN(num_filters=4, seed=0).save(start)
    status, out, err = run_main(capsys, "--dataset", "sample", "--init", start, "--save", tmp_path / "out.npz", *QUICK)
    assert status == 0, err
    trained = CNN.load(tmp_path / "out.npz")
    assert trained.num_filters == 4
    assert not np.array_equal(trained.params["conv.filters"], CNN.load(start).params["conv.filters"])


def test_saving_into_a_missing_folder_fails_before_training(capsys, tmp_path):
    status, out, err = run_main(capsys, "--dataset", "sample", "--save", tmp_path / "gone" / "m.npz", *QUICK)
    line = the_error_line(err)
    assert status == 1 and "does not exist" in line and "--save" in line
    assert "Data:" not in out                                    # no time spent loading or training


@pytest.mark.keeps_data
def test_a_full_disk_at_save_time_keeps_the_previous_file(capsys, tmp_path, monkeypatch):
    import errno

    save = tmp_path / "model.npz"
    CNN(seed=5).save(save)
    before = save.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("core.atomic.os.fsync", disk_full)
    status, out, err = run_main(capsys, "--dataset", "sample", "--save", save, *QUICK)
    line = the_error_line(err)
    assert status == 1 and "No space left on device" in line and "unchanged" in line
    assert save.read_bytes() == before
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [save]     # no temporary file left anywhere


DOWNLOAD_THEN_TRAIN = (
    "import sys, core.download; core.download.MIRRORS = (sys.argv[1],); "
    "from core.cli import main; raise SystemExit(main(sys.argv[2:]))"
)


@pytest.mark.keeps_data
def test_ctrl_c_during_a_download_is_one_line_and_keeps_nothing_partial(tmp_path):
    with MnistServer({}, "hang") as hang:
        command = [sys.executable, "-c", DOWNLOAD_THEN_TRAIN, hang.url,
                   "--dataset", "mnist", "--save", str(tmp_path / "m.npz")]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 30
        while not hang.requests and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
        assert hang.requests, "the download never reached the server"
        assert any(p.name.endswith(".part") for p in cache_dir().iterdir())   # a download is under way
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 130
    assert the_error_line(err) == "digitpad-train: interrupted; no model file was written."
    assert list(cache_dir().iterdir()) == []
    assert not (tmp_path / "m.npz").exists()

"""Core fault cases the other test files do not reach: the real MNIST files served by a misbehaving
loopback server, a program ending mid-download, and the weights left after divergence."""
import subprocess
import sys
import time

import numpy as np
import pytest
from mnist_server import MnistServer, closed_port_url

from core.data import load_sample, mnist_available
from core.download import SHA256, download_mnist
from core.errors import TrainingDiverged
from core.network import CNN
from core.train import TrainConfig, train

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def real_files(mnist_dir):
    """{name: bytes} of the four real MNIST .gz files (skips where they are absent)."""
    return {name: (mnist_dir / name).read_bytes() for name in SHA256}


@pytest.mark.keeps_data
def test_real_mnist_arrives_past_refused_cut_and_wrong_mirrors(tmp_path, real_files):
    refused = closed_port_url()
    with MnistServer(real_files, "cut") as cut, MnistServer(real_files, "wrong") as wrong, \
            MnistServer(real_files) as good:
        download_mnist(tmp_path, mirrors=[refused, cut.url, wrong.url, good.url], timeout=2)
        assert len(cut.requests) == len(wrong.requests) == len(good.requests) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(SHA256)       # no partial or wrong file
    assert mnist_available(tmp_path)                                          # the real checksums


@pytest.mark.keeps_data
def test_a_truncated_real_file_in_the_cache_is_replaced(tmp_path, real_files):
    name = "t10k-labels-idx1-ubyte.gz"
    for other, blob in real_files.items():
        (tmp_path / other).write_bytes(blob)
    (tmp_path / name).write_bytes(real_files[name][:-100])
    with MnistServer(real_files) as good:
        download_mnist(tmp_path, mirrors=[good.url], timeout=2)
        assert [path.rsplit("/", 1)[-1] for path in good.requests] == [name]
    assert (tmp_path / name).read_bytes() == real_files[name]


EXIT_MID_DOWNLOAD = """
import sys, threading, time
from pathlib import Path
from core.download import download_mnist
folder, mirror = Path(sys.argv[1]), sys.argv[2]
worker = threading.Thread(target=download_mnist, args=(folder,), kwargs={"mirrors": [mirror]}, daemon=True)
worker.start()
deadline = time.monotonic() + 20
while not any(p.name.endswith(".part") for p in folder.iterdir()) and time.monotonic() < deadline:
    time.sleep(0.01)
print("partial file present:", any(p.name.endswith(".part") for p in folder.iterdir()), flush=True)
"""  # then the program ends with the download thread still waiting on the silent server


@pytest.mark.keeps_data
def test_ending_the_program_mid_download_leaves_no_partial_file(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    with MnistServer({}, "hang") as hang:
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-c", EXIT_MID_DOWNLOAD, str(folder), hang.url],
                                capture_output=True, text=True, timeout=30)
        took = time.monotonic() - started
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "partial file present: True" in result.stdout
    assert took < 5                                     # it did not wait for the socket timeout (10 s)
    assert list(folder.iterdir()) == []


def test_weights_restored_after_divergence_still_give_finite_predictions():
    images, labels = load_sample("train")
    model = CNN(seed=0)
    config = TrainConfig(epochs=1, batch_size=16, learning_rate=1000, momentum=0.9, augment=False)
    with pytest.raises(TrainingDiverged):
        for _ in train(model, config, (images[:256], labels[:256])):
            pass
    with np.errstate(all="ignore"):
        probabilities = model.predict_proba(images[:100])       # (100, 10)
    assert np.isfinite(probabilities).all()

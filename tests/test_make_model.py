"""`make model` replaces the shipped model only with one trained on full, verified MNIST.

The target runs for real (make, the CLI), pointed at a temporary model file and at a temporary
stand-in for the virtual environment's stamp, so the tracked assets/model.npz is never at risk.
"""
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main as cli_main
from core.data import SAMPLE_DIR, SAMPLE_FILES, SPLIT_FILES
from core.network import CNN

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_model(tmp_path, mnist: Path):
    """Run `make model MNIST=<mnist>` writing to tmp_path/model.npz (which holds an older model)."""
    model = tmp_path / "model.npz"
    CNN(seed=5).save(model)
    stamp = tmp_path / "installed"
    stamp.touch()                           # newer than pyproject.toml: make does not reinstall
    shipped = digest(ROOT / "assets" / "model.npz")
    before = digest(model)
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "model", f"MNIST={mnist}", f"MODEL={model}",
         f"BIN={Path(sys.executable).parent}", f"STAMP={stamp}"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "DIGITPAD_DATA_DIR": ""})
    assert digest(ROOT / "assets" / "model.npz") == shipped
    return result, digest(model) == before


def test_refused_when_the_mnist_folder_is_missing(tmp_path):
    result, untouched = make_model(tmp_path, tmp_path / "no-such-folder")
    assert result.returncode != 0
    assert untouched
    assert "accepts full MNIST only" in result.stderr
    assert "train-images-idx3-ubyte.gz" in result.stderr and "missing" in result.stderr
    assert "sample" not in result.stdout        # it did not fall back to training on the sample


def test_refused_when_the_sample_poses_as_full_mnist(tmp_path):
    """The sample's files renamed to MNIST's names are valid IDX files, but not the MNIST content."""
    posing = tmp_path / "posing"
    posing.mkdir()
    for split in SPLIT_FILES:
        for sample_name, mnist_name in zip(SAMPLE_FILES[split], SPLIT_FILES[split]):
            shutil.copy(SAMPLE_DIR / sample_name, posing / mnist_name)
    result, untouched = make_model(tmp_path, posing)
    assert result.returncode != 0 and untouched
    assert "damaged" in result.stderr


def test_refused_when_a_file_is_cut_short(tmp_path, mnist_dir):
    damaged = tmp_path / "damaged"
    shutil.copytree(mnist_dir, damaged)
    labels = damaged / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(gzip.decompress(labels.read_bytes())[:-10]))
    result, untouched = make_model(tmp_path, damaged)
    assert result.returncode != 0 and untouched
    assert "t10k-labels-idx1-ubyte.gz damaged" in result.stderr


def test_the_flag_lets_full_mnist_through(tmp_path, mnist_dir, capsys):
    """The same check passes real MNIST (a short run: the recipe itself is `make model`'s business)."""
    saved = tmp_path / "model.npz"
    code = cli_main(["--require-full-mnist", "--data-dir", str(mnist_dir), "--epochs", "1",
                     "--train-size", "500", "--test-size", "500", "--save", str(saved)])
    assert code == 0
    assert "Data: MNIST from" in capsys.readouterr().out
    CNN.load(saved)

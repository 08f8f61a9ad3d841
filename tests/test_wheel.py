"""The built wheel works on its own: installed outside the checkout, both entry points run.

The wheel is built from a copy of the sources and installed (without dependencies) into a fresh
virtual environment in a temporary folder; that environment borrows the test environment's
third-party packages (NumPy, PySide6, ...) through a .pth file, so no network is needed. Both
programs then run from a folder that is not the checkout. .ci/run does the same with a full
`pip install` of the wheel and its dependencies.
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from core.network import CNN

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("core", "gui", "assets", "pyproject.toml", "README.md")
SHIPPED_MODEL = ROOT / "assets" / "model.npz"


def run(command, cwd, **kw):
    result = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True,
                            timeout=240, **kw)
    assert result.returncode == 0, f"{command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


def setuptools_is_recent() -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= 77


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv folder, wheel path): the wheel built from a copy of the sources, installed in a fresh venv."""
    if not setuptools_is_recent():
        pytest.skip("building the wheel offline needs setuptools>=77 in this environment (make setup installs it)")
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "-w", work / "dist", source], cwd=work)
    wheel = next((work / "dist").glob("digitpad-*.whl"))
    venv = work / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=work)
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel], cwd=work)
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=work).stdout.strip()
    # Third-party packages come from this test environment (its site-packages has no digitpad code:
    # the editable install's own .pth files are not read from a folder added this way).
    Path(site, "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv, wheel


@pytest.fixture
def elsewhere(tmp_path):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(extra)
    return env


def test_the_wheel_holds_the_model_the_sample_and_its_attribution(installed):
    _, wheel = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {"assets/model.npz", "assets/mnist-sample/ATTRIBUTION.md"} | {
        f"assets/mnist-sample/{p.name}" for p in (ROOT / "assets" / "mnist-sample").glob("*.gz")}
    assert len(expected) == 6
    assert expected <= names
    assert not any(name.startswith("tests/") for name in names)


def test_the_installed_app_opens_with_the_shipped_pretrained_model(installed, elsewhere):
    venv, _ = installed
    result = run([venv / "bin" / "digitpad", "--self-test"], cwd=elsewhere,
                 env=clean_env(QT_QPA_PLATFORM="offscreen"))
    out = result.stdout
    assert "self-test passed" in out
    package_folder = re.search(r"digitpad self-test: (\S+)", out).group(1)
    assert Path(package_folder).resolve().is_relative_to(venv.resolve()), out
    assert hashlib.sha256(SHIPPED_MODEL.read_bytes()).hexdigest() in out
    assert "Model: pretrained (model.npz)" in out


def test_the_installed_cli_trains_on_the_bundled_sample(installed, elsewhere):
    venv, _ = installed
    result = run([venv / "bin" / "digitpad-train", "--dataset", "sample", "--epochs", "1",
                  "--train-size", "3000", "--save", "trained.npz"], cwd=elsewhere, env=clean_env())
    assert "MNIST sample from digitpad's assets: 10,000 training and 2,000 test images" in result.stdout
    accuracy = float(re.search(r"Test Accuracy: ([0-9.]+)", result.stdout).group(1))
    assert accuracy > 0.7, result.stdout          # a random network reads about 10%
    assert CNN.load(elsewhere / "trained.npz").num_filters == 8

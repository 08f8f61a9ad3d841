"""Shared test setup: headless Qt, private user folders, and the full MNIST set when present."""
import os
import sys
import tempfile
from pathlib import Path

import pytest

from core.mnist_format import MNIST_FILES
from core.paths import DEV_MNIST_DIR

# Headless Qt for every test; set before anything imports PySide6.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if not os.environ.get("XDG_RUNTIME_DIR"):
    os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="digitpad-xdg-")  # mkdtemp makes it 0700

FULL_MNIST = Path(os.environ.get("DIGITPAD_TEST_MNIST", DEV_MNIST_DIR))


def full_mnist_available() -> bool:
    return all((FULL_MNIST / name).is_file() for name in MNIST_FILES)


@pytest.fixture(autouse=True)
def _private_user_folders(tmp_path, monkeypatch):
    """Keep every test away from the real user's cache, data and settings."""
    monkeypatch.setenv("DIGITPAD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DIGITPAD_USER_DIR", str(tmp_path / "userdata"))
    monkeypatch.setenv("DIGITPAD_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.delenv("DIGITPAD_DATA_DIR", raising=False)


@pytest.fixture(autouse=True)
def _closing_discards_unsaved_weights(request):
    """A window closed after training asks Save / Discard / Cancel; tests answer Discard unless they
    set their own answer (tests/test_gui_window_edges.py), so no test waits on the question.
    (Its own MonkeyPatch: a test's `monkeypatch.undo()` must not bring the question back.)"""
    main_window = sys.modules.get("gui.main_window")
    with pytest.MonkeyPatch.context() as patch:
        if main_window is not None:
            patch.setattr(main_window.MainWindow, "ask_save_before_closing", lambda self: "discard")
        if "PySide6.QtWidgets" in sys.modules and request.node.get_closest_marker("real_dialogs") is None:
            _fail_fast_on_dialogs(patch, sys.modules["PySide6.QtWidgets"])
        yield


def _fail_fast_on_dialogs(patch, widgets):
    """A message box or file dialog that a test did not answer fails that test at once; headless,
    it would wait for a click until the timeout. Tests that expect one patch it themselves."""

    def refuse(kind):
        def dialog(*args, **kwargs):
            texts = [a for a in args if isinstance(a, str)]
            raise AssertionError(f"unanswered {kind} dialog in a test: {texts}")
        return dialog

    for name in ("question", "warning", "critical", "information"):
        patch.setattr(widgets.QMessageBox, name, refuse(f"QMessageBox.{name}"))
    for name in ("getSaveFileName", "getOpenFileName"):
        patch.setattr(widgets.QFileDialog, name, refuse(f"QFileDialog.{name}"))


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder with the four full-MNIST .gz files; skips the test where it is absent."""
    if not full_mnist_available():
        pytest.skip(f"full MNIST not found at {FULL_MNIST} (set DIGITPAD_TEST_MNIST to a folder with the four .gz files)")
    return FULL_MNIST


@pytest.fixture(scope="module")
def shipped():
    """The pretrained model that ships in assets/ (read once per test module)."""
    from core.network import CNN
    from core.paths import PRETRAINED_MODEL

    return CNN.load(PRETRAINED_MODEL)


@pytest.fixture(scope="module")
def test_sample():
    """The bundled sample's 2,000 test digits: (images (N, 28, 28) uint8, labels (N,) uint8)."""
    from core.data import load_sample

    return load_sample("test")

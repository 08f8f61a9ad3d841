"""Fixtures shared by the main-window tests: a known pretrained model, recorded warnings, an open window."""
import pytest
from PySide6.QtWidgets import QMessageBox

from core import paths
from core.network import CNN
from gui.main_window import MainWindow


@pytest.fixture
def pretrained(tmp_path, monkeypatch):
    """A known 'pretrained' model file, so tests do not depend on assets/model.npz."""
    path = tmp_path / "pretrained.npz"
    CNN(seed=1).save(path)
    monkeypatch.setattr(paths, "PRETRAINED_MODEL", path)
    return path


@pytest.fixture
def warnings(monkeypatch):
    """QMessageBox.warning calls as (title, message), recorded instead of shown."""
    calls = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *rest, **kw: calls.append((title, text)))
    return calls


def open_window(qtbot) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    return window

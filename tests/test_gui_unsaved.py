"""Trained, unsaved weights are never thrown away without asking: New, Revert and Open ask first."""
import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from core.network import CNN
from gui_fixtures import open_window, pretrained, warnings  # noqa: F401 (fixtures)

Yes, Cancel = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.Cancel


@pytest.fixture
def window(qtbot, pretrained):
    return open_window(qtbot)


@pytest.fixture
def questions(monkeypatch):
    """QMessageBox.question answered from `questions.answer`, the questions recorded."""
    class Recorder(list):
        answer = Cancel

    asked = Recorder()

    def question(parent, title, text, *rest, **kwargs):
        asked.append((title, text))
        return asked.answer

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


@pytest.fixture
def other_model_file(tmp_path, monkeypatch):
    path = tmp_path / "other.npz"
    CNN(seed=42).save(path)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(path), ""))
    return path


def train_a_little(window):
    """What a training run's weight report does: new weights, not saved."""
    params = window.model.get_params()
    params["softmax.biases"] = params["softmax.biases"] + 1.0
    window._training_params(params)
    assert window.session.unsaved
    return window.model.get_params()


def same_weights(window, params):
    return all(np.array_equal(window.model.params[name], value) for name, value in params.items())


ACTIONS = {
    "new": lambda window: window.new_model(),
    "revert": lambda window: window.revert_to_pretrained(),
    "open": lambda window: window.choose_model_to_open(),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_cancel_keeps_the_trained_weights(window, questions, other_model_file, action):
    trained = train_a_little(window)
    ACTIONS[action](window)
    assert len(questions) == 1 and "not saved" in questions[0][1]
    assert same_weights(window, trained) and window.session.unsaved


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_yes_discards_them(window, questions, other_model_file, action):
    trained = train_a_little(window)
    questions.answer = Yes
    ACTIONS[action](window)
    assert len(questions) == 1
    assert not same_weights(window, trained) and not window.session.unsaved


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_nothing_is_asked_when_nothing_would_be_lost(window, questions, other_model_file, action):
    before = window.model.get_params()
    ACTIONS[action](window)
    assert questions == []
    if action != "revert":                                   # reverting to the same file keeps the same weights
        assert not same_weights(window, before)


def test_saving_ends_the_need_to_ask(window, questions, tmp_path, warnings):
    train_a_little(window)
    assert window.save_model(tmp_path / "kept.npz")
    window.new_model()
    assert questions == []

"""Trained, unsaved weights are never thrown away without asking: New, Revert and Open ask first
(Save / Discard / Cancel)."""
import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from core.network import CNN
from gui_fixtures import open_window, pretrained, warnings  # noqa: F401 (fixtures)

Save, Discard, Cancel = (QMessageBox.StandardButton.Save, QMessageBox.StandardButton.Discard,
                         QMessageBox.StandardButton.Cancel)


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
def test_discard_lets_them_go(window, questions, other_model_file, action):
    trained = train_a_little(window)
    questions.answer = Discard
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


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_save_writes_them_first_then_goes_on(window, questions, other_model_file, action, tmp_path, monkeypatch):
    trained = train_a_little(window)
    questions.answer = Save
    kept = tmp_path / "kept.npz"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(kept), ""))
    ACTIONS[action](window)
    saved = CNN.load(kept)
    assert all(np.allclose(saved.params[name], value) for name, value in trained.items())
    assert not same_weights(window, trained)


def test_save_then_cancelling_the_file_dialog_keeps_them(window, questions, monkeypatch):
    trained = train_a_little(window)
    questions.answer = Save
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: ("", ""))
    window.new_model()
    assert same_weights(window, trained) and window.session.unsaved


def test_saving_ends_the_need_to_ask(window, questions, tmp_path, warnings):
    train_a_little(window)
    assert window.save_model(tmp_path / "kept.npz")
    window.new_model()
    assert questions == []

"""TeachPanel: labelling drawings, browsing and deleting samples, the score line, errors."""
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from core import userdata
from core.errors import DataError
from core.userdata import PersonalDataset
from gui.panels.teach import TeachPanel


def drawing(value):
    """A (28, 28) float drawing whose pixels all equal `value`."""
    return np.full((28, 28), float(value))


class MeanModel:
    """Stand-in model that reads a drawing of value v as the digit v // 10."""

    def predict(self, images):
        return (np.asarray(images, float).mean(axis=(1, 2)) // 10).astype(int)


@pytest.fixture
def panel(qtbot, tmp_path):
    widget = TeachPanel(PersonalDataset(tmp_path / "mine"))
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def warnings(monkeypatch):
    """Record QMessageBox.warning calls instead of opening a modal box."""
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a: shown.append((title, text)))
    return shown


def test_digit_buttons_are_disabled_without_a_drawing(panel):
    assert not any(button.isEnabled() for button in panel.digit_buttons)
    panel.set_current_image(drawing(5))
    assert all(button.isEnabled() for button in panel.digit_buttons)
    panel.set_current_image(None)
    assert not any(button.isEnabled() for button in panel.digit_buttons)


def test_button_stores_the_drawing_with_its_digit(qtbot, panel, tmp_path):
    panel.set_current_image(drawing(42), predicted=1, confidence=0.9)
    assert "read this as 1" in panel.prompt.text()
    with qtbot.waitSignal(panel.sampleAdded, timeout=1000) as signal:
        qtbot.mouseClick(panel.digit_buttons[7], Qt.MouseButton.LeftButton)
    assert signal.args == [7]
    stored = PersonalDataset(tmp_path / "mine")  # what a restart would find
    assert stored.labels.tolist() == [7]
    assert stored.images[0, 5, 5] == 42
    assert panel.browser.count() == 1 and panel.browser.item(0).text() == "7"
    assert not panel.digit_buttons[7].isEnabled()  # the drawing is used up: no duplicate


def test_digit_keys_store_the_drawing(qtbot, panel):
    panel.set_current_image(drawing(3))
    with qtbot.waitSignal(panel.sampleAdded, timeout=1000) as signal:
        qtbot.keyClick(panel, Qt.Key.Key_4)
    assert signal.args == [4]
    with qtbot.assertNotEmitted(panel.sampleAdded):
        qtbot.keyClick(panel, Qt.Key.Key_5)  # no drawing any more
    assert panel.dataset.labels.tolist() == [4]


def test_digit_keys_work_in_the_samples_list_too(qtbot, panel):
    panel.set_current_image(drawing(3))
    qtbot.keyClick(panel.browser, Qt.Key.Key_9)
    assert panel.dataset.labels.tolist() == [9]


def test_browser_shows_samples_found_at_start(qtbot, tmp_path):
    data = PersonalDataset(tmp_path)
    for label in [2, 0, 2]:
        data.add(drawing(10), label)
    widget = TeachPanel(PersonalDataset(tmp_path))
    qtbot.addWidget(widget)
    assert [widget.browser.item(i).text() for i in range(3)] == ["2", "0", "2"]
    assert "3 stored" in widget.counts_label.text() and "2: 2" in widget.counts_label.text()


def test_remove_selected_sample(qtbot, panel):
    for value, label in [(10, 1), (20, 2), (30, 3)]:
        panel.set_current_image(drawing(value))
        panel.add_current(label)
    panel.browser.setCurrentRow(1)
    with qtbot.waitSignal(panel.samplesChanged, timeout=1000):
        qtbot.keyClick(panel.browser, Qt.Key.Key_Delete)
    assert panel.dataset.labels.tolist() == [1, 3]
    assert [panel.browser.item(i).text() for i in range(2)] == ["1", "3"]


def test_clear_all_asks_first(qtbot, panel, monkeypatch):
    for label in [1, 2]:
        panel.set_current_image(drawing(10))
        panel.add_current(label)
    asked = []

    def answer(reply):
        def question(parent, title, text, *args):
            asked.append(text)
            return reply
        return question

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Cancel))
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert len(panel.dataset) == 2 and panel.browser.count() == 2
    assert "2" in asked[0]

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert len(panel.dataset) == 0 and panel.browser.count() == 0
    assert len(PersonalDataset(panel.dataset.folder)) == 0
    assert not panel.clear_button.isEnabled()


@pytest.mark.faults
@pytest.mark.keeps_data
def test_failed_save_shows_why_and_keeps_the_drawing(qtbot, panel, warnings, monkeypatch):
    panel.set_current_image(drawing(10))
    panel.add_current(1)

    def full_disk(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(userdata.os, "replace", full_disk)
    panel.set_current_image(drawing(20))
    with qtbot.assertNotEmitted(panel.sampleAdded):
        qtbot.mouseClick(panel.digit_buttons[2], Qt.MouseButton.LeftButton)
    assert len(warnings) == 1 and "No space left" in warnings[0][1]
    assert panel.digit_buttons[2].isEnabled()  # the drawing is still there to retry
    assert panel.browser.count() == 1
    assert PersonalDataset(panel.dataset.folder).labels.tolist() == [1]

    monkeypatch.undo()
    qtbot.mouseClick(panel.digit_buttons[2], Qt.MouseButton.LeftButton)
    assert PersonalDataset(panel.dataset.folder).labels.tolist() == [1, 2]


@pytest.mark.faults
@pytest.mark.keeps_data
def test_damaged_file_is_reported_and_kept(qtbot, tmp_path):
    target = tmp_path / "userdata" / userdata.FILE_NAME  # conftest's DIGITPAD_USER_DIR
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not a zip")
    widget = TeachPanel()  # owns a dataset in the default folder
    qtbot.addWidget(widget)
    assert isinstance(widget.dataset.load_error, DataError)
    assert not widget.problem.isHidden() and userdata.FILE_NAME in widget.problem.text()

    widget.set_current_image(drawing(10))
    assert widget.add_current(6)
    assert widget.dataset.set_aside_path.read_bytes() == b"not a zip"
    assert str(widget.dataset.set_aside_path) in widget.problem.text()


def test_score_line(qtbot, panel):
    panel.update_score(MeanModel())
    assert "no samples" in panel.score_label.text()
    for value, label in [(30, 3), (75, 7), (75, 2)]:  # MeanModel reads 3, 7, 7
        panel.set_current_image(drawing(value))
        panel.add_current(label)
    panel.update_score(MeanModel())
    assert "2/3" in panel.score_label.text()
    panel.set_current_image(drawing(10))
    panel.add_current(1)
    assert "2/3" not in panel.score_label.text()  # stale score is not shown as current


def test_mix_checkbox_property_and_signal(qtbot, panel):
    assert panel.mix_into_training is False
    with qtbot.waitSignal(panel.mixIntoTrainingChanged, timeout=1000) as signal:
        panel.mix_checkbox.click()  # as the user would
    assert signal.args == [True] and panel.mix_into_training is True
    with qtbot.waitSignal(panel.mixIntoTrainingChanged, timeout=1000) as signal:
        panel.mix_into_training = False
    assert signal.args == [False] and not panel.mix_checkbox.isChecked()

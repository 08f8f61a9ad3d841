"""The window's edges a user meets: quitting with unsaved weights, Teach-it's fresh pad, title, F1 list."""
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QFileDialog, QGroupBox, QLabel, QMessageBox, QWidget

from core.network import CNN
from gui import main_window as main_window_module
from gui.app import make_app
from gui.main_window import MainWindow
from gui_fixtures import open_window, pretrained, warnings  # noqa: F401 (fixtures)
from simulate import DIGIT_THREE, drag_stroke

Buttons = QMessageBox.StandardButton


@pytest.fixture
def window(qtbot, pretrained):
    return open_window(qtbot)


def trained(window):
    """As after a training run: new weights in the window, not saved anywhere."""
    window._training_params(CNN(seed=7).params)
    assert window.session.unsaved
    return {key: value.copy() for key, value in window.model.params.items()}


@pytest.fixture
def answer(monkeypatch):
    """Answer the real quit question (QMessageBox.question) with the button given; records the asks."""
    asked = []

    def set_answer(button):
        monkeypatch.setattr(MainWindow, "ask_save_before_closing",
                            lambda self: main_window_module.ask_save_before_closing(self))
        monkeypatch.setattr(QMessageBox, "question",
                            lambda parent, title, text, buttons, default: asked.append((title, buttons)) or button)
        return asked
    return set_answer


def save_dialog_returns(monkeypatch, path):
    chosen = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: chosen.append(1) or (str(path), ""))
    return chosen


# ---- quitting with trained, unsaved weights --------------------------------------------------------

def test_quit_save_writes_the_trained_weights_and_closes(window, answer, monkeypatch, tmp_path):
    weights = trained(window)
    asked = answer(Buttons.Save)
    save_dialog_returns(monkeypatch, tmp_path / "mine")
    assert window.close()
    title, buttons = asked[0]
    assert title == "Save the trained model?" and buttons == Buttons.Save | Buttons.Discard | Buttons.Cancel
    saved = CNN.load(tmp_path / "mine.npz")
    assert all(np.array_equal(saved.params[key], weights[key]) for key in weights)
    assert not window.isVisible()


def test_quit_discard_closes_without_writing(window, answer, monkeypatch, tmp_path):
    trained(window)
    asked = answer(Buttons.Discard)
    chosen = save_dialog_returns(monkeypatch, tmp_path / "mine")
    assert window.close()
    assert len(asked) == 1 and chosen == [] and list(tmp_path.glob("*.npz")) == [tmp_path / "pretrained.npz"]


def test_quit_cancel_keeps_the_window_and_the_weights(window, answer):
    weights = trained(window)
    asked = answer(Buttons.Cancel)
    assert not window.close()
    assert len(asked) == 1 and window.isVisible() and window.session.unsaved
    assert all(np.array_equal(window.model.params[key], weights[key]) for key in weights)
    QTest.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)   # Ctrl+Q asks again
    assert len(asked) == 2 and window.isVisible()


def test_quit_save_then_cancelling_the_file_dialog_keeps_the_window(window, answer, monkeypatch):
    trained(window)
    answer(Buttons.Save)
    save_dialog_returns(monkeypatch, "")
    assert not window.close()
    assert window.isVisible() and window.session.unsaved


def test_quit_save_that_fails_keeps_the_window(window, answer, monkeypatch, tmp_path, warnings):
    trained(window)
    answer(Buttons.Save)
    save_dialog_returns(monkeypatch, tmp_path / "no-such-folder" / "mine.npz")
    assert not window.close()
    assert window.isVisible() and warnings and warnings[0][0] == "Cannot save the model"


def test_quitting_with_nothing_unsaved_asks_nothing(window, answer, monkeypatch, tmp_path):
    asked = answer(Buttons.Cancel)
    assert window.close() and asked == []


def test_after_saving_quitting_asks_nothing(qtbot, pretrained, answer, tmp_path):
    window = open_window(qtbot)
    trained(window)
    assert window.save_model(tmp_path / "kept.npz")
    asked = answer(Buttons.Cancel)
    assert window.close() and asked == []


# ---- Teach it -------------------------------------------------------------------------------------

def test_storing_a_drawing_clears_the_pad_for_the_next_one(window):
    teach = window.teach_panel
    drag_stroke(window.canvas, DIGIT_THREE)
    assert all(button.isEnabled() for button in teach.digit_buttons)
    QTest.keyClick(window, Qt.Key.Key_3)
    assert len(teach.dataset) == 1 and int(teach.dataset.labels[0]) == 3
    assert window.canvas.is_blank() and window.prediction() is None
    assert teach.prompt.text() == "Stored as a 3. Draw the next one."
    assert not any(button.isEnabled() for button in teach.digit_buttons)
    assert window.tabs.currentIndex() == 2
    drag_stroke(window.canvas, [(0.5, 0.15), (0.5, 0.85)])                  # the next one
    assert all(button.isEnabled() for button in teach.digit_buttons)
    assert "Stored as" not in teach.prompt.text()
    teach.digit_buttons[1].click()                                          # by button this time
    assert len(teach.dataset) == 2 and window.canvas.is_blank()
    assert teach.prompt.text() == "Stored as a 1. Draw the next one."


# ---- title and F1 ---------------------------------------------------------------------------------

def test_the_title_names_digitpad_once(window):
    """Qt appends the display name, set by make_app, to every window title ("<title> — digitpad")."""
    assert make_app() is QApplication.instance()
    shown = f"{window.windowTitle()} — {QApplication.applicationDisplayName()}"
    assert shown.count("digitpad") == 1 and shown.endswith("— digitpad")


def test_the_shortcut_list_is_a_table_of_every_shortcut(window):
    dialog = window.shortcuts_dialog()
    rows = dialog.rows()
    keys = {k for k, _ in rows}
    assert {"F1", "F5", "Ctrl+Z", "Esc", "Ctrl+Q", "Delete", "0 … 9"} <= keys
    assert ("Ctrl+S, Ctrl+Shift+S", "Save the current weights to a file") in rows
    assert dialog.table.columnCount() == 2 and dialog.table.rowCount() == len(rows)
    dialog.show()
    table = dialog.table
    assert table.horizontalHeader().length() <= table.viewport().width()      # both columns whole
    assert table.verticalHeader().length() <= table.viewport().height()       # every row visible
    for row in range(table.rowCount()):
        text_width = table.fontMetrics().horizontalAdvance(table.item(row, 1).text())
        assert text_width <= table.columnWidth(1)
    dialog.close()


# ---- nothing clipped, nothing scrolled sideways ---------------------------------------------------

def text_fits(widget) -> bool:
    """A label, button or group box whose text is wider than the widget is clipped on screen."""
    metrics = widget.fontMetrics()
    if isinstance(widget, QGroupBox):
        return metrics.horizontalAdvance(widget.title().replace("&", "")) + 8 <= widget.width()
    if isinstance(widget, QLabel):
        if widget.wordWrap() or not widget.text() or widget.pixmap() is not None and not widget.pixmap().isNull():
            return True
        return widget.minimumSizeHint().width() <= widget.width()
    if isinstance(widget, QAbstractButton):
        return widget.minimumSizeHint().width() <= widget.width() or not widget.text()
    return True


def results_shown(window):
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 1135)[:10000]                     # counts of four digits
    probs = np.eye(10)[labels] * 0.9 + rng.random((10000, 10)) * 0.05
    probs[::37] = np.eye(10)[(labels[::37] + 1) % 10]                  # some confident mistakes
    window.results_view.show_results(rng.integers(0, 256, (10000, 28, 28)), labels, probs)


FAILED_DOWNLOAD = ("Could not download train-images-idx3-ubyte.gz from any mirror:\n"
                   "  https://a.example/mnist/train-images-idx3-ubyte.gz: no answer within 10 s\n"
                   "  https://b.example/mnist/train-images-idx3-ubyte.gz: no answer within 10 s\n"
                   "Check the internet connection and try again, or put the four MNIST .gz files in a folder "
                   "and set DIGITPAD_DATA_DIR to it.")


@pytest.mark.parametrize("size", ["1280x860", "minimum"])
def test_no_tab_is_clipped_or_scrolls_sideways(window, qtbot, size):
    results_shown(window)
    window.training_panel.show_download_message(FAILED_DOWNLOAD, "Download failed")   # the Data box at its fullest
    if size == "minimum":
        window.resize(window.minimumSizeHint())
        assert window.width() <= 1024 and window.height() <= 768            # fits a small laptop screen
    else:
        window.resize(1280, 860)
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        qtbot.wait(20)
        area = window.tabs.widget(index)
        assert area.widget().width() <= area.viewport().width(), window.tabs.tabText(index)
        if size == "1280x860":                                   # the default window shows every page whole
            assert not area.verticalScrollBar().isVisible(), window.tabs.tabText(index)
        clipped = [w for w in window.findChildren(QWidget) if w.isVisible() and not text_fits(w)]
        assert clipped == [], [(type(w).__name__, getattr(w, "text", w.objectName)()) for w in clipped]
    table = window.results_view.table
    window.tabs.setCurrentIndex(1)
    qtbot.wait(20)
    for column in range(table.columnCount()):
        widest = max(table.fontMetrics().horizontalAdvance(table.item(row, column).text())
                     for row in range(table.rowCount()))
        header = table.fontMetrics().horizontalAdvance(table.horizontalHeaderItem(column).text())
        assert max(widest, header) + 2 <= table.columnWidth(column), column
    assert table.horizontalHeader().length() <= table.viewport().width()


# ---- training curves --------------------------------------------------------------------------------

def progress(kind, epoch, step, loss, accuracy):
    import dataclasses

    from core.train import Progress

    values = dict(kind=kind, epoch=epoch, epochs=3, step=step, steps_per_epoch=100, images_seen=step * 64,
                  total_images=19200, loss=loss, accuracy=accuracy, images_per_s=1000.0, eta_s=5.0,
                  learning_rate=0.02, test_loss=loss if kind == "epoch" else None,
                  test_accuracy=accuracy if kind == "epoch" else None)
    names = {field.name for field in dataclasses.fields(Progress)}
    return Progress(**{name: values.get(name) for name in names})       # fields added later: None


def test_curves_say_no_data_yet_then_plot_plain_numbers(qtbot):
    from gui.views.curves import TrainingCurves

    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.resize(800, 300)
    curves.show()
    loss_axis = curves.loss_plot.getAxis("left")
    assert curves.is_empty()
    assert all(text.isVisible() for text in curves._no_data.values())
    assert not loss_axis.style["showValues"] and not loss_axis.label.isVisible()
    for step in range(1, 101):                                      # a loss of 0.10 .. 0.16
        curves.add_progress(progress("batch", 1, step, 0.16 - step * 0.0006, 0.95))
    curves.add_progress(progress("epoch", 1, 100, 0.12, 0.96))
    curves.flush()                                                  # redraws are throttled to a few a second
    qtbot.wait(50)
    assert not any(text.isVisible() for text in curves._no_data.values())
    assert loss_axis.style["showValues"] and loss_axis.label.isVisible()
    assert loss_axis.autoSIPrefixScale == 1.0 and "x0.001" not in loss_axis.labelString()
    low, high = curves.loss_plot.getViewBox().viewRange()[1]
    assert low < 0.11 and 0.15 < high < 0.2                          # ticks in the data's own units
    for plot in curves.plots():
        assert plot.plotItem.legend is None                          # the key is in the title, over no point
        assert "training" in plot.plotItem.titleLabel.text and "test" in plot.plotItem.titleLabel.text
    curves.clear()
    assert curves.is_empty() and all(text.isVisible() for text in curves._no_data.values())


def test_results_show_no_empty_grid_before_a_run(window, qtbot):
    window.tabs.setCurrentIndex(1)
    view = window.results_view
    qtbot.wait(20)
    assert not view.table.isVisible() and not view.gallery.isVisible()
    assert view.summary.text().startswith("No results yet")
    results_shown(window)
    assert view.table.isVisible() and view.gallery.isVisible()
    assert view.summary.text().startswith("Test accuracy")
    view.clear()
    assert not view.table.isVisible()


@pytest.mark.parametrize("button, replaced, saved", [
    (Buttons.Save, True, True), (Buttons.Discard, True, False), (Buttons.Cancel, False, False)])
def test_a_new_model_over_unsaved_weights_offers_to_save_them(window, monkeypatch, tmp_path, button, replaced, saved):
    weights = trained(window)
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda parent, title, text, buttons, default: asked.append(text) or button)
    save_dialog_returns(monkeypatch, tmp_path / "before-new.npz")
    window.new_model()
    assert "Save them before you start a new model?" in asked[0]
    assert (window.session.description == "new, random weights") == replaced
    assert (tmp_path / "before-new.npz").exists() == saved
    if saved:
        kept = CNN.load(tmp_path / "before-new.npz")
        assert all(np.array_equal(kept.params[key], weights[key]) for key in weights)


def test_feature_maps_show_their_scale_only_with_maps(window):
    legend = window.feature_view.legend
    assert not legend.isVisible()
    drag_stroke(window.canvas, DIGIT_THREE)
    assert legend.isVisible()
    QTest.keyClick(window, Qt.Key.Key_Escape)
    assert not legend.isVisible()


@pytest.mark.real_dialogs
@pytest.mark.parametrize("button, closes", [(Buttons.Cancel, False), (Buttons.Discard, True)])
def test_the_real_quit_question_answered_with_the_mouse(window, qtbot, monkeypatch, button, closes):
    """No patched QMessageBox: the dialog opens, and a click on its button answers it."""
    from PySide6.QtCore import QTimer

    trained(window)
    monkeypatch.setattr(MainWindow, "ask_save_before_closing",
                        lambda self: main_window_module.ask_save_before_closing(self))
    seen = []

    def click_when_shown():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click_when_shown)
            return
        seen.append(sorted(b.text().replace("&", "") for b in box.buttons()))
        QTest.mouseClick(box.button(button), Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, click_when_shown)
    try:
        assert window.close() == closes
        assert seen and len(seen[0]) == 3
        assert window.isVisible() == (not closes)
    finally:
        window.session.unsaved = False      # the closing at teardown must not ask again


def test_the_drawing_through_the_run_chart_has_no_axes_until_it_has_a_series(qtbot):
    from gui.views.drawing_history import DrawingHistoryChart

    chart = DrawingHistoryChart()
    qtbot.addWidget(chart)
    axis = chart.plot.getAxis("bottom")
    assert not axis.style["showValues"]
    chart.set_series([0, 1, 2], np.full((3, 10), 0.1))
    assert axis.style["showValues"]
    chart.clear("Draw a digit")
    assert not axis.style["showValues"]

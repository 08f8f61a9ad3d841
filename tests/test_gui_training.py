"""Training and downloading from the GUI: progress, live filters, pause/resume/stop, clean shutdown."""
import time

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from core import data, paths
from core.errors import DownloadCancelled
from core.network import CNN
from core.train import TrainConfig
from gui.download_worker import DownloadController
from gui.main_window import MainWindow
from gui.simulate import DIGIT_THREE, drag_stroke
from gui.training_worker import TrainingController

SMALL = 256


@pytest.fixture(scope="module")
def small_sets():
    (images, labels), (test_images, test_labels) = data.load_sample("train"), data.load_sample("test")
    return (images[:SMALL], labels[:SMALL]), (test_images[:200], test_labels[:200])


@pytest.fixture
def controller(qtbot):
    ctrl = TrainingController()
    yield ctrl
    assert ctrl.shutdown(2000)


def long_config(**changes):
    """Enough steps that a test can pause and stop it midway (it is always stopped)."""
    return TrainConfig(**{"epochs": 500, "batch_size": 8, "learning_rate": 0.01, "augment": False, **changes})


def test_short_run_reports_progress_updates_weights_and_scores_the_test_set(qtbot, controller, small_sets):
    model = CNN(seed=3)
    start = model.get_params()
    progress, snapshots, results = [], [], []
    controller.progressed.connect(progress.append)
    controller.paramsUpdated.connect(snapshots.append)
    controller.tested.connect(results.append)
    config = TrainConfig(epochs=1, batch_size=16, learning_rate=0.02, augment=False)
    with qtbot.waitSignal(controller.finished, timeout=20000) as finished:
        controller.start(model, config, lambda: small_sets)
    assert finished.args == ["finished"] and controller.state() == "idle"
    assert progress and progress[-1].kind == "epoch" and progress[-1].test_accuracy is not None
    assert not np.array_equal(snapshots[-1]["conv.filters"], start["conv.filters"])
    assert np.array_equal(snapshots[-1]["conv.filters"], model.params["conv.filters"])
    assert results[0].probabilities.shape == (200, 10) and len(results[0].labels) == 200


def test_pause_holds_training_until_resumed_then_stop_ends_it(qtbot, controller, small_sets):
    progress = []
    controller.progressed.connect(progress.append)
    controller.start(CNN(seed=0), long_config(), lambda: small_sets)
    qtbot.waitUntil(lambda: len(progress) >= 2, timeout=10000)

    controller.pause()
    assert controller.state() == "paused"
    qtbot.wait(300)                                  # let the step in flight finish and report
    seen = progress[-1].images_seen
    qtbot.wait(300)
    assert progress[-1].images_seen == seen          # nothing moved while paused

    controller.resume()
    qtbot.waitUntil(lambda: progress[-1].images_seen > seen, timeout=5000)

    with qtbot.waitSignal(controller.finished, timeout=5000) as finished:
        controller.stop()
    assert finished.args == ["stopped"] and not controller.is_busy()


def test_stop_while_paused_ends_the_run(qtbot, controller, small_sets):
    progress = []
    controller.progressed.connect(progress.append)
    controller.start(CNN(seed=0), long_config(), lambda: small_sets)
    qtbot.waitUntil(lambda: len(progress) >= 1, timeout=10000)
    controller.pause()
    with qtbot.waitSignal(controller.finished, timeout=5000) as finished:
        controller.stop()
    assert finished.args == ["stopped"]


def test_divergence_is_reported_and_the_weights_stay_finite(qtbot, controller, small_sets):
    failures, snapshots = [], []
    controller.failed.connect(failures.append)
    controller.paramsUpdated.connect(snapshots.append)
    with qtbot.waitSignal(controller.finished, timeout=20000) as finished:
        controller.start(CNN(seed=0), long_config(epochs=3, learning_rate=1e9), lambda: small_sets)
    assert finished.args == ["failed"]
    assert "diverged" in failures[0].lower() and "learning rate" in failures[0]
    assert all(np.isfinite(array).all() for array in snapshots[-1].values())


def test_loading_errors_reach_the_user(qtbot, controller):
    from core.errors import DataError

    def broken():
        raise DataError("The MNIST files are damaged.")
    failures, snapshots = [], []
    controller.failed.connect(failures.append)
    controller.paramsUpdated.connect(snapshots.append)
    with qtbot.waitSignal(controller.finished, timeout=5000) as finished:
        controller.start(CNN(seed=0), TrainConfig(epochs=1), broken)
    assert finished.args == ["failed"] and failures == ["The MNIST files are damaged."]
    assert snapshots == []                           # nothing was trained: the model is untouched


# ---- through the main window -------------------------------------------------------------------

@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    path = tmp_path / "pretrained.npz"
    CNN(seed=1).save(path)
    monkeypatch.setattr(paths, "PRETRAINED_MODEL", path)
    monkeypatch.setattr(QMessageBox, "warning", lambda *args, **kwargs: pytest.fail(f"dialog: {args}"))
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    panel = win.training_panel
    panel.size_spin.setValue(SMALL)
    panel.batch_spin.setValue(16)
    panel.augment_check.setChecked(False)
    return win


def test_training_from_the_window_changes_filters_curves_and_prediction(qtbot, window):
    drag_stroke(window.canvas, DIGIT_THREE)
    before_filters = window.filter_view.filters()
    before_probabilities = window.prediction()[1]
    window.training_panel.epochs_spin.setValue(1)
    with qtbot.waitSignal(window.training.finished, timeout=30000) as finished:
        window.training_panel.train_action.trigger()
    assert finished.args == ["finished"]
    assert not np.allclose(window.filter_view.filters(), before_filters)
    assert np.allclose(window.filter_view.filters(), window.model.params["conv.filters"])
    assert not np.allclose(window.prediction()[1], before_probabilities)
    assert window.training_panel.curves.point_count() > 0
    assert "Test accuracy" in window.training_panel.test_label.text()
    assert window.results_view.matrix() is not None
    assert "not saved" in window.model_label.text()
    assert window.training_panel.train_action.isEnabled()


def test_closing_the_window_mid_training_joins_the_thread(qtbot, window):
    window.training_panel.epochs_spin.setValue(100)
    progress = []
    window.training.progressed.connect(progress.append)
    window.training_panel.train_action.trigger()
    qtbot.waitUntil(lambda: len(progress) >= 1, timeout=10000)
    thread = window.training._thread
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 1.0
    assert thread.isFinished() and not window.training.is_busy()


def test_closing_the_window_mid_download_joins_the_thread(qtbot, window, monkeypatch):
    def slow_download(progress=None, should_cancel=None, **kwargs):
        for step in range(1000):
            if should_cancel():
                raise DownloadCancelled("Download cancelled.")
            progress(step * 1000, 1_000_000, "train-images-idx3-ubyte.gz")
            time.sleep(0.01)
    monkeypatch.setattr(data, "download_mnist", slow_download)
    window.training_panel.download_action.trigger()
    qtbot.waitUntil(lambda: window.training_panel.download_bar.value() > 0, timeout=5000)
    thread = window.download._thread
    window.close()
    assert thread.isFinished() and not window.download.is_busy()


def test_download_reports_progress_and_can_be_cancelled(qtbot, monkeypatch):
    def slow_download(progress=None, should_cancel=None, **kwargs):
        for step in range(1000):
            if should_cancel():
                raise DownloadCancelled("Download cancelled; nothing partial was kept.")
            progress(step * 1000, 1_000_000, "t10k-images-idx3-ubyte.gz")
            time.sleep(0.01)
    monkeypatch.setattr(data, "download_mnist", slow_download)
    controller = DownloadController()
    reports = []
    controller.progressed.connect(lambda done, total, name: reports.append((done, total, name)))
    controller.start()
    qtbot.waitUntil(lambda: len(reports) >= 2, timeout=5000)
    with qtbot.waitSignal(controller.finished, timeout=5000) as finished:
        controller.cancel()
    assert finished.args[0] == "cancelled" and "cancelled" in finished.args[1]
    assert reports[-1][1] == 1_000_000 and reports[-1][2] == "t10k-images-idx3-ubyte.gz"
    assert not controller.is_busy()

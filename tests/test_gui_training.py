"""Training and downloading from the GUI: progress, live filters, pause/resume/stop, clean shutdown.

Training runs in a child process, so the data is described (DatasetChoice), never a lambda.
"""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from core import data, paths
from core.dataset_choice import DatasetChoice
from core.errors import DownloadCancelled
from core.network import CNN
from core.train import TrainConfig, train
from gui.background.download import DownloadController
from gui.main_window import JOIN_TIMEOUT_MS, LAST_JOIN_TIMEOUT_MS, MainWindow
from processes import children_of, gone
from simulate import DIGIT_THREE, drag_stroke
from gui.training.controller import TrainingController
from gui.training.messages import Result, State

SMALL = 256
TEST_SIZE = 200
SMALL_SETS = DatasetChoice("sample", SMALL)    # loaded in the child: the sample's first 256 images


@pytest.fixture
def controller(qtbot):
    ctrl = TrainingController()
    yield ctrl
    assert ctrl.shutdown(2000)


def wait_until_quiet(qtbot, reports: list, quiet_ms: int = 600, timeout_ms: int = 10000) -> None:
    """Wait until `reports` has not grown for quiet_ms: a paused child has sent where it paused (its
    report can take a while on a busy machine, so a fixed wait is not enough)."""
    deadline = time.monotonic() + timeout_ms / 1000
    count, since = len(reports), time.monotonic()
    while time.monotonic() - since < quiet_ms / 1000:
        assert time.monotonic() < deadline, "the reports never stopped coming"
        qtbot.wait(50)
        if len(reports) != count:
            count, since = len(reports), time.monotonic()


def long_config(**changes):
    """Enough steps that a test can pause and stop it midway (it is always stopped)."""
    return TrainConfig(**{"epochs": 500, "batch_size": 8, "learning_rate": 0.01, "augment": False, **changes})


def assert_ended(process):
    """The child was joined (reaped, so no zombie) and is not running."""
    assert process.exitcode is not None
    with pytest.raises(ProcessLookupError):
        os.kill(process.pid, 0)


def test_short_run_reports_progress_sends_the_trained_weights_and_scores_the_test_set(qtbot, controller):
    model = CNN(seed=3)
    start = model.get_params()
    progress, snapshots, results = [], [], []
    controller.progressed.connect(progress.append)
    controller.paramsUpdated.connect(snapshots.append)
    controller.tested.connect(results.append)
    config = TrainConfig(epochs=1, batch_size=16, learning_rate=0.02, augment=False)
    sets = DatasetChoice("sample", SMALL, TEST_SIZE)
    with qtbot.waitSignal(controller.finished, timeout=20000) as finished:
        controller.start(model, config, sets)
    assert finished.args == [Result.FINISHED] and controller.state() == State.IDLE and not controller.is_busy()
    assert progress and progress[-1].kind == "epoch" and progress[-1].test_accuracy is not None
    assert np.array_equal(model.params["conv.filters"], start["conv.filters"])     # the GUI's model is untouched

    expected = CNN(seed=3)                           # the same run here gives the child's final weights
    for _ in train(expected, config, *sets.load()[:2]):
        pass
    for name, array in expected.params.items():
        np.testing.assert_array_equal(snapshots[-1][name], array)
    assert results[0].probabilities.shape == (TEST_SIZE, 10) and len(results[0].labels) == TEST_SIZE
    np.testing.assert_allclose(results[0].probabilities, expected.predict_proba(results[0].images), atol=1e-6)


def test_personal_samples_are_mixed_into_the_childs_training_set(qtbot, controller):
    images, labels = data.load_sample("test")
    personal = (images[:4], labels[:4])
    progress = []
    controller.progressed.connect(progress.append)
    config = TrainConfig(epochs=1, batch_size=64, augment=False)
    with qtbot.waitSignal(controller.finished, timeout=20000):
        controller.start(CNN(seed=0), config, DatasetChoice("sample", SMALL, personal=personal))
    mixed, _, _ = DatasetChoice("sample", SMALL, personal=personal).load()
    assert len(mixed[1]) > SMALL
    assert progress[-1].total_images == len(mixed[1])


def test_pause_holds_training_until_resumed_then_stop_ends_it(qtbot, controller):
    progress = []
    controller.progressed.connect(progress.append)
    controller.start(CNN(seed=0), long_config(), SMALL_SETS)
    qtbot.waitUntil(lambda: len(progress) >= 2, timeout=10000)

    controller.pause()
    assert controller.state() == State.PAUSED
    wait_until_quiet(qtbot, progress)                # the step in flight finishes and reports
    seen = progress[-1].images_seen
    qtbot.wait(300)
    assert progress[-1].images_seen == seen          # nothing moved while paused

    controller.resume()
    qtbot.waitUntil(lambda: progress[-1].images_seen > seen, timeout=5000)

    with qtbot.waitSignal(controller.finished, timeout=5000) as finished:
        controller.stop()
    assert finished.args == [Result.STOPPED] and not controller.is_busy()


def test_stop_while_paused_ends_the_run_and_sends_the_paused_weights(qtbot, controller):
    progress, snapshots = [], []
    controller.progressed.connect(progress.append)
    controller.paramsUpdated.connect(snapshots.append)
    controller.start(CNN(seed=0), long_config(), SMALL_SETS)
    qtbot.waitUntil(lambda: len(progress) >= 1, timeout=10000)
    controller.pause()
    wait_until_quiet(qtbot, snapshots)               # the child reports where it paused, then waits
    paused = len(snapshots)
    with qtbot.waitSignal(controller.finished, timeout=5000) as finished:
        controller.stop()
    assert finished.args == [Result.STOPPED]
    assert len(snapshots) == paused + 1              # the final weights: the paused ones, untrained since
    for name, array in snapshots[-1].items():
        np.testing.assert_array_equal(array, snapshots[paused - 1][name])


def test_divergence_is_reported_and_the_weights_stay_finite(qtbot, controller):
    failures, snapshots = [], []
    controller.failed.connect(failures.append)
    controller.paramsUpdated.connect(snapshots.append)
    with qtbot.waitSignal(controller.finished, timeout=20000) as finished:
        controller.start(CNN(seed=0), long_config(epochs=3, learning_rate=1e9), SMALL_SETS)
    assert finished.args == [Result.FAILED]
    assert "diverged" in failures[0].lower() and "learning rate" in failures[0]
    assert all(np.isfinite(array).all() for array in snapshots[-1].values())


def test_loading_errors_reach_the_user(qtbot, controller, tmp_path):
    failures, snapshots = [], []
    controller.failed.connect(failures.append)
    controller.paramsUpdated.connect(snapshots.append)
    with qtbot.waitSignal(controller.finished, timeout=10000) as finished:
        controller.start(CNN(seed=0), TrainConfig(epochs=1), DatasetChoice("mnist", data_dir=str(tmp_path)))
    assert finished.args == [Result.FAILED] and len(failures) == 1
    assert str(tmp_path) in failures[0] and "train-images-idx3-ubyte.gz" in failures[0]
    assert snapshots == []                           # nothing was trained: the model is untouched


def test_a_killed_training_process_is_reported_not_waited_for(qtbot, controller):
    progress, failures = [], []
    controller.progressed.connect(progress.append)
    controller.failed.connect(failures.append)
    controller.start(CNN(seed=0), long_config(), SMALL_SETS)
    qtbot.waitUntil(lambda: len(progress) >= 1, timeout=10000)
    process = controller.child_process()
    with qtbot.waitSignal(controller.finished, timeout=5000) as finished:
        process.kill()
    assert finished.args == [Result.FAILED] and not controller.is_busy() and controller.state() == State.IDLE
    assert "training process was killed by signal SIGKILL" in failures[0]


def test_a_training_process_that_cannot_start_is_reported(qtbot, controller, monkeypatch):
    import errno
    import multiprocessing

    def no_more_processes(self):
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")
    monkeypatch.setattr(multiprocessing.get_context("spawn").Process, "start", no_more_processes)
    failures = []
    controller.failed.connect(failures.append)
    with qtbot.waitSignal(controller.finished, timeout=1000) as finished:
        controller.start(CNN(seed=0), long_config(), SMALL_SETS)
    assert finished.args == [Result.FAILED] and not controller.is_busy() and controller.state() == State.IDLE
    assert failures == ["Could not start the training process: Resource temporarily unavailable. "
                        "Close other programs and try again."]


def test_the_training_process_never_imports_qt():
    code = ("import sys, gui.training.process; "
            "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'pyqtgraph'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


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
    assert finished.args == [Result.FINISHED]
    assert not np.allclose(window.filter_view.filters(), before_filters)
    assert np.allclose(window.filter_view.filters(), window.model.params["conv.filters"])
    assert not np.allclose(window.prediction()[1], before_probabilities)
    assert window.training_panel.curves.point_count() > 0
    assert "Test accuracy" in window.training_panel.test_label.text()
    assert window.results_view.matrix() is not None
    assert "not saved" in window.model_label.text()
    assert window.training_panel.train_action.isEnabled()


def test_closing_the_window_mid_training_ends_the_training_process(qtbot, window):
    window.training_panel.epochs_spin.setValue(100)
    window.training_panel.augment_check.setChecked(True)    # the app's default: batches made by a worker
    progress = []
    window.training.progressed.connect(progress.append)
    window.training_panel.train_action.trigger()
    qtbot.waitUntil(lambda: len(progress) >= 1, timeout=10000)
    process = window.training.child_process()
    relay = window.training._relay
    if sys.platform.startswith("linux"):                # the child forked one batch worker (core.prefetch)
        [batch_worker] = children_of(process.pid)
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 1.0
    assert_ended(process)
    if sys.platform.startswith("linux"):
        qtbot.waitUntil(lambda: gone(batch_worker), timeout=5000)
    assert relay.isFinished() and not window.training.is_busy()


def test_closing_waits_longer_for_a_training_process_the_first_shutdown_could_not_end(qtbot, window, monkeypatch):
    answers, calls = iter([False, True]), []
    monkeypatch.setattr(window.training, "shutdown", lambda timeout_ms: calls.append(timeout_ms) or next(answers))
    window.close()
    assert calls == [JOIN_TIMEOUT_MS, LAST_JOIN_TIMEOUT_MS]


def test_shutdown_ends_a_child_that_does_not_answer(qtbot, controller):
    progress = []
    controller.progressed.connect(progress.append)
    controller.start(CNN(seed=0), long_config(), SMALL_SETS)
    qtbot.waitUntil(lambda: len(progress) >= 1, timeout=10000)
    process = controller.child_process()
    os.kill(process.pid, signal.SIGSTOP)             # frozen: it cannot read the stop command
    started = time.monotonic()
    assert controller.shutdown(300) is True
    assert time.monotonic() - started < 1.0
    assert_ended(process)
    assert not controller.is_busy()


def test_shutdown_says_false_while_the_child_outlives_it_and_a_later_one_ends_it(qtbot, controller):
    progress = []
    controller.progressed.connect(progress.append)
    controller.start(CNN(seed=0), long_config(), SMALL_SETS)
    qtbot.waitUntil(lambda: len(progress) >= 1, timeout=10000)
    process = controller.child_process()
    os.kill(process.pid, signal.SIGSTOP)             # cannot read the stop command, nor act on SIGTERM
    process.terminate = process.kill = lambda: None  # and, for this test, SIGKILL does not get through
    assert controller.shutdown(300) is False
    assert process.exitcode is None and controller.is_busy() and controller.child_process() is process
    del process.terminate, process.kill              # the signals work again
    assert controller.shutdown(300) is True
    assert_ended(process)
    assert not controller.is_busy() and controller.state() == State.IDLE


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

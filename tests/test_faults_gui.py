"""The main window facing bad model files, failing saves, damaged data, dead mirrors, runaway
training, closing mid-work, and extreme canvases.

Every fault shows one dialog (QMessageBox.warning, recorded here instead of blocking) or a
status line, never a traceback, and the previous state stays as it was: the model in use,
the file on disk, the cache.
"""
import errno
import hashlib
import os
import signal
import threading
import time

import numpy as np
import pytest
from mnist_server import MnistServer, closed_port_url

import core.download
from core.data import SPLIT_FILES
from core.idx import encode_idx, encode_idx_gz
from core.network import CNN
from core.paths import cache_dir
from core.train import TrainConfig
from gui.panels.watch_controls import CONTINUE
from gui.training.controller import STOP_PATIENCE_MS
from gui_fixtures import open_window, pretrained, warnings  # noqa: F401 (fixtures)
from simulate import DIGIT_THREE, drag_stroke

pytestmark = pytest.mark.faults


@pytest.fixture
def window(qtbot, pretrained, warnings):
    return open_window(qtbot)


def same_params(a, b) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


# ---- opening bad model files ---------------------------------------------------------------------

def write_model(path, **changes):
    arrays = {name: value.copy() for name, value in CNN(seed=0).params.items()}
    arrays.update(changes)
    np.savez(path, **{name: value for name, value in arrays.items() if value is not None})


class Boom:
    def __reduce__(self):
        return (exec, ("raise SystemExit('a pickle was executed')",))


BAD_MODELS = {
    "empty file": lambda path: path.write_bytes(b""),
    "not a zip": lambda path: path.write_bytes(b"\x89PNG not a model"),
    "pickle inside": lambda path: write_model(path, **{"conv.filters": np.array([Boom()], dtype=object)}),
    "missing key": lambda path: write_model(path, **{"softmax.biases": None}),
    "wrong shape": lambda path: write_model(path, **{"softmax.weights": np.zeros((1352, 9), np.float32)}),
    "wrong dtype": lambda path: write_model(path, **{"conv.filters": np.zeros((8, 3, 3), np.int16)}),
    "NaN": lambda path: write_model(path, **{"softmax.weights": np.full((1352, 10), np.nan, np.float32)}),
    "infinity": lambda path: write_model(path, **{"softmax.biases": np.full(10, -np.inf, np.float32)}),
}


@pytest.mark.keeps_data
@pytest.mark.parametrize("case", BAD_MODELS)
def test_opening_a_bad_model_shows_a_dialog_and_keeps_the_current_one(window, tmp_path, warnings, case):
    drag_stroke(window.canvas, DIGIT_THREE)
    before, label, answer = window.model.get_params(), window.model_label.text(), window.prediction()
    bad = tmp_path / "bad.npz"
    BAD_MODELS[case](bad)
    assert window.open_model(bad) is False
    assert len(warnings) == 1
    title, message = warnings[0]
    assert title == "Cannot open the model" and "bad.npz" in message and "current model is kept" in message
    assert same_params(window.model.get_params(), before)
    assert window.model_label.text() == label
    assert np.array_equal(window.prediction()[1], answer[1])


def test_a_model_with_another_filter_count_opens_and_predicts(window, tmp_path, warnings):
    path = tmp_path / "four.npz"
    CNN(num_filters=4, seed=2).save(path)
    assert window.open_model(path)
    drag_stroke(window.canvas, DIGIT_THREE)
    assert warnings == []
    assert window.model.num_filters == 4 and window.filter_view.filters().shape == (4, 3, 3)
    assert window.feature_view.feature_maps().shape == (26, 26, 4)
    assert window.prediction()[1].sum() == pytest.approx(1, abs=1e-4)


# ---- saving where it cannot be written ----------------------------------------------------------

def refuse(error):
    def raiser(*args, **kwargs):
        raise error
    return raiser


@pytest.mark.keeps_data
@pytest.mark.parametrize("target, error, words", [
    ("os.replace", PermissionError(errno.EACCES, "Permission denied"), "Permission denied"),
    ("os.fsync", OSError(errno.ENOSPC, "No space left on device"), "No space left on device"),
    ("tempfile.mkstemp", OSError(errno.EROFS, "Read-only file system"), "Read-only file system"),
])
def test_a_failed_save_as_keeps_the_old_file_and_shows_a_dialog(window, tmp_path, warnings, monkeypatch,
                                                                 target, error, words):
    old = tmp_path / "mine.npz"
    CNN(seed=7).save(old)
    before = old.read_bytes()
    window.session.unsaved = True                     # as after training: the work is not saved yet
    monkeypatch.setattr(f"core.atomic.{target}", refuse(error))
    monkeypatch.setattr("gui.main_window.QFileDialog.getSaveFileName", lambda *args, **kw: (str(old), ""))
    window.save_action.trigger()
    monkeypatch.undo()
    assert len(warnings) == 1 and warnings[0][0] == "Cannot save the model" and words in warnings[0][1]
    assert old.read_bytes() == before
    left = sorted(p.name for p in old.parent.iterdir() if p.suffix in (".npz", ".tmp"))
    assert left == ["mine.npz", "pretrained.npz"]                 # no temporary file left behind
    assert window.session.unsaved                     # still marked as needing a save


# ---- damaged data sets ---------------------------------------------------------------------------

@pytest.fixture
def damaged_mnist_folder(tmp_path, monkeypatch):
    """Small valid split files that pass verification, except the training images: cut short."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "mnist"
    folder.mkdir()
    arrays = {}
    for images_name, labels_name in SPLIT_FILES.values():
        arrays[images_name] = rng.integers(0, 256, (20, 28, 28), dtype=np.uint8)
        arrays[labels_name] = rng.integers(0, 10, 20, dtype=np.uint8)
    for name, array in arrays.items():
        (folder / name).write_bytes(encode_idx_gz(array))
    checksums = {name: hashlib.sha256(encode_idx(array)).hexdigest() for name, array in arrays.items()}
    monkeypatch.setattr(core.download, "SHA256", checksums)
    images = folder / SPLIT_FILES["train"][0]
    images.write_bytes(images.read_bytes()[:300])
    return folder


def test_a_damaged_data_folder_is_explained_without_a_dialog(qtbot, pretrained, warnings, damaged_mnist_folder,
                                                             monkeypatch):
    folder = damaged_mnist_folder
    monkeypatch.setenv("DIGITPAD_DATA_DIR", str(folder))
    window = open_window(qtbot)
    panel = window.training_panel
    message = panel.download_label.text()
    assert warnings == []
    assert str(folder) in message and "DIGITPAD_DATA_DIR" in message
    assert f": {SPLIT_FILES['train'][0]} damaged" in message               # that file only
    assert not panel.source_combo.model().item(1).isEnabled() and panel.source() == "sample"


def wait_until_idle(qtbot, window, timeout=20000):
    qtbot.waitUntil(lambda: window.training_panel.train_action.isEnabled(), timeout=timeout)


def test_data_damaged_after_start_up_stops_training_with_a_dialog(qtbot, window, warnings, damaged_mnist_folder,
                                                                  monkeypatch):
    monkeypatch.setenv("DIGITPAD_DATA_DIR", str(damaged_mnist_folder))      # as if the files broke after start-up
    panel = window.training_panel
    panel.source_combo.model().item(1).setEnabled(True)
    panel.source_combo.setCurrentIndex(1)
    before = window.model.get_params()
    panel.train_action.trigger()
    wait_until_idle(qtbot, window)
    qtbot.waitUntil(lambda: bool(warnings), timeout=5000)
    title, message = warnings[0]
    assert title == "Training stopped" and SPLIT_FILES["train"][0] in message and "truncated" in message
    assert same_params(window.model.get_params(), before)
    assert "not saved" not in window.model_label.text()


# ---- downloads -----------------------------------------------------------------------------------

@pytest.mark.keeps_data
def test_a_failed_download_names_each_mirror_and_keeps_nothing(qtbot, window, warnings, monkeypatch):
    junk = {name: b"x" * 5000 for name in core.download.SHA256}
    with MnistServer(junk, "404") as missing, MnistServer(junk, "cut") as cut:
        refused = closed_port_url()
        monkeypatch.setattr(core.download, "MIRRORS", (refused, missing.url, cut.url))
        with qtbot.waitSignal(window.download.finished, timeout=10000):
            window.training_panel.download_action.trigger()
    panel = window.training_panel
    assert warnings == [] and window.statusBar().currentMessage() == ""    # one line in the Data box only
    assert panel.download_label.text() == f"Could not download {SPLIT_FILES['train'][0]} from any mirror."
    panel.details_button.click()                                           # the details, on demand
    title, message = warnings[0]
    assert title == "Download failed"
    assert f"{refused}{SPLIT_FILES['train'][0]}: connection refused" in message
    assert f"{missing.url}{SPLIT_FILES['train'][0]}: HTTP 404" in message
    assert f"{cut.url}{SPLIT_FILES['train'][0]}: connection closed after 2,500 of 5,000 bytes" in message
    assert list(cache_dir().iterdir()) == []
    assert window.training_panel.download_action.isEnabled() and window.training_panel.source() == "sample"


@pytest.mark.keeps_data
def test_closing_during_a_stuck_download_takes_under_a_second_and_keeps_nothing(qtbot, window, warnings,
                                                                                 monkeypatch):
    before = set(threading.enumerate())
    with MnistServer({}, "hang") as hang:
        monkeypatch.setattr(core.download, "MIRRORS", (hang.url,))
        window.training_panel.download_action.trigger()
        qtbot.waitUntil(lambda: bool(hang.requests), timeout=5000)
        started = time.monotonic()
        window.close()
        assert time.monotonic() - started < 1.0
        assert not window.download.is_busy()
        workers = [t for t in threading.enumerate() if t not in before and t.name == "mnist-download"]
    for worker in workers:                   # the server is gone: the abandoned thread gives up and cleans up
        worker.join(5)
        assert not worker.is_alive()
    assert list(cache_dir().iterdir()) == []
    assert warnings == []


# ---- training that goes wrong -------------------------------------------------------------------

def small_run(window, **config):
    panel = window.training_panel
    panel.size_spin.setValue(256)
    panel.batch_spin.setValue(16)
    panel.augment_check.setChecked(False)
    if config:                                    # settings the spin boxes cannot reach
        chosen = TrainConfig(**{"batch_size": 16, "augment": False, **config})
        panel.config = lambda: chosen


def test_divergence_shows_a_dialog_and_leaves_finite_weights(qtbot, window, warnings):
    small_run(window, epochs=3, learning_rate=1e9, momentum=0.9)
    window.training_panel.train_action.trigger()
    wait_until_idle(qtbot, window)
    qtbot.waitUntil(lambda: bool(warnings), timeout=5000)
    title, message = warnings[0]
    assert title == "Training stopped" and "diverged" in message and "restored" in message
    assert all(np.isfinite(value).all() for value in window.model.params.values())
    assert window.training_panel.train_action.isEnabled()
    # That those weights also give finite predictions is checked (xfail, a core.train bug) in test_faults_core.py.


def test_stop_mid_run_keeps_a_consistent_model(qtbot, window, warnings):
    small_run(window)
    window.training_panel.epochs_spin.setValue(100)
    before = window.model.get_params()
    window.training_panel.train_action.trigger()
    qtbot.waitUntil(lambda: not same_params(window.model.get_params(), before), timeout=10000)
    window.training_panel.stop_action.trigger()
    wait_until_idle(qtbot, window)
    assert warnings == []
    params = window.model.get_params()
    assert all(np.isfinite(value).all() for value in params.values())
    assert "not saved" in window.model_label.text()
    drag_stroke(window.canvas, DIGIT_THREE)
    assert window.prediction()[1].sum() == pytest.approx(1, abs=1e-4)


def test_closing_during_training_takes_under_a_second(qtbot, window, warnings):
    small_run(window)
    window.training_panel.epochs_spin.setValue(100)
    before = window.model.get_params()
    window.training_panel.train_action.trigger()
    qtbot.waitUntil(lambda: not same_params(window.model.get_params(), before), timeout=10000)
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 1.0
    assert not window.training.is_busy() and warnings == []


# ---- extreme canvases ----------------------------------------------------------------------------

def test_a_huge_window_draws_and_predicts(qtbot, window):
    window.resize(4000, 3000)
    qtbot.waitUntil(lambda: window.canvas.width() > 1500, timeout=3000)
    drag_stroke(window.canvas, DIGIT_THREE)
    window.canvas.repaint()                       # paints the big cached pixmap
    digit, probabilities = window.prediction()
    assert window.canvas.to_array().shape == (280, 280)
    assert window.prediction_view.shown_digit() == digit
    assert window.feature_view.feature_maps().shape == (26, 26, 8)


def test_an_empty_canvas_shows_no_answer_and_disables_teaching(window):
    window.undo_action.trigger()                  # undo and clear on nothing: no change, no error
    window.clear_action.trigger()
    assert window.prediction() is None and window.prediction_view.shown_digit() is None
    assert window.feature_view.feature_maps() is None
    assert window.teach_panel.add_current(3) is False and len(window.teach_panel.dataset) == 0


def test_a_canvas_inked_all_over_still_gets_an_answer(window):
    for row in np.linspace(0, 1, 40):             # the widest pen, back and forth over the whole paper
        window.canvas.add_stroke([(0, row), (1, row)], width=48)
    assert window.canvas.to_array().min() == 255
    digit, probabilities = window.prediction()
    assert window.input_view._image.shape == (28, 28) and window.input_view._image.max() > 200
    assert probabilities.sum() == pytest.approx(1, abs=1e-4) and np.isfinite(probabilities).all()
    assert window.prediction_view.shown_digit() == digit


# ---- a training process that stops answering -----------------------------------------------------

@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="suspending a process needs POSIX signals")
def test_stop_ends_a_stuck_training_process_says_so_and_the_app_stays_usable(qtbot, window, warnings):
    small_run(window)
    window.training_panel.epochs_spin.setValue(100)
    before = window.model.get_params()
    window.training_panel.train_action.trigger()
    qtbot.waitUntil(lambda: not same_params(window.model.get_params(), before), timeout=60000)
    child = window.training.child_process()
    os.kill(child.pid, signal.SIGSTOP)                 # alive, but answers nothing: stuck
    window.training_panel.stop_action.trigger()
    assert window.training.state() == "stopping"
    wait_until_idle(qtbot, window, timeout=STOP_PATIENCE_MS + 10000)
    assert not child.is_alive()
    assert len(warnings) == 1 and "did not answer Stop" in warnings[0][1] and "ended it" in warnings[0][1]
    kept = window.model.get_params()                             # the weights learnt until then are kept
    assert not same_params(kept, before) and all(np.isfinite(value).all() for value in kept.values())
    shown = kept
    window.start_choice.set_start(CONTINUE)                      # train these weights on: no question asked
    window.training_panel.epochs_spin.setValue(1)                # and training works again
    window.training_panel.train_action.trigger()
    qtbot.waitUntil(lambda: not same_params(window.model.get_params(), shown), timeout=60000)
    wait_until_idle(qtbot, window, timeout=60000)
    assert len(warnings) == 1


@pytest.mark.keeps_data
@pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"), reason="needs POSIX pipes and devices")
def test_opening_a_named_pipe_or_a_device_shows_a_dialog_without_hanging(window, tmp_path, warnings):
    before = window.model.get_params()
    os.mkfifo(tmp_path / "pipe.npz")
    for path, words in ((tmp_path / "pipe.npz", "named pipe, not a file"), ("/dev/zero", "a device, not a file")):
        assert window.open_model(path) is False          # a blocking open would never return
        assert words in warnings[-1][1] and "current model is kept" in warnings[-1][1]
    assert same_params(window.model.get_params(), before)


@pytest.mark.keeps_data
def test_two_teach_panels_on_one_folder_each_show_every_sample_after_a_change(qtbot, tmp_path):
    from core.userdata import PersonalDataset
    from gui.panels.teach import TeachPanel

    first, second = (TeachPanel(PersonalDataset(tmp_path)) for _ in range(2))
    for panel in (first, second):
        qtbot.addWidget(panel)

    def teach(panel, value, label):
        panel.set_current_image(np.full((28, 28), value))
        assert panel.add_current(label)

    teach(first, 10, 1)
    teach(second, 20, 2)                  # second never saw first's sample before this
    assert [second.browser.item(i).text() for i in range(second.browser.count())] == ["1", "2"]
    teach(first, 30, 3)
    assert [first.browser.item(i).text() for i in range(first.browser.count())] == ["1", "2", "3"]
    assert "3 stored" in first.counts_label.text()
    first.browser.setCurrentRow(0)
    first.remove_selected()
    teach(second, 40, 4)                  # second still showed 1: it is gone from the file, and from second
    assert [second.browser.item(i).text() for i in range(second.browser.count())] == ["2", "3", "4"]

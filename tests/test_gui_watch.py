"""Watch it learn, through the main window: New/Continue and seed, Step, slow motion, live learning
rate, the time machine and the drawing's chart. Each run trains in a real child process."""
import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from core import paths
from core.network import CNN
from core.replay import probabilities_through_run
from core.train import TrainConfig, learning_rate_at
from gui.main_window import MainWindow
from gui.panels.watch_controls import CONTINUE, NEW
from gui.training.messages import Result, SetLearningRate, State
from simulate import DIGIT_THREE, drag_stroke

SMALL = 256           # sample images per run
BATCH = 16            # so a run is SMALL / BATCH = 16 steps an epoch


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    path = tmp_path / "pretrained.npz"
    CNN(seed=1).save(path)
    monkeypatch.setattr(paths, "PRETRAINED_MODEL", path)
    monkeypatch.setattr(QMessageBox, "warning", lambda *args, **kwargs: pytest.fail(f"dialog: {args}"))
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: QMessageBox.StandardButton.Discard)
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    panel = win.training_panel
    panel.size_spin.setValue(SMALL)
    panel.batch_spin.setValue(BATCH)
    panel.epochs_spin.setValue(1)
    panel.augment_check.setChecked(False)
    yield win
    win.training.shutdown(2000)


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def train_to_the_end(qtbot, window):
    with qtbot.waitSignal(window.training.finished, timeout=30000) as finished:
        window.training_panel.train_action.trigger()
    assert finished.args == [Result.FINISHED]


def step_once(qtbot, window, expected_steps: int):
    """Press Step and wait until the history holds `expected_steps` steps after step 0."""
    window.pace.step_action.trigger()
    qtbot.waitUntil(lambda: len(window.watch.history) and window.watch.history.steps()[-1] == expected_steps,
                    timeout=20000)


def test_a_fresh_window_trains_a_new_network_from_the_seeds_random_weights(qtbot, window):
    pretrained = window.model.get_params()
    assert window.start_choice.starts_fresh()
    window.start_choice.seed_spin.setValue(5)
    train_to_the_end(qtbot, window)
    first = window.watch.history.at(0)
    assert first.step == 0 and same(first.params, CNN(seed=5).params)           # random weights of seed 5
    assert not same(first.params, pretrained)
    assert "seed 5" in window.model_label.text()
    assert window.watch.history.steps()[-1] == SMALL // BATCH
    assert same(window.watch.history.at(-1).params, window.model.params)       # the latest is the live model


def test_continue_trains_the_weights_the_window_has(qtbot, window):
    pretrained = window.model.get_params()
    window.start_choice.set_start(CONTINUE)
    train_to_the_end(qtbot, window)
    assert same(window.watch.history.at(0).params, pretrained)
    assert not same(window.model.params, pretrained)
    assert window.watch.history.metrics_at(-1)["loss"] > 0


def test_the_same_seed_replays_the_same_run_and_another_seed_does_not(qtbot, window):
    window.start_choice.seed_spin.setValue(7)
    train_to_the_end(qtbot, window)
    first_run = [window.watch.history.at(i) for i in range(len(window.watch.history))]
    assert not window.start_choice.starts_fresh()                              # after a run: Continue is offered
    window.start_choice.set_start(NEW)
    train_to_the_end(qtbot, window)                                            # New again, same seed
    second_run = [window.watch.history.at(i) for i in range(len(window.watch.history))]
    assert [s.step for s in first_run] == [s.step for s in second_run] == list(range(SMALL // BATCH + 1))
    for one, two in zip(first_run, second_run):
        assert same(one.params, two.params)
    window.start_choice.seed_spin.setValue(8)
    window.start_choice.set_start(NEW)
    train_to_the_end(qtbot, window)
    assert not same(window.watch.history.at(0).params, first_run[0].params)


def test_step_trains_exactly_one_batch_at_a_time(qtbot, window):
    progress = []
    window.training.progressed.connect(progress.append)
    step_once(qtbot, window, 1)                                                # from idle: a run held at step 0
    assert window.training.state() == State.PAUSED
    qtbot.wait(400)                                                            # nothing more comes on its own
    assert list(window.watch.history.steps()) == [0, 1]
    assert progress[-1].step == 1 and progress[-1].images_seen == BATCH
    step_once(qtbot, window, 2)
    qtbot.wait(300)
    assert list(window.watch.history.steps()) == [0, 1, 2] and progress[-1].images_seen == 2 * BATCH
    assert same(window.watch.history.at(-1).params, window.model.params)
    assert window.filter_view.filters().shape == (8, 3, 3) and window.filter_view.changes().max() > 0
    assert window.filter_view._gradients is not None                          # hover shows the last gradient


def test_a_learning_rate_changed_while_training_reaches_the_process_from_the_next_step(qtbot, window):
    sent = []
    original = window.training._command
    window.training._command = lambda command: (sent.append(command), original(command))
    step_once(qtbot, window, 1)
    window.training_panel.lr_spin.setValue(0.5)
    assert SetLearningRate(0.5) in sent
    step_once(qtbot, window, 2)
    total = SMALL // BATCH
    config = window.training_panel.config()
    rates = [window.watch.history.metrics_at(i)["learning_rate"] for i in (1, 2)]
    assert rates[0] == pytest.approx(learning_rate_at(TrainConfig(learning_rate=0.02, lr_schedule=config.lr_schedule), 0, total))
    assert rates[1] == pytest.approx(learning_rate_at(TrainConfig(learning_rate=0.5, lr_schedule=config.lr_schedule), 1, total))
    assert window.curve_marks.rate_changes and window.curve_marks.rate_changes[-1][1] == 0.5


def test_slow_motion_reports_every_step(qtbot, window):
    window.pace.set_steps_per_s(10)
    updates = []
    window.training.paramsUpdated.connect(updates.append)
    train_to_the_end(qtbot, window)
    assert list(window.watch.history.steps()) == list(range(SMALL // BATCH + 1))
    assert len(updates) >= SMALL // BATCH                                      # the weights after every step


def test_scrubbing_shows_the_recorded_network_everywhere_and_live_returns(qtbot, window):
    drag_stroke(window.canvas, DIGIT_THREE)
    train_to_the_end(qtbot, window)
    history = window.watch.history
    early = history.at(1)
    window.time_bar.scrub_to(1)
    assert np.array_equal(window.filter_view.filters(), early.params["conv.filters"])
    assert not np.allclose(window.filter_view.filters(), window.model.params["conv.filters"])
    replay = CNN()
    replay.set_params(early.params)
    image = window.predictor.latest().image
    np.testing.assert_allclose(window.prediction()[1], replay.predict_proba(image)[0], rtol=1e-5)
    np.testing.assert_allclose(window.feature_view.feature_maps(), replay.feature_maps(image), rtol=1e-5, atol=1e-6)
    assert window.curve_marks.cursor_x() == pytest.approx(early.metrics["x"])
    assert window.drawing_chart.cursor.isVisible() and window.drawing_chart.cursor.value() == early.step
    window.time_bar.go_live()
    assert np.array_equal(window.filter_view.filters(), window.model.params["conv.filters"])
    np.testing.assert_allclose(window.prediction()[1], window.model.predict_proba(image)[0], rtol=1e-6)
    assert window.curve_marks.cursor_x() is None


def test_the_drawings_chart_is_recomputed_from_the_history_when_the_drawing_changes(qtbot, window):
    train_to_the_end(qtbot, window)
    history = window.watch.history
    drag_stroke(window.canvas, DIGIT_THREE)
    image = window.predictor.latest().image
    qtbot.waitUntil(lambda: len(window.drawing_chart.steps()) == len(history), timeout=3000)
    np.testing.assert_allclose(window.drawing_chart.probabilities(), probabilities_through_run(history, image))
    before = window.drawing_chart.probabilities()
    window.canvas.clear()
    drag_stroke(window.canvas, [(0.5, 0.15), (0.5, 0.85)])                    # a "1" now
    new_image = window.predictor.latest().image
    qtbot.waitUntil(lambda: window.drawing_chart.probabilities().shape == before.shape
                    and not np.allclose(window.drawing_chart.probabilities(), before), timeout=3000)
    np.testing.assert_allclose(window.drawing_chart.probabilities(), probabilities_through_run(history, new_image))


def test_each_filter_is_at_least_96_px_and_the_training_tab_needs_no_scrolling_in_the_default_window(
        qtbot, window):
    window.resize(1280, 860)
    qtbot.waitUntil(lambda: window.width() == 1280)
    qtbot.wait(100)
    grid = window.filter_view.grid
    for index in range(grid.tile_count()):
        rect = grid.tile_rect(index)
        assert rect.width() >= 96 and rect.height() >= 96
    area = window.tabs.widget(0)                                   # the Training tab's scroll area
    assert not area.verticalScrollBar().isVisible() and not area.horizontalScrollBar().isVisible()


def test_the_see_why_output_weight_pictures_follow_the_time_machine(qtbot, window):
    drag_stroke(window.canvas, DIGIT_THREE)
    train_to_the_end(qtbot, window)
    why = window.why_panel
    window.tabs.setCurrentIndex(window.why_tab)
    why.setCurrentWidget(why.digit_weights)
    early = window.watch.history.at(1)
    window.time_bar.scrub_to(1)
    qtbot.waitUntil(lambda: why.digit_weights._weights is not None
                    and np.array_equal(why.digit_weights._weights, early.params["softmax.weights"]), timeout=3000)
    window.time_bar.go_live()
    qtbot.waitUntil(lambda: np.array_equal(why.digit_weights._weights, window.model.params["softmax.weights"]),
                    timeout=3000)


def test_after_a_run_train_continues_that_network(qtbot, window):
    train_to_the_end(qtbot, window)
    trained = window.model.get_params()
    assert not window.start_choice.starts_fresh()
    train_to_the_end(qtbot, window)                                            # no question: it goes on
    assert same(window.watch.history.at(0).params, trained)

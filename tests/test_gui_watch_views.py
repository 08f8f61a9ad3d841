"""The views for watching a run: filter board, time machine bar, drawing chart, and RunWatch tying them."""
import numpy as np

from core.network import CNN
from core.replay import filter_change, probabilities_through_run
from gui.panels.watch_controls import SPEEDS, PaceControls, StartChoice
from gui.run_watch import RunWatch
from gui.views.curve_marks import CurveMarks
from gui.views.curves import TrainingCurves
from gui.views.drawing_history import DrawingHistoryChart
from gui.views.filter_board import FilterBoard
from gui.views.time_machine import TimeMachineBar


def make_records(count, seed=0):
    """(step, params, metrics) of a made-up run whose weights drift step by step."""
    rng = np.random.default_rng(seed)
    model = CNN(seed=seed)
    records = []
    for step in range(count):
        records.append((step, model.get_params(), {"epoch": 1, "x": step / 100, "loss": 2.0 - step / count,
                                                    "accuracy": step / count}))
        for array in model.params.values():
            array += rng.normal(0, 0.05, array.shape).astype(array.dtype)
    return records


def a_drawing():
    image = np.zeros((28, 28), dtype=np.float32)
    image[6:22, 13:16] = 255
    return image


# ---- FilterBoard ------------------------------------------------------------------------------

def test_filter_board_shows_each_filters_change_since_the_start_and_hover_gives_weight_and_gradient(qtbot):
    board = FilterBoard()
    qtbot.addWidget(board)
    start = CNN(seed=0).params["conv.filters"]
    now = start.copy()
    now[2] += 0.5
    now[5, 1, 1] -= 0.2
    board.set_filters(start)
    board.set_start(start)
    board.set_filters(now)
    np.testing.assert_allclose(board.changes(), filter_change(start, now))
    assert board.changes()[2] == board.changes().max() and board.changes()[0] == 0
    assert board.grid._fractions[2] == 1.0 and board.grid._fractions[0] == 0.0
    early = start.copy()
    early[2] += 0.05                                                  # scrubbed back: a tenth of the way
    board.set_filters(early)
    np.testing.assert_allclose(board.grid._fractions[2], 0.1, rtol=1e-6)     # on the run's largest change
    board.set_filters(now)

    gradients = np.arange(72, dtype=np.float64).reshape(8, 3, 3) * 1e-3
    board.set_gradients(gradients)
    text = board.tooltip_text(5, 1, 1)
    assert f"weight {now[5, 1, 1]:+.4f}" in text
    assert f"gradient at the last step {gradients[5, 1, 1]:+.2e}" in text
    assert f"moved {board.changes()[5]:.3f}" in text
    board.set_live(False)                                             # the time machine shows a snapshot
    assert "live network only" in board.tooltip_text(5, 1, 1) and "last step" not in board.tooltip_text(5, 1, 1)
    board.set_live(True)
    board.set_gradients(None)
    assert "gradient: none yet" in board.tooltip_text(0, 0, 0)


def test_filter_board_hover_finds_the_weight_under_the_mouse(qtbot):
    board = FilterBoard()
    qtbot.addWidget(board)
    board.resize(520, 330)
    board.show()
    qtbot.waitExposed(board)
    board.set_filters(CNN(seed=1).params["conv.filters"])
    rect = board.grid.tile_rect(6)                                   # filter 7, second row
    x = rect.left() + rect.width() * 2.5 / 3                          # its column 3, row 1
    y = rect.top() + rect.height() * 0.5 / 3
    assert board.grid.pixel_at(x, y) == (6, 0, 2)
    assert rect.width() >= 96


# ---- TimeMachineBar ---------------------------------------------------------------------------

def test_time_machine_bar_scrubs_goes_live_and_follows_the_newest_while_live(qtbot):
    bar = TimeMachineBar()
    qtbot.addWidget(bar)
    scrubbed, live = [], []
    bar.scrubbed.connect(scrubbed.append)
    bar.liveRequested.connect(lambda: live.append(True))
    bar.set_count(5)
    assert bar.is_live() and bar.slider.value() == 4 and scrubbed == []      # following: no scrub signal
    bar.slider.setValue(1)                                                    # the user drags
    assert scrubbed == [1] and bar.index() == 1
    bar.set_count(9)                                                          # the run goes on
    assert bar.index() == 1 and bar.slider.value() == 1
    bar.go_live()
    assert live == [True] and bar.is_live() and bar.slider.value() == 8


def test_play_replays_from_the_start_and_returns_to_live_at_the_end(qtbot):
    bar = TimeMachineBar()
    qtbot.addWidget(bar)
    shown = []
    bar.scrubbed.connect(shown.append)
    bar.set_count(4)
    with qtbot.waitSignal(bar.liveRequested, timeout=3000):
        bar.play()
    assert shown == [0, 1, 2, 3] and bar.is_live() and not bar.is_playing()


# ---- DrawingHistoryChart ----------------------------------------------------------------------

def test_drawing_chart_highlights_the_latest_answer_and_its_top_rivals(qtbot):
    chart = DrawingHistoryChart()
    qtbot.addWidget(chart)
    probs = np.full((3, 10), 0.02)
    probs[0, 4], probs[1, 9], probs[2, 7], probs[2, 1] = 0.8, 0.6, 0.7, 0.1
    chart.set_series([0, 5, 10], probs)
    assert chart.digit() == 7 and chart.rivals() == [4, 9, 1]
    x, y = chart._lines[0].getData()
    np.testing.assert_array_equal(x, [0, 5, 10])
    np.testing.assert_allclose(y, 100 * probs[:, 7])
    chart.append(12, np.eye(10)[3])
    assert list(chart.steps()) == [0, 5, 10, 12] and chart.digit() == 3
    chart.append(11, np.eye(10)[2])                                   # older than the newest: ignored
    assert len(chart.steps()) == 4


# ---- controls ----------------------------------------------------------------------------------

def test_pace_and_start_controls_read_back_and_lock_while_training(qtbot):
    pace, start = PaceControls(), StartChoice()
    qtbot.addWidget(pace)
    speeds = []
    pace.speedChanged.connect(speeds.append)
    pace.set_steps_per_s(2)
    assert pace.steps_per_s() == 2 and speeds == [2] and "slow motion" in pace.speed_label.text()
    pace.speed_slider.setValue(len(SPEEDS) - 1)
    assert pace.steps_per_s() is None and speeds[-1] is None
    assert start.starts_fresh()                                           # a fresh window: new network
    pace.set_training_state("running")
    start.set_training_state("running")
    assert not pace.step_action.isEnabled() and not start.seed_spin.isEnabled()
    pace.set_training_state("paused")
    assert pace.step_action.isEnabled()


# ---- RunWatch ----------------------------------------------------------------------------------

def _watch(qtbot, budget=None):
    bar, board, chart, curves = TimeMachineBar(), FilterBoard(), DrawingHistoryChart(), TrainingCurves()
    for widget in (bar, board, chart, curves):
        qtbot.addWidget(widget)
    marks = CurveMarks(curves)
    kwargs = {} if budget is None else {"budget": budget}
    return RunWatch(bar, board, chart, marks, **kwargs), marks


def test_run_watch_records_snapshots_and_scrubbing_emits_the_recorded_params(qtbot):
    watch, marks = _watch(qtbot)
    records = make_records(12)
    watch.begin_run()
    watch.add_snapshots(records[:5])
    watch.add_snapshots(records[5:])
    assert len(watch.history) == 12 and watch.bar.slider.maximum() == 11
    np.testing.assert_array_equal(watch.board._start, records[0][1]["conv.filters"])
    shown = []
    watch.networkChanged.connect(shown.append)
    watch.bar.scrub_to(3)
    for name, array in records[3][1].items():
        np.testing.assert_array_equal(shown[-1][name], array)
    assert marks.cursor_x() == records[3][2]["x"] and "step 3" in watch.bar.label.text()
    watch.bar.go_live()
    assert shown[-1] is None and marks.cursor_x() is None


def test_run_watch_recomputes_the_drawing_chart_from_the_history_when_the_drawing_changes(qtbot):
    watch, _ = _watch(qtbot)
    watch.begin_run()
    watch.add_snapshots(make_records(30))
    image = a_drawing()
    watch.set_drawing(image)
    watch.recompute_chart()
    np.testing.assert_allclose(watch.chart.probabilities(), probabilities_through_run(watch.history, image))
    other = np.rot90(image).copy()
    watch.set_drawing(other)
    qtbot.waitUntil(lambda: not watch.chart_pending(), timeout=3000)
    np.testing.assert_allclose(watch.chart.probabilities(), probabilities_through_run(watch.history, other))


def test_a_learning_rate_change_is_marked_at_the_newest_step(qtbot):
    watch, marks = _watch(qtbot)
    watch.begin_run()
    watch.add_snapshots(make_records(8))
    watch.mark_learning_rate(0.1)
    assert marks.rate_changes == [(0.07, 0.1)]


def test_the_snapshot_shown_keeps_its_place_when_the_history_is_thinned(qtbot):
    records = make_records(40)
    record_bytes = sum(a.nbytes for a in records[0][1].values()) + 256
    for shown, expected in ((8, 8), (6, 4)):                          # 6 is dropped at stride 4: nearest
        watch, _ = _watch(qtbot, budget=16 * record_bytes)          # 16 snapshots fit
        watch.begin_run()
        watch.add_snapshots(records[:15])
        watch.bar.scrub_to(shown)
        emitted = []
        watch.networkChanged.connect(emitted.append)
        watch.add_snapshots(records[15:])                             # thinned to stride 4
        assert watch.history.stride == 4
        index = watch.bar.index()
        assert watch.history.steps()[index] == expected and watch.bar.slider.value() == index
        if shown != expected:
            assert np.array_equal(emitted[-1]["conv.filters"], records[expected][1]["conv.filters"])
        else:
            assert emitted == []


def test_a_fast_drag_redraws_at_most_every_few_frames_and_ends_on_the_last_position(qtbot):
    bar = TimeMachineBar()
    qtbot.addWidget(bar)
    shown = []
    bar.scrubbed.connect(shown.append)
    bar.set_count(50)
    for value in range(10, 20):                                      # ten moves within one interval
        bar.slider.setValue(value)
    assert shown == [10] and bar.index() == 19
    qtbot.waitUntil(lambda: shown[-1] == 19, timeout=1000)
    assert shown == [10, 19]


def test_cursors_follow_a_fast_scrub_within_a_moment_and_end_on_the_snapshot_shown(qtbot):
    watch, marks = _watch(qtbot)
    records = make_records(20)
    watch.begin_run()
    watch.add_snapshots(records)
    watch.bar.scrub_to(2)
    assert marks.cursor_x() == records[2][2]["x"]                     # the first move: at once
    watch.bar.scrub_to(9)
    watch.bar.scrub_to(11)                                            # a drag goes on
    qtbot.waitUntil(lambda: marks.cursor_x() == records[11][2]["x"], timeout=1000)
    assert watch.chart.cursor.value() == 11


def test_live_points_cover_every_step_of_each_batch(qtbot):
    watch, _ = _watch(qtbot)
    records = make_records(12)
    watch.begin_run()
    watch.set_drawing(a_drawing())
    watch._recompute.stop()                                            # only the live points, here
    watch.add_snapshots(records[:5])
    watch.add_snapshots(records[5:])
    assert list(watch.chart.steps()) == list(range(12))
    np.testing.assert_allclose(watch.chart.probabilities(), probabilities_through_run(watch.history, a_drawing()))
    watch.chart.flush()                                                 # redraws are throttled to a few a second
    axis = watch.chart.plot.getAxis("left")
    assert axis.style["showValues"] and axis.label.isVisible()           # a series has its axes


def test_the_thick_line_follows_the_answer_as_it_changes_during_a_run(qtbot):
    chart = DrawingHistoryChart()
    qtbot.addWidget(chart)
    early = np.full((1, 10), 0.05)
    early[0, 5] = 0.55                                      # a random network first reads a 5
    later = np.full((1, 10), 0.02)
    later[0, 3] = 0.82                                      # two batches on, it reads the 3 that was drawn
    chart.extend([1], early)
    chart.extend([2], early)
    assert chart.digit() == 5
    chart.extend([3], later)
    assert chart.digit() == 3

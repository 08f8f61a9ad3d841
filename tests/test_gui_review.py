"""Rough edges found by driving the merged window as a user (the review round)."""
import dataclasses

import numpy as np

from gui_fixtures import pretrained  # noqa: F401 (fixture)

from core.train import Progress


def _batch(step: int, steps_per_epoch: int = 157) -> Progress:
    values = dict(kind="batch", epoch=1, epochs=3, step=step, steps_per_epoch=steps_per_epoch,
                  images_seen=64 * step, total_images=3 * 64 * steps_per_epoch, loss=2.3, accuracy=0.1,
                  images_per_s=1000.0, eta_s=5.0, learning_rate=0.02)
    names = {field.name for field in dataclasses.fields(Progress)}
    return Progress(**{name: values.get(name) for name in names})


def test_curves_after_the_first_update_span_from_the_run_start_not_around_the_point(qtbot):
    from gui.views.curves import TrainingCurves

    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.resize(800, 300)
    curves.show()
    curves.add_progress(_batch(1))                     # x = 1/157 of an epoch
    qtbot.wait(50)
    for plot in curves.plots():
        low, high = plot.getViewBox().viewRange()[0]
        assert -0.01 < low <= 0 and 1 / 157 <= high < 0.05   # not -0.4 .. +0.4 around the point
    curves.add_progress(_batch(40))
    curves.flush()                                     # redraws are throttled to a few a second
    qtbot.wait(50)
    low, high = curves.loss_plot.getViewBox().viewRange()[0]
    assert 40 / 157 <= high < 0.4 and low > -0.05          # autorange is back once there is a span


def test_drawing_chart_with_one_step_shows_steps_from_zero(qtbot):
    from gui.views.drawing_history import DrawingHistoryChart

    chart = DrawingHistoryChart()
    qtbot.addWidget(chart)
    chart.resize(420, 200)
    chart.show()
    chart.append(1, np.full(10, 0.1))
    qtbot.wait(50)
    low, high = chart.plot.getViewBox().viewRange()[0]
    assert -0.1 < low <= 0 and 1 <= high < 1.2              # not 0.6 .. 1.4
    for step in range(2, 30):
        chart.append(step, np.full(10, 0.1))
    chart.flush()                                          # redraws are throttled to a few a second
    qtbot.wait(50)
    low, high = chart.plot.getViewBox().viewRange()[0]
    assert 29 <= high < 32 and -1 < low < 1.5              # autorange follows the series again


def test_at_the_minimum_size_the_start_choice_and_the_time_machine_slider_are_whole(qtbot, pretrained):
    from PySide6.QtWidgets import QComboBox

    from gui_fixtures import open_window

    window = open_window(qtbot)
    label = window.time_bar.label
    label.setText("Live: step 314 · epoch 2 · loss 0.535 · accuracy 84%")
    window.resize(1280, 860)
    qtbot.wait(50)
    assert label.width() >= label.fontMetrics().horizontalAdvance(label.text())   # one line at the default size
    window.resize(window.minimumSizeHint())
    qtbot.wait(50)
    assert window.width() <= 1024                                    # still fits a small laptop screen
    assert window.time_bar.slider.width() >= 120                 # was 15 px: a bare handle
    combos = [c for c in window.training_panel.findChildren(QComboBox) if c.isVisible()]
    assert window.start_choice.start_combo in combos
    for combo in combos:
        for i in range(combo.count()):
            combo.setCurrentIndex(i)
            qtbot.wait(5)
            assert combo.minimumSizeHint().width() <= combo.width() or \
                combo.fontMetrics().horizontalAdvance(combo.itemText(i)) + 40 <= combo.width(), combo.itemText(i)


def test_in_slow_motion_the_time_left_counts_the_spaced_steps(qtbot, pretrained):
    from gui_fixtures import open_window

    window = open_window(qtbot)
    panel = window.training_panel
    progress = dataclasses.replace(_batch(11), eta_s=2.0)            # the engine: 2 s of compute left
    panel.show_progress(progress)
    assert "0:02 left" in panel.speed_label.text()                   # full speed: the engine's figure
    window.pace.set_steps_per_s(2)                                   # the user picks slow motion
    panel.show_progress(progress)
    assert "3:50 left" in panel.speed_label.text()                   # (3 * 157 - 11) steps / 2 per s = 230 s
    window.pace.speed_slider.setValue(window.pace.speed_slider.maximum())
    panel.show_progress(progress)
    assert "0:02 left" in panel.speed_label.text()


def test_filter_change_bars_stay_short_while_every_change_reads_0_000(qtbot):
    from core.network import CNN
    from gui.views.filter_board import FilterBoard

    board = FilterBoard()
    qtbot.addWidget(board)
    start = CNN(seed=0).params["conv.filters"]                         # (8, 3, 3)
    board.set_filters(start)
    board.set_start(start)
    first_step = start + np.linspace(1e-5, 1e-4, 8)[:, None, None]      # a run's first step: tiny moves
    board.set_filters(first_step)
    assert all(f"{c:.3f}" == "0.000" for c in board.changes())
    assert max(board.grid._fractions) < 0.1                            # was a full bar beside "0.000"
    later = start.copy()
    later[3] += 0.2
    board.set_filters(later)
    assert board.grid._fractions[3] == 1.0                             # real changes still fill it


def test_the_filter_lab_painting_never_shows_minus_zero():
    from gui.panels.filter_lab import weight_text

    assert [weight_text(v) for v in (-0.0, -0.004, 0.004, 0.0)] == ["0.00"] * 4
    assert weight_text(0.32) == "+0.32" and weight_text(-0.05) == "-0.05"


def test_the_noise_chart_counts_in_percent_like_its_slider(qtbot):
    from core.network import CNN
    from gui.panels.stress import StressPanel

    panel = StressPanel()
    qtbot.addWidget(panel)
    image = np.zeros((28, 28), np.float32)
    image[6:22, 13:16] = 255                                           # a one
    panel.show_state(CNN(seed=0), image)
    panel.set_setting("noise", 0.3)
    assert panel.slider_labels["noise"].text() == "30%"
    ticks = panel.chart.getAxis("bottom")._tickLevels
    assert ticks and [label for _, label in ticks[0]][-1] == "100%"    # was 0 .. 1 beside a "30%" slider
    panel.set_setting("rotate", 10)
    assert panel.chart.getAxis("bottom")._tickLevels is None           # degrees: the plot's own ticks


def test_the_first_save_dialog_opens_in_the_home_folder_not_the_working_directory(qtbot, pretrained, monkeypatch):
    from pathlib import Path

    from PySide6.QtWidgets import QFileDialog

    from gui_fixtures import open_window

    window = open_window(qtbot)
    window.settings.remove("model/folder")
    folders = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda parent, title, folder, *rest: folders.append(folder) or ("", ""))
    assert not window.choose_file_to_save()                            # cancelled: nothing saved
    assert folders == [str(Path.home())]

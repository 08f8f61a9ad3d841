"""The window with the shipped model (assets/model.npz): real strokes whose digit is known.

A wrong live prediction (preprocessing, network, the predictor's timing) fails these, which a
random "pretrained" model cannot show. The drawings are ones any good model reads unambiguously.
"""
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from core import paths
from gui_fixtures import open_window
from simulate import (DIGIT_FOUR, DIGIT_ONE, DIGIT_SEVEN, DIGIT_THREE, DIGIT_ZERO, drag_stroke, interpolate,
                      move, press, release)

DRAWINGS = {0: DIGIT_ZERO, 1: DIGIT_ONE, 3: [DIGIT_THREE], 4: DIGIT_FOUR, 7: DIGIT_SEVEN}


@pytest.fixture
def window(qtbot):
    assert paths.PRETRAINED_MODEL.is_file(), "the shipped model is part of the repository"
    window = open_window(qtbot)
    assert window.session.description.startswith("pretrained")
    return window


def draw(canvas, strokes):
    for stroke in strokes:
        drag_stroke(canvas, stroke)


@pytest.mark.parametrize("digit", sorted(DRAWINGS))
def test_a_drawn_digit_is_read_right_and_shown(window, digit):
    draw(window.canvas, DRAWINGS[digit])
    predicted, probabilities = window.prediction()
    assert predicted == digit, f"read {predicted} ({probabilities.round(3)})"
    assert probabilities[digit] > 0.8
    assert window.prediction_view.shown_digit() == digit


def test_the_answer_follows_the_drawing_through_undo_and_clear(window):
    draw(window.canvas, DIGIT_FOUR)
    four = window.prediction()
    assert four[0] == 4
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)   # the 4's stem is gone
    assert window.canvas.stroke_count() == 1
    assert np.abs(window.prediction()[1] - four[1]).max() > 0.05             # a new answer for what is left
    QTest.keyClick(window, Qt.Key.Key_Escape)
    assert window.prediction() is None
    draw(window.canvas, DIGIT_SEVEN)
    assert window.prediction()[0] == 7 and window.prediction_view.shown_digit() == 7


def test_the_answer_is_current_the_moment_the_pen_lifts(window):
    """prediction() right after the last move: a pending throttled update is done first."""
    draw(window.canvas, DIGIT_ONE)
    assert window.prediction()[0] == 1
    QTest.keyClick(window, Qt.Key.Key_Escape)
    path = interpolate(DIGIT_ZERO[0], 4)
    press(window.canvas, *path[0])
    for x, y in path[1:]:
        move(window.canvas, x, y)
    assert window.prediction()[0] == 0                       # asked before the throttle's timer fires
    release(window.canvas, *path[-1])
    assert window.prediction()[0] == 0


def test_the_prediction_while_drawing_shows_up_before_the_pen_lifts(window, qtbot):
    path = interpolate(DIGIT_SEVEN[0], 6)
    press(window.canvas, *path[0])
    for x, y in path[1:]:
        move(window.canvas, x, y)
    qtbot.waitUntil(lambda: window.prediction_view.shown_digit() == 7, timeout=3000)
    assert window.canvas.stroke_count() == 0
    release(window.canvas, *path[-1])

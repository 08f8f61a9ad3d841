"""The drawing canvas: mouse strokes become ink, dots, undo/clear, resize-proof strokes, pen width."""
import numpy as np
import pytest

from gui.views.canvas import ARRAY_SIZE, DrawingCanvas
from simulate import drag_stroke, press, release, widget_point


@pytest.fixture
def canvas(qtbot):
    widget = DrawingCanvas()
    qtbot.addWidget(widget)
    widget.resize(320, 320)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def ink_at(array, x, y):
    """Ink of `array` at unit point (x, y)."""
    size = array.shape[0]
    return array[min(int(y * size), size - 1), min(int(x * size), size - 1)]


def test_blank_canvas_has_no_ink(canvas):
    array = canvas.to_array()
    assert canvas.is_blank()
    assert array.shape == (ARRAY_SIZE, ARRAY_SIZE) and array.dtype == np.uint8
    assert array.max() == 0


def test_mouse_stroke_leaves_ink_along_its_path_only(canvas, qtbot):
    with qtbot.waitSignal(canvas.edited):
        drag_stroke(canvas, [(0.2, 0.5), (0.8, 0.5)])
    array = canvas.to_array()
    assert canvas.stroke_count() == 1
    assert all(ink_at(array, x, 0.5) > 200 for x in (0.25, 0.5, 0.75))
    assert ink_at(array, 0.5, 0.2) == 0 and ink_at(array, 0.5, 0.8) == 0
    assert ink_at(array, 0.05, 0.5) == 0                     # nothing before the stroke's start


def test_pen_moves_emit_changed_before_the_stroke_ends(canvas, qtbot):
    changes = []
    canvas.changed.connect(lambda: changes.append(canvas.stroke_count()))
    drag_stroke(canvas, [(0.2, 0.2), (0.8, 0.8)])
    assert len(changes) > 3
    assert 0 in changes                                    # some came while the stroke was open


def test_click_without_movement_leaves_a_round_dot(canvas):
    press(canvas, 0.5, 0.5)
    release(canvas, 0.5, 0.5)
    array = canvas.to_array()
    assert canvas.stroke_count() == 1
    assert ink_at(array, 0.5, 0.5) > 200
    radius = canvas.pen_width() / ARRAY_SIZE / 2
    assert ink_at(array, 0.5 + 2 * radius, 0.5) == 0        # a dot, not a line


def test_undo_removes_the_last_stroke_and_clear_removes_all(canvas):
    drag_stroke(canvas, [(0.2, 0.3), (0.8, 0.3)])
    drag_stroke(canvas, [(0.2, 0.7), (0.8, 0.7)])
    canvas.undo()
    array = canvas.to_array()
    assert ink_at(array, 0.5, 0.3) > 200 and ink_at(array, 0.5, 0.7) == 0
    canvas.clear()
    assert canvas.is_blank() and canvas.to_array().max() == 0


def test_drawing_survives_resize_and_new_strokes_land_where_drawn(canvas, qtbot):
    drag_stroke(canvas, [(0.2, 0.3), (0.8, 0.3)])
    before = canvas.to_array()
    canvas.resize(500, 260)                                  # wide: the paper stays square
    qtbot.wait(10)
    assert np.array_equal(canvas.to_array(), before)
    paper = canvas.paper_rect()
    assert paper.width() == paper.height() < 260
    drag_stroke(canvas, [(0.2, 0.7), (0.8, 0.7)])
    array = canvas.to_array()
    assert ink_at(array, 0.5, 0.7) > 200 and ink_at(array, 0.5, 0.3) > 200


def test_points_map_into_the_centred_square(canvas):
    canvas.resize(400, 240)
    left, right = widget_point(canvas, 0, 0.5), widget_point(canvas, 1, 0.5)
    top, bottom = widget_point(canvas, 0.5, 0), widget_point(canvas, 0.5, 1)
    side = bottom.y() - top.y()
    assert side <= 240 and abs((right.x() - left.x()) - side) <= 1     # square, not stretched
    assert abs(left.x() - (400 - side) / 2) <= 1                      # centred


def test_wider_pen_leaves_more_ink(canvas):
    canvas.set_pen_width(8)
    drag_stroke(canvas, [(0.2, 0.5), (0.8, 0.5)])
    thin = int(canvas.to_array().sum())
    canvas.clear()
    canvas.set_pen_width(30)
    drag_stroke(canvas, [(0.2, 0.5), (0.8, 0.5)])
    assert canvas.to_array().sum() > 2.5 * thin


def test_an_image_put_on_the_paper_is_drawn_and_undone(canvas):
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 12:16] = 255                                # a bar: "1"
    canvas.set_image(image)
    array = canvas.to_array()
    assert not canvas.is_blank()
    assert ink_at(array, 14 / 28, 0.5) > 200 and ink_at(array, 0.1, 0.5) == 0
    canvas.undo()
    assert canvas.is_blank()


def test_undo_takes_the_strokes_drawn_on_a_picture_before_the_picture(canvas):
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 12:16] = 255                                # a bar: "1"
    canvas.set_image(image)
    drag_stroke(canvas, [(0.1, 0.1), (0.3, 0.1)])
    drag_stroke(canvas, [(0.1, 0.9), (0.3, 0.9)])
    canvas.undo()
    array = canvas.to_array()
    assert canvas.stroke_count() == 1
    assert ink_at(array, 0.5, 0.5) > 200 and ink_at(array, 0.2, 0.1) > 200 and ink_at(array, 0.2, 0.9) == 0
    canvas.undo()
    array = canvas.to_array()
    assert canvas.stroke_count() == 0 and not canvas.is_blank()
    assert ink_at(array, 0.5, 0.5) > 200 and ink_at(array, 0.2, 0.1) == 0
    canvas.undo()
    assert canvas.is_blank() and canvas.to_array().max() == 0

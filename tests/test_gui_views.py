"""Display widgets: filters on one shared symmetric colour scale, feature maps, the prediction."""
import numpy as np
import pytest

from gui.views.colormap import diverging_rgb, symmetric_limit
from gui.views.network_view import FeatureMapView, FilterView, InputView
from gui.views.prediction_view import BLANK_TEXT, PredictionView
from qimages import qimage_to_rgb


def test_diverging_map_is_white_at_zero_and_opposite_hues_at_the_limits():
    rgb = diverging_rgb(np.array([-2.0, 0.0, 2.0, 5.0]), limit=2.0)      # (4, 3)
    blue, white, red, beyond = rgb.astype(int)
    assert white.min() > 200                                             # near-white centre
    assert blue[2] > blue[0] + 80 and red[0] > red[2] + 80
    assert np.array_equal(beyond, red)                                   # clipped at the limit


def test_diverging_map_places_each_value_at_its_position_on_the_colour_map():
    import pyqtgraph as pg

    from gui.views.colormap import DIVERGING

    limit = 4.0
    values = np.array([[-limit, -limit / 2, 0.0], [limit / 4, limit / 2, limit]])    # (2, 3)
    positions = np.array([0.0, 0.25, 0.5, 0.625, 0.75, 1.0])   # -limit -> 0, 0 -> 1/2, +limit -> 1
    expected = pg.colormap.get(DIVERGING).map(positions, mode="byte")[:, :3].reshape(2, 3, 3)
    rgb = diverging_rgb(values, limit)
    assert rgb.dtype == np.uint8 and rgb.shape == (2, 3, 3)
    assert np.array_equal(rgb, expected)
    assert len({tuple(colour) for colour in rgb.reshape(-1, 3)}) == 6          # no two positions alike


def test_symmetric_limit_is_the_largest_magnitude():
    assert symmetric_limit(np.array([[0.1, -0.7], [0.3, 0.2]])) == pytest.approx(0.7)
    assert symmetric_limit(np.zeros(3)) > 0                             # never divides by zero


def test_filters_share_one_scale(qtbot):
    view = FilterView()
    qtbot.addWidget(view)
    filters = np.zeros((8, 3, 3))
    filters[0, 0, 0] = 0.5          # the largest weight of all
    filters[1, 0, 0] = 0.1          # small: must look pale next to filter 1, not saturated
    filters[2, 0, 0] = -0.5
    view.set_filters(filters)
    assert view.limit == pytest.approx(0.5)
    tiles = [qimage_to_rgb(image) for image in view.grid._images]       # 8 x (3, 3, 3)
    strong, weak, negative = tiles[0][0, 0], tiles[1][0, 0], tiles[2][0, 0]
    assert strong[0] > 150 and strong[2] < 100                           # saturated red
    assert weak.min() > 150                                              # pale
    assert negative[2] > negative[0] + 80                                # blue


def test_filter_tooltip_names_the_hovered_weight(qtbot):
    view = FilterView()
    qtbot.addWidget(view)
    filters = np.arange(8 * 9, dtype=float).reshape(8, 3, 3) / 100 - 0.3
    view.set_filters(filters)
    view.resize(600, 200)
    rect = view.grid.tile_rect(3)
    x = rect.left() + rect.width() * 5 / 6                               # column 3
    y = rect.top() + rect.height() / 6                                   # row 1
    tile, row, col = view.grid.pixel_at(x, y)
    assert (tile, row, col) == (3, 0, 2)
    text = view.grid._tooltip(tile, row, col)
    assert f"{filters[3, 0, 2]:+.3f}" in text and "Filter 4" in text


def test_feature_maps_show_a_placeholder_for_a_blank_canvas(qtbot):
    view = FeatureMapView()
    qtbot.addWidget(view)
    maps = np.random.default_rng(0).normal(size=(26, 26, 8))
    view.set_feature_maps(maps)
    assert view.grid.tile_count() == 8 and np.allclose(view.feature_maps(), maps)
    view.set_feature_maps(None)
    assert view.feature_maps() is None and view.grid._placeholder


def test_input_view_shows_ink_dark(qtbot):
    view = InputView()
    qtbot.addWidget(view)
    image = np.zeros((28, 28))
    image[10, 10] = 255
    view.set_image(image)
    rgb = qimage_to_rgb(view.grid._images[0])                           # (28, 28, 3)
    assert rgb[10, 10].max() == 0 and rgb[0, 0].min() == 255


def test_prediction_view_names_the_most_likely_digit_or_asks_for_one(qtbot):
    view = PredictionView()
    qtbot.addWidget(view)
    assert view.confidence_label.text() == BLANK_TEXT and view.shown_digit() is None
    probabilities = np.full(10, 0.02)
    probabilities[7] = 0.82
    view.set_probabilities(probabilities)
    assert view.digit_label.text() == "7" and view.shown_digit() == 7
    assert "82%" in view.confidence_label.text()
    view.set_probabilities(None)
    assert view.digit_label.text() != "7" and view.confidence_label.text() == BLANK_TEXT


def test_gradient_stops_run_from_minus_to_plus_the_limit():
    from gui.views.colormap import diverging_rgb, gradient_stops, paper_rgb

    stops = gradient_stops(3)
    expected = diverging_rgb(np.array([-1.0, 0.0, 1.0]), 1.0)
    assert [p for p, _ in stops] == [0.0, 0.5, 1.0]
    assert [c for _, c in stops] == [tuple(int(v) for v in rgb) for rgb in expected]
    np.testing.assert_array_equal(paper_rgb(np.array([-5.0, 0.0, 300.0])), [[255] * 3, [255] * 3, [0] * 3])


def test_paper_shades_are_whole_grey_levels():
    from gui.views.colormap import paper_rgb

    rgb = paper_rgb(np.array([[100.7, 0.2], [254.9, 37.0]]))         # ink with fractions, as resampling gives
    assert rgb.dtype == np.uint8 and rgb.shape == (2, 2, 3)
    np.testing.assert_array_equal(rgb[..., 0], [[155, 255], [1, 218]])   # the ink's whole part, on white
    np.testing.assert_array_equal(rgb[..., 1], rgb[..., 0])
    np.testing.assert_array_equal(rgb[..., 2], rgb[..., 0])

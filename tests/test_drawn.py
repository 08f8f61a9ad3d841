"""core.drawn, the drawn-digit renderer, piece by piece against slow or hand-worked answers."""
import numpy as np
import pytest

from core import drawn
from core.drawn import Drawing, centre_line, draw, thin

RNG = np.random.default_rng(11)


def slow_distance(mask, limit):
    """Distance from every pixel centre to the nearest True pixel, capped: by brute force."""
    points = np.argwhere(mask)
    rows, cols = np.mgrid[:mask.shape[0], :mask.shape[1]]
    if not len(points):
        return np.full(mask.shape, float(limit))
    d = np.hypot(rows[..., None] - points[:, 0], cols[..., None] - points[:, 1]).min(axis=-1)
    return np.minimum(d, limit)


@pytest.mark.parametrize("shape, density, limit", [((9, 13), 0.1, 3.0), ((20, 7), 0.03, 2.5), ((6, 6), 0.0, 4)])
def test_distance_to_the_line_matches_brute_force(shape, density, limit):
    mask = RNG.random(shape) < density
    np.testing.assert_allclose(drawn._distance_to(mask, limit), slow_distance(mask, limit), atol=1e-9)


def test_distance_along_rows_looks_both_ways_and_stays_in_the_row():
    mask = np.array([[0, 1, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 0]], bool)
    along = drawn._distance_along_rows(mask)
    np.testing.assert_array_equal(along[0], [1, 0, 1, 2, 1, 0, 1])
    assert np.isinf(along[1]).all()


def test_enlarge_is_bilinear_with_centres_aligned():
    image = np.array([[0.0, 1.0], [2.0, 3.0]], np.float32)
    big = drawn._enlarge(image, 2)                     # (4, 4)
    # output centres at input coordinates -0.25, 0.25, 0.75, 1.25 -> clipped to 0 .. 1
    np.testing.assert_allclose(big[0], [0.0, 0.25, 0.75, 1.0])
    np.testing.assert_allclose(big[:, 0], [0.0, 0.5, 1.5, 2.0])
    np.testing.assert_allclose(big[1, 1], 0.75 * 0.25 * 1 + 0.25 * 0.75 * 2 + 0.25 * 0.25 * 3)  # weights .75/.25 each way
    assert big.shape == (4, 4) and big.min() == 0.0 and big.max() == 3.0
    assert drawn._enlarge(np.ones((3, 5), np.float32), 4).shape == (12, 20)
    np.testing.assert_allclose(drawn._enlarge(np.full((3, 5), 7, np.float32), 4), 7)


def test_thinning_a_plus_keeps_a_connected_one_pixel_cross():
    plus = np.zeros((21, 21), bool)
    plus[8:13, 2:19] = True
    plus[2:19, 8:13] = True
    skeleton = thin(plus)
    assert not (skeleton & ~plus).any()
    assert skeleton[10, 5:15].all() and skeleton[5:15, 10].all()     # both arms, through the middle
    assert skeleton.sum() <= 35
    # one pixel wide: no 2x2 block of skeleton anywhere
    blocks = skeleton[:-1, :-1] & skeleton[1:, :-1] & skeleton[:-1, 1:] & skeleton[1:, 1:]
    assert not blocks.any()


def test_thinning_keeps_what_is_already_thin():
    line = np.zeros((9, 9), bool)
    line[4, 1:8] = True
    np.testing.assert_array_equal(thin(line), line)
    diagonal = np.eye(7, dtype=bool)
    np.testing.assert_array_equal(thin(diagonal), diagonal)
    assert not thin(np.zeros((5, 5), bool)).any()


def test_segments_join_touching_pixels_once_and_keep_lone_dots():
    skeleton = np.zeros((5, 6), bool)
    skeleton[1, 1] = skeleton[1, 2] = skeleton[2, 3] = True     # E then SE
    skeleton[4, 5] = True                                       # alone
    segments = drawn._segments(skeleton)
    pairs = sorted(tuple(map(tuple, s.astype(int))) for s in segments)
    assert pairs == [((1, 1), (1, 2)), ((1, 2), (2, 3)), ((4, 5), (4, 5))]


def test_segments_in_every_direction():
    skeleton = np.zeros((5, 5), bool)
    skeleton[2, 2] = skeleton[3, 2] = skeleton[3, 1] = True     # S then SW
    pairs = sorted(tuple(map(tuple, s.astype(int))) for s in drawn._segments(skeleton))
    assert pairs == [((2, 2), (3, 1)), ((2, 2), (3, 2)), ((3, 1), (3, 2))]


def test_densify_spaces_points_at_most_the_spacing_apart():
    segments = np.array([[[0.0, 0.0], [0.0, 3.0]], [[1.0, 1.0], [1.0, 1.0]]])
    points = drawn._densify(segments, spacing=0.5)
    first = points[:7]
    np.testing.assert_allclose(first[:, 1], [0, 0.5, 1, 1.5, 2, 2.5, 3])
    np.testing.assert_allclose(points[7:], 1.0)
    assert drawn._densify(np.zeros((0, 2, 2))).shape == (0, 2)
    away = drawn._densify(np.array([[[4.0, 4.0], [4.0, 1.0]]]))       # default spacing: half a pixel
    np.testing.assert_allclose(away[:, 1], [4, 3.5, 3, 2.5, 2, 1.5, 1])


@pytest.mark.parametrize("length, per_segment", [(0.0, 1), (0.3, 2), (0.5, 2), (1.0, 3), (1.2, 4)])
def test_densify_takes_the_fewest_points_the_longest_segment_needs(length, per_segment):
    """ceil(longest / spacing) + 1 evenly spaced points a segment: no more, however many segments."""
    segments = np.array([[[row, 0.0], [row, length]] for row in range(10)])  # (10, 2, 2), all alike
    points = drawn._densify(segments, spacing=0.5)
    assert points.shape == (10 * per_segment, 2)


def test_place_scales_the_longer_side_and_centres_the_box():
    segments = np.array([[[0.0, 0.0], [10.0, 0.0]], [[10.0, 0.0], [10.0, 5.0]]])   # 10 tall, 5 wide
    placed = drawn._place(segments, Drawing(canvas=100, size=44, centre=(50, 30), pen=4)).reshape(-1, 2)
    rows, cols = placed[:, 0], placed[:, 1]
    assert rows.max() - rows.min() == pytest.approx(40)             # size minus the pen
    assert cols.max() - cols.min() == pytest.approx(20)
    assert (rows.max() + rows.min()) / 2 == pytest.approx(50) and (cols.max() + cols.min()) / 2 == pytest.approx(30)


def test_place_rotates_and_slants_the_top_right():
    vertical = np.array([[[0.0, 0.0], [10.0, 0.0]]])                   # top (row 0) to bottom (row 10)
    turned = drawn._place(vertical, Drawing(canvas=100, size=20, centre=(50, 50), pen=0, rotation=90))[0]
    assert turned[0, 0] == pytest.approx(turned[1, 0], abs=1e-9)       # now horizontal
    # Counter-clockwise in (row, col) maths axes; with rows growing downwards the top goes right.
    assert turned[0, 1] > turned[1, 1]
    tilted = drawn._place(vertical, Drawing(canvas=100, size=20, centre=(50, 50), pen=0, rotation=30))[0]
    (top_row, top_col), (bottom_row, bottom_col) = tilted
    assert np.degrees(np.arctan2(top_col - bottom_col, bottom_row - top_row)) == pytest.approx(30)
    slanted = drawn._place(np.array([[[0.0, 0.0], [10.0, 0.0]], [[0.0, 0.0], [0.0, 10.0]]]),
                           Drawing(canvas=100, size=20, centre=(50, 50), pen=0, shear=0.5))
    top, bottom = slanted[0, 0], slanted[0, 1]
    assert top[1] > bottom[1]                                            # the top leans right


def test_render_pen_diameter_and_antialiasing():
    segment = np.array([[[50.0, 20.0], [50.0, 80.0]]])
    hard = drawn._render(segment, Drawing(canvas=100, size=60, centre=(50, 50), pen=10))
    column = hard[:, 50]
    assert set(np.unique(hard)) == {0, 255}
    assert (column == 255).sum() == 11                                  # |row - 50| <= 5
    soft = drawn._render(segment, Drawing(canvas=100, size=60, centre=(50, 50), pen=10, antialiased=True))
    assert soft[50, 50] == 255 and soft[55, 50] == 128 and soft[56, 50] == 0
    off_canvas = drawn._render(segment + 500, Drawing(canvas=100, size=60, centre=(50, 50), pen=10))
    assert not off_canvas.any()


def test_centre_line_of_a_bar_runs_down_its_middle():
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 12:16] = 255
    segments = centre_line(image)
    points = segments.reshape(-1, 2)
    assert abs(points[:, 1].mean() - 14) < 0.3                          # the bar's middle column
    assert points[:, 0].min() < 8 and points[:, 0].max() > 20
    assert (points[:, 0].min() + points[:, 0].max()) / 2 == pytest.approx(14, abs=0.1)  # shortened evenly
    across = np.zeros((28, 28), np.uint8)
    across[14, 6:22] = 255                                              # rows 14..15, columns 6..22
    points = centre_line(across).reshape(-1, 2)
    assert (points[:, 1].min() + points[:, 1].max()) / 2 == pytest.approx(14, abs=0.1)
    assert 14 < points[:, 0].min() and points[:, 0].max() < 15


@pytest.mark.parametrize("share, stroke", [(0.401, True), (0.399, False)])
def test_centre_line_takes_ink_above_forty_percent_as_stroke(share, stroke):
    image = np.zeros((28, 28), np.float32)
    image[4:24, 12:16] = share * 255                                    # a uniformly faint bar
    assert (len(centre_line(image)) > 0) == stroke


def test_draw_puts_a_bar_where_asked():
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 12:16] = 255
    canvas = draw(image, Drawing(canvas=200, size=100, centre=(80, 120), pen=8))
    rows = np.flatnonzero(canvas.any(axis=1))
    cols = np.flatnonzero(canvas.any(axis=0))
    assert rows[-1] - rows[0] + 1 == pytest.approx(100, abs=2)
    assert (rows[0] + rows[-1]) / 2 == pytest.approx(80, abs=1) and (cols[0] + cols[-1]) / 2 == pytest.approx(120, abs=1)
    assert cols[-1] - cols[0] + 1 <= 12                                  # a bar, one pen wide


def slow_thin(mask):
    """Zhang-Suen thinning written out pixel by pixel, as the 1984 paper states it."""
    img = np.pad(mask, 1).astype(int)
    h, w = mask.shape
    while True:
        changed = False
        for first_pass in (True, False):
            drop = []
            for y in range(1, h + 1):
                for x in range(1, w + 1):
                    if img[y, x] != 1:
                        continue
                    p = [img[y - 1, x], img[y - 1, x + 1], img[y, x + 1], img[y + 1, x + 1],
                         img[y + 1, x], img[y + 1, x - 1], img[y, x - 1], img[y - 1, x - 1]]
                    neighbours = sum(p)
                    transitions = sum(p[k] == 0 and p[(k + 1) % 8] == 1 for k in range(8))
                    if first_pass:
                        side = p[0] * p[2] * p[4] == 0 and p[2] * p[4] * p[6] == 0
                    else:
                        side = p[0] * p[2] * p[6] == 0 and p[0] * p[4] * p[6] == 0
                    if 2 <= neighbours <= 6 and transitions == 1 and side:
                        drop.append((y, x))
            for y, x in drop:
                img[y, x] = 0
            changed |= bool(drop)
        if not changed:
            return img[1:-1, 1:-1].astype(bool)


def blobs(seed, side=26):
    """A random smooth shape with holes and thick parts."""
    rng = np.random.default_rng(seed)
    field = rng.random((side // 2, side // 2))
    field = np.kron(field, np.ones((2, 2)))
    smooth = (field + np.roll(field, 1, 0) + np.roll(field, 1, 1) + np.roll(field, -1, 0) + np.roll(field, -1, 1)) / 5
    return smooth > 0.5


# A mask whose thinning ends on a round where the first pass still takes pixels and the second none:
# the loop must go on while either pass takes any.
SPECKLED = np.array([[1, 1, 0, 1, 1, 1, 1],
                     [1, 1, 1, 1, 1, 0, 1],
                     [1, 1, 1, 1, 1, 1, 1],
                     [1, 1, 1, 1, 1, 1, 1],
                     [0, 0, 1, 1, 1, 1, 1],
                     [1, 1, 1, 0, 1, 1, 1],
                     [1, 1, 0, 1, 1, 1, 1]], bool)


@pytest.mark.parametrize("case", ["digits", "blobs"])
def test_thinning_matches_zhang_suen_written_out(case):
    from core.data import load_sample

    if case == "digits":
        images = load_sample("test")[0][:4]
        masks = [image > 0.4 * 255 for image in images] + [np.ones((6, 9), bool)]
    else:
        masks = [blobs(seed) for seed in range(4)] + [SPECKLED]
    for mask in masks:
        skeleton = thin(mask)
        np.testing.assert_array_equal(skeleton, slow_thin(mask))
        np.testing.assert_array_equal(thin(skeleton), skeleton)  # finished: nothing more to take away


def test_place_centres_the_box_of_a_rotated_lopsided_shape():
    ell = np.array([[[0.0, 0.0], [12.0, 0.0]], [[12.0, 0.0], [12.0, 3.0]]])       # a long stem, a short foot
    for rotation, shear in ((30, 0.0), (-50, 0.3), (0, 0.5)):
        drawing = Drawing(canvas=200, size=80, centre=(90, 110), pen=6, rotation=rotation, shear=shear)
        points = drawn._place(ell, drawing).reshape(-1, 2)
        low, high = points.min(axis=0), points.max(axis=0)
        np.testing.assert_allclose((low + high) / 2, (90, 110), atol=1e-9)
        assert (high - low).max() == pytest.approx(80 - 6)


def test_a_pen_bigger_than_the_drawing_still_draws_a_dot_of_side_one():
    dot = np.array([[[0.0, 0.0], [0.0, 0.0]]])
    points = drawn._place(dot, Drawing(canvas=50, size=4, centre=(25, 25), pen=10)).reshape(-1, 2)
    np.testing.assert_allclose(points, 25)


def test_render_reaches_the_canvas_edges():
    drawing = Drawing(canvas=40, size=40, centre=(20, 20), pen=3)
    edge = drawn._render(np.array([[[0.2, 0.2], [0.2, 39.8]], [[39.8, 0.2], [39.8, 39.8]]]), drawing)
    assert edge[0].all() and edge[39].all() and edge[0, 0] == 255 and edge[39, 39] == 255
    outside = drawn._render(np.array([[[-3.0, 5.0], [-3.0, 30.0]], [[43.0, 5.0], [43.0, 30.0]]]), drawing)
    assert not outside.any()                                      # lines off the canvas leave no ink
    just_past = drawn._render(np.array([[[40.3, 5.0], [40.3, 30.0]], [[5.0, 40.3], [30.0, 40.3]]]), drawing)
    assert not just_past.any()                                    # a line in the row or column after the last


@pytest.mark.parametrize("length, size, pen, extent", [(0.5, 30, 4, 26), (10.0, 4, 3, 1.0), (10.0, 4, 4, 1.0)])
def test_place_scales_tiny_shapes_and_big_pens_too(length, size, pen, extent):
    """A sub-pixel shape still fills the box; a pen at least as big as the box leaves one pixel of line."""
    line = np.array([[[0.0, 0.0], [length, 0.0]]])
    placed = drawn._place(line, Drawing(canvas=60, size=size, centre=(30, 30), pen=pen)).reshape(-1, 2)
    assert np.ptp(placed[:, 0]) == pytest.approx(extent)

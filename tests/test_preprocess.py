"""prepare_canvas: drawings of any size and place come out laid out like MNIST digits."""
import numpy as np
import pytest

from core.drawn import Drawing, draw, thin
from core.preprocess import BOX, CENTRE, INK_THRESHOLD, MIN_STROKE, prepare_canvas

# Centre-of-mass tolerance: sub-pixel resampling puts it on CENTRE exactly in the continuous
# image; measuring it from the 28x28 pixels (and clipping at the border) moves it by a few
# hundredths of a pixel. MNIST itself spreads +-0.5 px around CENTRE.
COM_TOLERANCE = 0.15


def centre_of_mass(image):
    total = image.sum()
    rows = np.arange(image.shape[0]) @ image.sum(axis=1) / total
    cols = np.arange(image.shape[1]) @ image.sum(axis=0) / total
    return rows, cols


def ink_box(image, level=INK_THRESHOLD * 255):
    """(height, width) of the box around pixels at or above `level`."""
    rows = np.flatnonzero((image >= level).any(axis=1))
    cols = np.flatnonzero((image >= level).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def ring(side, centre, outer, inner):
    """A hard-ink ring (like a 0) on a side x side uint8 canvas."""
    rows, cols = np.mgrid[:side, :side]
    distance = np.hypot(rows - centre[0], (cols - centre[1]) * 1.4)  # taller than wide
    return ((distance <= outer) & (distance >= inner)).astype(np.uint8) * 255


def seven(side, top_left, height):
    """A hard-ink, asymmetric '7'-like shape (bar and diagonal) on a side x side canvas."""
    canvas = np.zeros((side, side), np.uint8)
    r, c = top_left
    pen = max(height // 8, 2)
    canvas[r:r + pen, c:c + height * 3 // 4] = 255  # the bar
    for k in range(height):
        col = c + height * 3 // 4 - pen - k * (height * 3 // 4 - pen) // height
        canvas[r + k, col:col + pen] = 255  # the stem, leaning left as it goes down
    return canvas


@pytest.mark.parametrize("canvas", [
    np.zeros((280, 280), np.uint8),
    np.zeros((50, 90)),
    np.full((280, 280), 20, np.uint8),  # faint grey all over: below the ink threshold
])
@pytest.mark.faults
def test_blank_canvas_gives_none(canvas):
    assert prepare_canvas(canvas) is None


def test_specks_only_give_none():
    canvas = np.zeros((280, 280), np.uint8)
    canvas[10:13, 10:13] = 255
    canvas[200:204, 150:153] = 255
    canvas[100, 260] = 255
    assert prepare_canvas(canvas) is None


def test_too_little_ink_gives_none():
    canvas = np.zeros((280, 280))
    canvas[100:160, 140] = 0.12  # a faint hairline: 7.2 full-ink pixels, under 0.01% of the canvas
    assert prepare_canvas(canvas) is None
    canvas[100:160, 141] = 0.12  # twice that is enough
    assert prepare_canvas(canvas) is not None


def test_thin_small_one_on_a_big_canvas_is_a_digit():
    canvas = np.zeros((560, 560), np.uint8)
    canvas[20:104, 30:31] = 255  # 84 px tall, 1 px pen
    assert prepare_canvas(canvas) is not None


def test_a_lone_dot_gives_none():
    rows, cols = np.mgrid[:280, :280]
    for radius in (5, 10, 24):  # the pad's pen diameters go from 4 to 48 px
        dot = (np.hypot(rows - 100, cols - 150) <= radius).astype(np.uint8) * 255
        assert prepare_canvas(dot) is None


def test_a_short_thick_bar_is_not_a_dot():
    canvas = np.zeros((280, 280), np.uint8)
    canvas[100:180, 130:150] = 255  # a '1': 80 px long, drawn with a 20 px pen
    assert prepare_canvas(canvas) is not None


def test_a_short_stroke_is_not_a_speck():
    canvas = np.zeros((280, 280), np.uint8)
    canvas[100:180, 138:142] = 255  # a '1': 80 px tall, far above the 4% speck limit
    assert prepare_canvas(canvas) is not None


@pytest.mark.parametrize("ndim_shape", [(28,), (2, 28, 28), ()])
@pytest.mark.faults
def test_wrong_number_of_dimensions_raises(ndim_shape):
    with pytest.raises(ValueError, match="2-D"):
        prepare_canvas(np.zeros(ndim_shape))


@pytest.mark.faults
def test_empty_canvas_raises():
    with pytest.raises(ValueError, match="empty"):
        prepare_canvas(np.zeros((0, 10)))


@pytest.mark.faults
def test_nan_raises():
    canvas = np.zeros((20, 20))
    canvas[3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        prepare_canvas(canvas)


@pytest.mark.parametrize("canvas", [
    ring(280, (140, 140), 40, 30),  # small, centred
    ring(280, (60, 220), 40, 30),  # small, in a corner
    ring(280, (140, 140), 130, 110),  # nearly filling the canvas
    ring(1200, (300, 800), 500, 420)[:, :1000],  # big canvas, off-centre (and not square)
    seven(280, (20, 150), 90),  # asymmetric shape near the top right
    ring(28, (14, 14), 4, 2.5),  # smaller than MNIST's box: enlarged
])
def test_any_drawing_comes_out_mnist_sized_and_centred(canvas):
    image = prepare_canvas(canvas)
    assert image.shape == (28, 28)
    assert image.dtype == np.float32
    assert image.min() >= 0 and image.max() <= 255
    assert max(ink_box(image)) in (BOX, BOX + 1)  # +1: a sub-pixel offset can straddle a pixel
    row, col = centre_of_mass(image)
    assert abs(row - CENTRE) < COM_TOLERANCE and abs(col - CENTRE) < COM_TOLERANCE


def test_aspect_ratio_is_kept():
    canvas = np.zeros((300, 300), np.uint8)
    canvas[50:250, 130:180] = 255  # 200 tall, 50 wide
    image = prepare_canvas(canvas)
    # Ink summed across the middle row and column: the shape's extent, fractional edges included.
    assert image[:, 14].sum() / 255 == pytest.approx(BOX, abs=0.01)
    assert image[14, :].sum() / 255 == pytest.approx(BOX / 4, abs=0.01)


@pytest.mark.parametrize("rows, cols", [((130, 180), (50, 250)), ((120, 200), (20, 270))])
def test_a_wide_drawing_is_fitted_by_its_width(rows, cols):
    """Wider than tall (a dash, a flat 2): the longer side is the width, and it gets the 20 px."""
    canvas = np.zeros((300, 300), np.uint8)
    canvas[rows[0]:rows[1], cols[0]:cols[1]] = 255
    image = prepare_canvas(canvas)
    height, width = rows[1] - rows[0], cols[1] - cols[0]
    assert image[14, :].sum() / 255 == pytest.approx(BOX, abs=0.01)
    assert image[:, 14].sum() / 255 == pytest.approx(BOX * height / width, abs=0.01)
    assert max(ink_box(image)) in (BOX, BOX + 1)


def test_same_drawing_anywhere_gives_same_image():
    shape = seven(120, (10, 10), 90)[:110, :80]
    images = []
    for top, left in [(0, 0), (150, 30), (37, 191), (190, 200)]:
        canvas = np.zeros((300, 280), np.uint8)
        canvas[top:top + 110, left:left + 80] = shape
        images.append(prepare_canvas(canvas))
    for image in images[1:]:
        np.testing.assert_allclose(image, images[0], atol=1e-3)


def test_uint8_and_float_canvases_agree():
    canvas = draw(_synthetic_digit(), Drawing(canvas=280, size=180, centre=(120, 150), pen=14,
                                              antialiased=True))
    from_uint8 = prepare_canvas(canvas)
    from_float = prepare_canvas(canvas.astype(np.float64) / 255)
    from_float32 = prepare_canvas(canvas.astype(np.float32) / 255)
    np.testing.assert_allclose(from_uint8, from_float, atol=1e-3)
    np.testing.assert_allclose(from_uint8, from_float32, atol=1e-3)


def test_bool_canvas_is_full_ink():
    canvas = ring(100, (50, 50), 30, 20)
    np.testing.assert_allclose(prepare_canvas(canvas > 0), prepare_canvas(canvas), atol=1e-3)


def test_downscaling_averages_instead_of_picking_pixels():
    # A filled disc 200 px across becomes one 20 px across: area averaging keeps its area
    # (pi * 10^2 output pixels of ink) and gives the pixels its edge crosses grey values;
    # picking the nearest canvas pixel would give only black and white.
    rows, cols = np.mgrid[:280, :280]
    canvas = (np.hypot(rows - 140, cols - 140) < 100).astype(np.uint8) * 255
    image = prepare_canvas(canvas)
    assert image.sum() / 255 == pytest.approx(np.pi * 100, rel=0.01)
    assert ((image > 10) & (image < 245)).sum() >= 30


def test_thin_pen_strokes_are_widened_to_full_ink():
    # A ring drawn with a 2-px pen, 200 px across, averages down to a faint line a fifth of
    # a pixel wide; it is widened to about MIN_STROKE pixels of full ink, like MNIST strokes.
    canvas = ring(280, (140, 140), 100, 98)
    thin = prepare_canvas(canvas)
    assert thin.max() > 250
    length = canvas.sum() / 255 / 2 * (BOX / 200)  # of the centre line, in output pixels
    width = thin.sum() / 255 / length
    assert MIN_STROKE - 0.5 < width < MIN_STROKE + 0.5


def test_normal_pen_strokes_are_left_alone():
    # A 24-px pen on a 200-px drawing is 2.4 output pixels wide, above MIN_STROKE: no widening,
    # so the ink is just the ring's area scaled down.
    canvas = ring(280, (140, 140), 100, 76)
    image = prepare_canvas(canvas)
    assert image.sum() / 255 == pytest.approx(canvas.sum() / 255 * (BOX / 200) ** 2, rel=0.01)


@pytest.mark.faults
def test_canvas_inked_all_over_gives_a_full_box():
    image = prepare_canvas(np.full((280, 280), 255, np.uint8))
    assert image.sum() / 255 == pytest.approx(BOX * BOX, abs=0.1)  # a 20x20 square of ink
    assert image[6:22, 6:22].min() > 254  # its inside is full ink


@pytest.mark.faults
def test_huge_canvas_works():
    canvas = np.zeros((4000, 4000), np.uint8)
    canvas[500:3500, 1200:2800] = ring(3000, (1500, 800), 1400, 1100)[:, :1600]
    image = prepare_canvas(canvas)
    assert max(ink_box(image)) in (BOX, BOX + 1)


def test_reading_in_bands_changes_nothing(monkeypatch):
    import core.preprocess

    canvas = draw(_synthetic_digit(), Drawing(canvas=280, size=200, centre=(140, 140), pen=3))
    whole = prepare_canvas(canvas)  # thin pen: the stroke-width estimate matters too
    monkeypatch.setattr(core.preprocess, "BAND_ROWS", 7)
    np.testing.assert_allclose(prepare_canvas(canvas), whole, atol=1e-3)


def test_stray_dot_far_away_is_ignored():
    canvas = ring(280, (140, 120), 60, 45)
    clean = prepare_canvas(canvas)
    canvas[270:273, 270:273] = 255  # a slip of the pen in the corner
    np.testing.assert_allclose(prepare_canvas(canvas), clean, atol=1e-3)


def test_faint_noise_is_ignored():
    canvas = ring(280, (140, 120), 60, 45)
    noisy = np.maximum(canvas, np.random.default_rng(0).integers(0, 20, canvas.shape).astype(np.uint8))
    np.testing.assert_allclose(prepare_canvas(noisy), prepare_canvas(canvas), atol=1e-3)


def test_real_mnist_digit_enlarged_on_a_canvas_comes_back(mnist_dir):
    from core.data import load_mnist

    images, _ = load_mnist("test", mnist_dir, allow_download=False)
    for digit in images[:20]:
        assert _correlation(prepare_canvas(_enlarged_on_canvas(digit)), digit) > 0.85


def test_synthetic_digit_enlarged_on_a_canvas_comes_back():
    digit = _synthetic_digit()
    image = prepare_canvas(_enlarged_on_canvas(digit))
    assert _correlation(image, digit) > 0.9


def _enlarged_on_canvas(digit):
    """A 28x28 digit enlarged 10x (bilinear) and put off-centre on a 400x400 canvas."""
    positions = (np.arange(280) + 0.5) / 10 - 0.5
    below = np.clip(np.floor(positions).astype(int), 0, 26)
    frac = np.clip(positions - below, 0, 1)[:, None]
    rows = digit[below].astype(float) * (1 - frac) + digit[below + 1] * frac  # (280, 28)
    big = rows[:, below] * (1 - frac.T) + rows[:, below + 1] * frac.T  # (280, 280)
    canvas = np.zeros((400, 400), np.uint8)
    canvas[30:310, 100:380] = np.round(big).astype(np.uint8)
    return canvas


def _synthetic_digit():
    """An MNIST-like '0': a soft ring about 20 px tall, centre of mass on (14, 14)."""
    rows, cols = np.mgrid[:28, :28]
    distance = np.hypot((rows - CENTRE) / 10, (cols - CENTRE) / 7)  # 1 on an ellipse 20 px tall
    return np.clip(255 * (1 - np.abs(distance - 0.85) * 6), 0, 255).astype(np.uint8)


def _correlation(a, b):
    return np.corrcoef(np.ravel(a), np.ravel(b).astype(float))[0, 1]


# ----- the drawn-digit renderer (core.drawn) these tests and bench/drawn_digits.py draw with -----

def test_renderer_draws_at_the_asked_size_and_place():
    drawing = Drawing(canvas=280, size=150, centre=(90, 170), pen=12)
    canvas = draw(_synthetic_digit(), drawing)
    assert canvas.shape == (280, 280) and canvas.dtype == np.uint8
    rows = np.flatnonzero(canvas.any(axis=1))
    cols = np.flatnonzero(canvas.any(axis=0))
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 == pytest.approx(150, abs=3)
    assert (rows[0] + rows[-1]) / 2 == pytest.approx(90, abs=2)
    assert (cols[0] + cols[-1]) / 2 == pytest.approx(170, abs=2)


def test_renderer_pen_width_and_ink_type():
    def ink(pen, antialiased=False):
        return draw(_synthetic_digit(), Drawing(canvas=280, size=200, centre=(140, 140), pen=pen,
                                                antialiased=antialiased))

    thin, thick = ink(4), ink(16)
    assert 3 < thick.sum() / thin.sum() < 5  # ink grows with the pen's diameter
    assert set(np.unique(thin)) == {0, 255}  # hard ink
    soft = ink(4, antialiased=True)
    assert ((soft > 0) & (soft < 255)).sum() > 100  # antialiased edges


def test_thinning_leaves_a_one_pixel_line():
    bar = np.zeros((30, 60), bool)
    bar[10:20, 5:55] = True
    skeleton = thin(bar)
    assert skeleton.sum() >= 35  # still spans most of the bar
    assert skeleton.sum(axis=0).max() == 1  # one pixel thick
    assert not (skeleton & ~bar).any()

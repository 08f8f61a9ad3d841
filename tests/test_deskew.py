"""deskew: moment-based slant removal, checked against a per-pixel loop and on known shapes."""
import numpy as np
import pytest

from core.deskew import MAX_SLANT, MIN_SLANT, MIN_SPREAD, deskew, slants


def bar(slope, width=3, rows=range(4, 24)):
    """A (28, 28) float bar through (13.5, 14) leaning `slope` columns per row, antialiased."""
    image = np.zeros((28, 28))
    cols = np.arange(28)
    for r in rows:
        centre = 14 + slope * (r - 13.5)
        image[r] = np.clip(width / 2 + 0.5 - np.abs(cols - centre), 0, 1) * 255
    return image


def reference(image):
    """Deskew one image with loops over pixels: the definition in core/deskew.py, spelled out."""
    rows, cols = np.mgrid[:28, :28]
    ink = image.sum()
    if ink == 0:
        return image.astype(np.float32)
    cy, cx = (rows * image).sum() / ink, (cols * image).sum() / ink
    mu02 = ((rows - cy) ** 2 * image).sum()
    mu11 = ((rows - cy) * (cols - cx) * image).sum()
    alpha = np.clip(mu11 / mu02, -MAX_SLANT, MAX_SLANT) if mu02 > 1e-3 * ink else 0.0
    out = np.zeros((28, 28), np.float32)
    for r in range(28):
        for c in range(28):
            source = c + alpha * (r - cy)
            left = int(np.floor(source))
            weight = source - left
            value = 0.0
            if 0 <= left < 28:
                value += (1 - weight) * image[r, left]
            if 0 <= left + 1 < 28:
                value += weight * image[r, left + 1]
            out[r, c] = value
    return out


def slant_of(image):
    return slants(image[None])[0][0]


def test_a_sheared_bar_comes_out_upright():
    for slope in (0.4, -0.3):
        image = bar(slope)
        assert slant_of(image) == pytest.approx(slope, abs=0.02)
        upright = deskew(image)
        assert abs(slant_of(upright)) < 0.01
        inked_cols = np.flatnonzero(upright[4:24].max(axis=0) > 128)
        assert inked_cols.max() - inked_cols.min() <= 3  # one column band, not a diagonal
        assert np.allclose(upright[4:24].sum(axis=0)[inked_cols].std() / upright.sum(), 0, atol=0.05)


def test_an_upright_symmetric_image_is_unchanged():
    rows, cols = np.mgrid[:28, :28]
    ring = np.clip(1 - np.abs(np.hypot((rows - 13.5) / 8, (cols - 13.5) / 5) - 0.8) * 4, 0, 1) * 255
    assert slant_of(ring) == pytest.approx(0, abs=1e-9)
    assert np.allclose(deskew(ring), ring, atol=1e-3)


def test_batch_agrees_with_a_per_pixel_loop():
    rng = np.random.default_rng(0)
    images = [bar(s, width=w) for s, w in zip(rng.uniform(-0.6, 0.6, 6), rng.uniform(1, 4, 6))]
    images += [rng.random((28, 28)) * 255 * (rng.random((28, 28)) < 0.2), np.zeros((28, 28))]
    images += [bar(3.0), bar(0.2, rows=[12])]  # capped slant; ink on one row: no slant
    batch = np.stack(images).astype(np.uint8)
    fast = deskew(batch)
    assert fast.shape == batch.shape and fast.dtype == np.float32
    for image, out in zip(batch, fast):
        assert np.allclose(out, reference(image.astype(np.float64)), atol=1e-3)
        assert np.array_equal(deskew(image), out)  # one (28, 28) image gives the same


def test_ink_is_kept_and_the_centre_stays():
    image = bar(0.35)
    out = deskew(image)
    assert out.sum() == pytest.approx(image.sum(), rel=0.01)
    rows, cols = np.mgrid[:28, :28]
    for before, after in ((image, out),):
        for axis in (rows, cols):
            assert (axis * after).sum() / after.sum() == pytest.approx((axis * before).sum() / before.sum(), abs=0.05)


def test_extreme_slants_are_capped_and_flat_marks_left_alone():
    assert slant_of(bar(3.0)) == MAX_SLANT
    assert slant_of(bar(-3.0)) == -MAX_SLANT
    dash = bar(0.0, rows=[14])
    assert slant_of(dash) == 0
    assert np.array_equal(deskew(dash), dash.astype(np.float32))
    assert np.array_equal(deskew(np.zeros((3, 28, 28))), np.zeros((3, 28, 28)))


def test_slant_and_centre_do_not_depend_on_how_dark_the_ink_is():
    image = bar(0.4) + bar(-0.2, width=1, rows=range(2, 10))  # (28, 28)
    alpha, cy = slants(image[None])
    for scale in (1e-5, 1e-3, 40.0):  # a total ink below 1, too
        faint_alpha, faint_cy = slants(image[None] * scale)
        assert faint_alpha == pytest.approx(alpha, rel=1e-9) and faint_cy == pytest.approx(cy, rel=1e-9)


def three_rows(heavy, leaning):
    """Ink `heavy` at (14, 14) and 0.5 on each of rows 13 and 15, of which `leaning` one column
    out: rows 13 and 15 lean left to right. cy = 14, mu02 = 1 and mu11 = 2 * leaning, exactly."""
    image = np.zeros((28, 28))
    image[14, 14] = heavy
    image[13, 14] = image[15, 14] = 0.5 - leaning
    image[13, 13] = image[15, 15] = leaning
    return image


def test_the_thresholds_hold_exactly_at_their_edges():
    # spread per ink mu02 / ink exactly MIN_SPREAD: too flat to measure (just above: measured)
    assert MIN_SPREAD * 1000 == 1.0
    assert slant_of(three_rows(heavy=999.0, leaning=0.05)) == 0
    assert slant_of(three_rows(heavy=998.0, leaning=0.05)) == pytest.approx(0.1)
    # a slant of exactly MIN_SLANT is kept; under it counts as upright
    assert slant_of(three_rows(heavy=499.0, leaning=MIN_SLANT / 2)) == MIN_SLANT
    assert slant_of(three_rows(heavy=499.0, leaning=MIN_SLANT / 2.5)) == 0


def test_rejects_wrong_shapes():
    with pytest.raises(ValueError, match="28, 28"):
        deskew(np.zeros((28, 27)))


# ----- the network's input stage and the model file -------------------------------------------

def mnist_like(n=12, seed=1):
    """n slanted bars and rings, 0..255 float (n, 28, 28)."""
    rng = np.random.default_rng(seed)
    return np.stack([bar(s, width=w) for s, w in zip(rng.uniform(-0.5, 0.5, n), rng.uniform(1.5, 4, n))])


def test_deskewing_a_deskewed_image_changes_nothing():
    once = deskew(mnist_like())
    assert np.array_equal(deskew(once), once)


def test_a_deskewing_network_reads_deskewed_images():
    from core.network import CNN

    images = mnist_like()
    plain, reading = CNN(seed=3), CNN(seed=3, deskew=True)
    assert np.array_equal(reading.input_images(images), deskew(images))
    assert np.array_equal(plain.input_images(images), images)
    assert np.allclose(reading.logits(images), plain.logits(deskew(images)))
    assert not np.allclose(reading.logits(images), plain.logits(images), atol=1e-3)
    assert reading.copy().deskew and not plain.copy().deskew


def test_the_model_file_records_the_input_stage(tmp_path):
    from core.network import CNN

    for flag in (False, True):
        path = tmp_path / f"m{flag}.npz"
        CNN(seed=0, deskew=flag).save(path)
        assert CNN.load(path).deskew is flag


def test_a_file_without_the_flag_reads_as_drawn(tmp_path):
    from core.network import CNN

    model = CNN(seed=0)
    path = tmp_path / "old.npz"
    np.savez(path, format_version=np.int32(1), **model.params)  # as saved before the flag existed
    assert CNN.load(path).deskew is False


@pytest.mark.parametrize("value, message", [(np.int8(2), "is 2"), (np.float32(1), "expected one integer"),
                                            (np.zeros(2, np.int8), "expected one integer")])
def test_a_bad_flag_is_refused(tmp_path, value, message):
    from core.errors import ModelFileError
    from core.modelfile import DESKEW_KEY
    from core.network import CNN

    path = tmp_path / "bad.npz"
    np.savez(path, format_version=np.int32(1), **{DESKEW_KEY: value}, **CNN(seed=0).params)
    with pytest.raises(ModelFileError, match=message):
        CNN.load(path)


def test_the_app_shows_the_image_the_network_reads():
    from core.network import CNN
    from core.preprocess import prepare_canvas
    from gui.live_prediction import predict_prepared

    canvas = np.kron(bar(0.4), np.ones((10, 10))).astype(np.uint8)  # a slanted bar on a 280x280 canvas
    model = CNN(seed=0, deskew=True)
    shown = predict_prepared(model, prepare_canvas(canvas))
    assert abs(slant_of(shown.image)) < 0.01  # upright, as the network reads it
    assert np.array_equal(model.input_images(shown.image)[0], shown.image)
    assert np.allclose(shown.probabilities, model.predict_proba(shown.image, seen=True)[0])
    assert abs(slant_of(shown.drawn)) > 0.3 and np.array_equal(model.input_images(shown.drawn)[0], shown.image)

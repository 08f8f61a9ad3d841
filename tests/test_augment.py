"""augment: random distortions that keep digits digits, with a sampler proven exact."""
import numpy as np
import pytest

from core.augment import (DEFAULT, WOBBLE_GRID, AugmentConfig, augment, change_thickness, random_thickness,
                          size_kept, warp)

NOTHING = AugmentConfig(max_shift=0, max_scale_change=0, max_aspect_change=0, max_rotation=0,
                        max_shear=0, thicken_share=0, thin_share=0)


def digits(n=16, seed=0):
    """n synthetic MNIST-like strokes, uint8 (n, 28, 28): bars and rings at random spots."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:28, :28]
    images = np.zeros((n, 28, 28))
    for k in range(n):
        r, c = rng.uniform(10, 18, 2)
        distance = np.hypot((rows - r) / rng.uniform(5, 9), (cols - c) / rng.uniform(3, 7))
        images[k] = np.clip(1 - np.abs(distance - 0.8) * 4, 0, 1)
    return np.round(images * 255).astype(np.uint8)


def centre_of_mass(images):
    """(N, 2) row and column centre of mass of images (N, 28, 28)."""
    total = images.sum(axis=(1, 2))
    rows = images.sum(axis=2) @ np.arange(28) / total
    cols = images.sum(axis=1) @ np.arange(28) / total
    return np.stack([rows, cols], axis=1)


@pytest.mark.parametrize("dtype", [np.uint8, np.float64, np.float32])
def test_shape_dtype_and_range(dtype):
    images = digits().astype(dtype)
    out = augment(images, np.random.default_rng(0))
    assert out.shape == images.shape
    assert out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 255
    assert out.sum() > 0.5 * images.sum()  # the digits are still there


def test_input_is_not_changed():
    images = digits().astype(np.float32)
    before = images.copy()
    augment(images, np.random.default_rng(0))
    np.testing.assert_array_equal(images, before)


def test_same_seed_same_result_and_different_seed_different():
    images = digits()
    first = augment(images, np.random.default_rng(7))
    again = augment(images, np.random.default_rng(7))
    other = augment(images, np.random.default_rng(8))
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).max() > 10


def test_untouched_share_passes_images_through():
    images = digits(400, seed=1).astype(np.float32)
    config = AugmentConfig(untouched_share=0.5)
    out = augment(images, np.random.default_rng(0), config)
    same = np.abs(out - images).max(axis=(1, 2)) < 1e-4
    assert 0.4 < same.mean() < 0.6
    all_kept = augment(images, np.random.default_rng(0), AugmentConfig(untouched_share=1.0))
    np.testing.assert_allclose(all_kept, images, atol=1e-4)


def test_each_image_gets_its_own_distortion():
    images = np.repeat(digits(1), 8, axis=0)
    out = augment(images, np.random.default_rng(0))
    assert min(np.abs(out[i] - out[0]).max() for i in range(1, 8)) > 10


def test_zero_ranges_give_the_input_back():
    images = digits()
    out = augment(images, np.random.default_rng(0), NOTHING)
    np.testing.assert_allclose(out, images, atol=1e-4)


def test_whole_pixel_shift_moves_pixels_exactly():
    images = digits(4)
    matrices = np.repeat(np.eye(2)[None], 4, axis=0)
    shifts = np.array([[2.0, -3.0]] * 4)  # 2 rows down, 3 columns left
    out = warp(images.astype(np.float32), (matrices, shifts))
    np.testing.assert_allclose(out[:, 2:, :-3], images[:, :-2, 3:], atol=1e-4)


def test_subpixel_shift_moves_centre_of_mass_by_the_shift():
    images = digits(8).astype(np.float32)
    shifts = np.random.default_rng(3).uniform(-3, 3, (8, 2))
    matrices = np.repeat(np.eye(2)[None], 8, axis=0)
    out = warp(images, (matrices, shifts))
    moved = centre_of_mass(out) - centre_of_mass(images)
    np.testing.assert_allclose(moved, shifts, atol=0.02)  # bilinear sampling keeps the centre of mass


def test_augment_shifts_by_at_most_max_shift():
    images = digits(64).astype(np.float32)
    config = AugmentConfig(max_shift=1.5, max_scale_change=0, max_aspect_change=0, max_rotation=0,
                           max_shear=0, thicken_share=0, thin_share=0, untouched_share=0)
    out = augment(images, np.random.default_rng(3), config)
    moved = centre_of_mass(out) - centre_of_mass(images)
    assert np.abs(moved).max() <= 1.5 + 0.02
    assert np.abs(moved).max() > 1.0  # and it does shift


def test_rotation_about_the_centre_turns_a_bar():
    image = np.zeros((1, 28, 28), np.float32)
    image[0, 14, 6:23] = 255  # horizontal bar through the centre
    angle = np.radians(90)
    matrix = np.array([[[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]])
    out = warp(image, (matrix, np.zeros((1, 2))))[0]
    np.testing.assert_allclose(out[6:23, 14], 255, atol=1e-3)  # now a vertical bar
    assert out[14, 6:12].max() < 1e-3


def test_thickening_adds_ink_and_thinning_removes_it():
    images = digits().astype(np.float32)
    n = len(images)
    thicker = change_thickness(images, np.ones(n, np.float32))
    thinner = change_thickness(images, -np.ones(n, np.float32))
    half = change_thickness(images, np.full(n, 0.5, np.float32))
    unchanged = change_thickness(images, np.zeros(n, np.float32))
    assert np.all(thicker.sum(axis=(1, 2)) > 1.3 * images.sum(axis=(1, 2)))
    assert np.all(thinner.sum(axis=(1, 2)) < 0.7 * images.sum(axis=(1, 2)))
    assert np.all(thicker >= images) and np.all(thinner <= images)
    np.testing.assert_allclose(half, (images + thicker) / 2, atol=1e-3)
    np.testing.assert_array_equal(unchanged, images)


@pytest.mark.parametrize("dtype", [np.uint8, np.float64])
def test_warp_and_change_thickness_give_float32_whatever_they_are_given(dtype):
    images = digits(3).astype(dtype)
    matrices, shifts = np.repeat(np.eye(2)[None], 3, axis=0), np.zeros((3, 2))
    moved, thicker = warp(images, (matrices, shifts)), change_thickness(images, np.ones(3))
    assert moved.dtype == thicker.dtype == np.float32
    np.testing.assert_allclose(moved, images, atol=1e-3)  # the identity map
    assert np.all(thicker >= images)


def test_random_thickness_thickens_and_thins_the_shares_asked():
    config = AugmentConfig(thicken_share=0.15, thin_share=0.4, min_strength=0.2, max_strength=0.9)
    amount = random_thickness(20000, np.random.default_rng(2), config)
    assert (amount > 0).mean() == pytest.approx(0.15, abs=0.015)
    assert (amount < 0).mean() == pytest.approx(0.4, abs=0.015)
    assert np.all((np.abs(amount) >= 0.2) & (np.abs(amount) <= 0.9) | (amount == 0))


def test_thickness_shares_are_honoured():
    images = digits(400, seed=1).astype(np.float32)
    only_thicker = AugmentConfig(max_shift=0, max_scale_change=0, max_aspect_change=0, max_rotation=0,
                                 max_shear=0, thicken_share=0.5, thin_share=0, min_strength=1,
                                 untouched_share=0)
    out = augment(images, np.random.default_rng(0), only_thicker)
    grew = out.sum(axis=(1, 2)) > images.sum(axis=(1, 2)) * 1.05
    assert np.all(out >= images - 1e-3)
    assert 0.4 < grew.mean() < 0.6


def test_default_distortions_stay_moderate():
    images = digits(200, seed=2).astype(np.float32)
    out = augment(images, np.random.default_rng(0), DEFAULT)
    moved = np.linalg.norm(centre_of_mass(out) - centre_of_mass(images), axis=1)
    assert moved.max() < 2 * DEFAULT.max_shift + 2  # shift plus what scaling about the centre adds
    ratio = out.sum(axis=(1, 2)) / images.sum(axis=(1, 2))
    assert ratio.min() > 0.5  # no digit fades away
    assert ratio.max() < 4  # a full 3x3 dilation about triples a 1-px stroke, no more
    assert (out > 128).mean(axis=(1, 2)).max() < 0.5  # and none becomes a blob


@pytest.mark.parametrize("bad", [
    dict(thicken_share=0.7, thin_share=0.5),
    dict(min_strength=0.8, max_strength=0.5),
    dict(max_rotation=-1),
    dict(max_scale_change=1.0),
])
def test_config_rejects_impossible_ranges(bad):
    with pytest.raises(ValueError):
        AugmentConfig(**bad)


def test_wrong_shape_raises():
    with pytest.raises(ValueError, match="28, 28"):
        augment(np.zeros((4, 20, 20)), np.random.default_rng(0))


def test_uniform_wobble_is_a_shift():
    # Every control point displaced alike moves the whole image alike: the field is exact there.
    images = digits(4).astype(np.float32)
    identity = np.repeat(np.eye(2)[None], 4, axis=0)
    wobble = np.zeros((4, 2, WOBBLE_GRID ** 2), np.float32)
    wobble[:, 0], wobble[:, 1] = -2.0, 3.0  # each output pixel reads 2 rows up, 3 columns right
    wobbled = warp(images, (identity, np.zeros((4, 2))), wobble)
    shifted = warp(images, (identity, np.array([[2.0, -3.0]] * 4)))
    np.testing.assert_allclose(wobbled, shifted, atol=1e-3)


def test_wobble_bends_strokes_but_keeps_the_digit():
    images = digits(64, seed=4).astype(np.float32)
    plain = AugmentConfig(untouched_share=0, thicken_share=0)
    straight = augment(images, np.random.default_rng(5), plain)
    bent = augment(images, np.random.default_rng(5), AugmentConfig(untouched_share=0, thicken_share=0,
                                                                     wobble=1.0))
    assert np.abs(bent - straight).max(axis=(1, 2)).min() > 10  # every image is bent
    ratio = bent.sum(axis=(1, 2)) / straight.sum(axis=(1, 2))
    assert 0.7 < ratio.min() and ratio.max() < 1.3  # by moving ink, not adding or losing much


def test_untouched_images_get_no_wobble():
    images = digits(8).astype(np.float32)
    out = augment(images, np.random.default_rng(0), AugmentConfig(untouched_share=1.0, wobble=2.0))
    np.testing.assert_allclose(out, images, atol=1e-4)


def test_size_kept_undoes_growth_but_not_shape():
    image = np.zeros((1, 28, 28), np.float32)
    image[0, 9:19, 9:19] = 200  # a 10 x 10 square: 9 pixels from centre to centre each way
    cases = {
        "identity": (np.eye(2), 1.0),
        "quarter turn": (np.array([[0.0, -1.0], [1.0, 0.0]]), 1.0),
        "twice as big": (2 * np.eye(2), 0.5),
        "slanted": (np.array([[1.0, 0.0], [-0.5, 1.0]]), 9 / 13.5),  # columns spread by 0.5 * 9
    }
    for name, (matrix, expected) in cases.items():
        assert size_kept(image, matrix[None]) == pytest.approx([expected]), name
    blank = np.zeros((1, 28, 28), np.float32)
    assert size_kept(blank, np.eye(2)[None] * 3) == pytest.approx([1.0])


def test_keep_size_keeps_the_longer_side_of_slanted_digits():
    images = digits(32, seed=6).astype(np.float32)
    config = AugmentConfig(max_shift=0, max_scale_change=0.2, max_rotation=15, max_shear=0.5,
                           thicken_share=0, untouched_share=0, keep_size=True)
    out = augment(images, np.random.default_rng(2), config)

    def longer_side(batch):  # of the box of pixels at least half inked
        sides = []
        for image in batch:
            rows, cols = np.nonzero(image > 127)
            sides.append(max(np.ptp(rows), np.ptp(cols)))
        return np.array(sides)

    assert np.abs(longer_side(out) - longer_side(images)).max() <= 2  # resampling blurs a pixel or so
    grown = augment(images, np.random.default_rng(2), AugmentConfig(**{**config.__dict__, "keep_size": False}))
    assert np.abs(longer_side(grown) - longer_side(images)).max() > 2  # without it, sizes do change

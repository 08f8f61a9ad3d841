"""core.augment's batched fast path against core.augment_reference's image-by-image, pixel-by-pixel loops."""
import numpy as np
import pytest

from core import augment as fast
from core import augment_reference as reference
from tests.test_augment import digits

CONFIGS = {
    "default": fast.DEFAULT,
    "wobble": fast.AugmentConfig(wobble=1.5),
    "thin and keep size": fast.AugmentConfig(thin_share=0.3, keep_size=True),
    "everything strong": fast.AugmentConfig(max_shift=5, max_scale_change=0.3, max_aspect_change=0.3,
                                            max_rotation=40, max_shear=0.9, thicken_share=0.4, thin_share=0.4,
                                            min_strength=0, untouched_share=0.1, wobble=3, keep_size=True),
    "nothing": fast.AugmentConfig(max_shift=0, max_scale_change=0, max_aspect_change=0, max_rotation=0,
                                  max_shear=0, thicken_share=0, thin_share=0),
}


@pytest.mark.parametrize("name", CONFIGS)
def test_augment_matches_the_reference_and_draws_the_same_numbers(name):
    images = digits(12, seed=5)
    fast_rng, reference_rng = np.random.default_rng(11), np.random.default_rng(11)
    out = fast.augment(images, fast_rng, CONFIGS[name])
    expected = reference.augment(images, reference_rng, CONFIGS[name])
    assert out.dtype == expected.dtype == np.float32
    np.testing.assert_allclose(out, expected, atol=1e-3)
    assert fast_rng.random() == reference_rng.random()  # both took the same draws from the generator
    assert np.abs(out - images).max() > 10 or name == "nothing"  # and something did happen


def test_warp_matches_the_reference_far_outside_too():
    images = digits(6, seed=2).astype(np.float32)
    rng = np.random.default_rng(4)
    matrices = rng.normal(0, 0.3, (6, 2, 2)) + np.eye(2)  # near the identity: turned, stretched, slanted
    shifts = rng.uniform(-20, 20, (6, 2))  # some images are moved mostly or wholly out of the frame
    wobble = rng.normal(0, 2, (6, 2, fast.WOBBLE_GRID ** 2)).astype(np.float32)
    for w in (None, wobble):
        out = fast.warp(images, (matrices, shifts), w)
        for i in range(6):
            expected = reference.warp(images[i].astype(np.float64), matrices[i], shifts[i], None if w is None else w[i])
            np.testing.assert_allclose(out[i], expected, atol=1e-3)


def test_change_thickness_matches_the_reference():
    images = digits(5, seed=3).astype(np.float32)
    amount = np.array([1.0, -1.0, 0.4, -0.7, 0.0], np.float32)
    out = fast.change_thickness(images, amount)
    for i in range(5):
        np.testing.assert_allclose(out[i], reference.change_thickness(images[i].astype(np.float64), amount[i]), atol=1e-3)


def test_a_batch_too_long_for_float32_indices_is_sampled_in_parts():
    n = fast.MAX_IMAGES + 3
    images = np.zeros((n, 28, 28), np.float32)
    images[:, 10:18, 12] = np.arange(n)[:, None] % 256  # each image its own shade, so a mix-up shows
    matrices = np.repeat(np.array([[[0.9, -0.2], [0.3, 1.1]]]), n, axis=0)
    shifts = np.tile([[0.5, -1.25]], (n, 1))
    out = fast.warp(images, (matrices, shifts))
    tail = fast.warp(images[-5:], (matrices[-5:], shifts[-5:]))
    np.testing.assert_array_equal(out[-5:], tail)
    np.testing.assert_array_equal(out[:3], fast.warp(images[:3], (matrices[:3], shifts[:3])))


def test_images_inked_to_their_edges_match_the_reference_when_moved_or_thickened():
    rng = np.random.default_rng(9)
    images = rng.uniform(0, 255, (6, 28, 28)).astype(np.float32)  # ink on every pixel, the edges too
    matrices = np.repeat(np.eye(2)[None], 6, axis=0)
    matrices[3:] += rng.normal(0, 0.2, (3, 2, 2))
    shifts = np.array([[0.5, -12.3], [-12.7, 0.25], [0.4, -0.6], [9.6, 13.2], [-2.5, 1.75], [0.3, 0.8]])
    out = fast.warp(images, (matrices, shifts))
    for i in range(6):
        expected = reference.warp(images[i].astype(np.float64), matrices[i], shifts[i])
        np.testing.assert_allclose(out[i], expected, atol=1e-3)
    amount = np.array([1.0, -1.0, 0.5, -0.3, 0.8, -0.9], np.float32)
    thick = fast.change_thickness(images, amount)
    for i in range(6):
        expected = reference.change_thickness(images[i].astype(np.float64), float(amount[i]))
        np.testing.assert_allclose(thick[i], expected, atol=1e-3)


def test_a_batch_too_long_for_float32_indices_keeps_each_images_wobble():
    n = fast.MAX_IMAGES + 3
    images = np.zeros((n, 28, 28), np.float32)
    images[:, 6:22, 10:18] = 200
    matrices = np.repeat(np.eye(2)[None], n, axis=0)
    shifts = np.zeros((n, 2))
    wobble = np.zeros((n, 2, fast.WOBBLE_GRID ** 2), np.float32)
    wobble[-5:] = np.random.default_rng(6).normal(0, 2, (5, 2, fast.WOBBLE_GRID ** 2))
    out = fast.warp(images, (matrices, shifts), wobble)
    tail = fast.warp(images[-5:], (matrices[-5:], shifts[-5:]), wobble[-5:])
    assert np.abs(tail - images[-5:]).max() > 10  # the wobble does move ink
    np.testing.assert_array_equal(out[-5:], tail)

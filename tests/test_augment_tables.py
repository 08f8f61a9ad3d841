"""The tables core.augment builds once at import (pixel grid, wobble basis, inside mask), each
checked against its definition written out pixel by pixel, and the small helpers around them."""
import numpy as np
import pytest

from core import augment
from core.augment import BORDER, SIDE, WOBBLE_GRID, AugmentConfig, random_wobble, size_kept
from core.mnist_format import CENTRE, IMAGE_SIDE


def test_pixel_grid_holds_row_and_column_offsets_from_the_centre_and_ones():
    grid = augment._pixel_grid()  # (3, 784)
    assert grid.shape == (3, IMAGE_SIDE * IMAGE_SIDE)
    for k in range(IMAGE_SIDE * IMAGE_SIDE):  # row-major: pixel k is at (k // 28, k % 28)
        row, column = divmod(k, IMAGE_SIDE)
        assert tuple(grid[:, k]) == (row - CENTRE, column - CENTRE, 1.0), k
    np.testing.assert_array_equal(augment._GRID, grid)  # the module's table is this one


def _hat(pixel, point, spacing):
    return max(0.0, 1.0 - abs(pixel - point) / spacing)


def test_wobble_basis_is_the_bilinear_weight_of_each_control_point_at_each_pixel():
    basis = augment._wobble_basis()  # (G*G, 784)
    spacing = (IMAGE_SIDE - 1) / (WOBBLE_GRID - 1)  # control points on the first and last pixels
    points = [i * spacing for i in range(WOBBLE_GRID)]
    assert basis.shape == (WOBBLE_GRID ** 2, IMAGE_SIDE * IMAGE_SIDE)
    expected = np.empty(basis.shape)
    for i, point_row in enumerate(points):
        for j, point_column in enumerate(points):
            for row in range(IMAGE_SIDE):
                for column in range(IMAGE_SIDE):
                    expected[i * WOBBLE_GRID + j, row * IMAGE_SIDE + column] = (
                        _hat(row, point_row, spacing) * _hat(column, point_column, spacing))
    np.testing.assert_allclose(basis, expected, atol=1e-6)
    np.testing.assert_allclose(basis.sum(axis=0), 1.0, atol=1e-6)  # every pixel: weights sum to 1
    for i, point_row in enumerate(points):  # a control point's own pixel follows it alone
        for j, point_column in enumerate(points):
            pixel = round(point_row) * IMAGE_SIDE + round(point_column)
            assert basis[i * WOBBLE_GRID + j, pixel] == pytest.approx(1.0)
    np.testing.assert_array_equal(augment._WOBBLE_BASIS, basis)


def test_inside_mask_is_one_inside_a_padded_image_and_zero_on_its_border():
    mask = augment._inside_mask()  # (32 * 32,)
    assert mask.shape == (SIDE * SIDE,)
    for k in range(SIDE * SIDE):
        row, column = divmod(k, SIDE)
        inside = BORDER <= row < SIDE - BORDER and BORDER <= column < SIDE - BORDER
        assert mask[k] == (1.0 if inside else 0.0), (row, column)
    np.testing.assert_array_equal(augment._INSIDE, mask)


def test_random_wobble_is_centred_on_no_displacement_with_the_asked_spread():
    config = AugmentConfig(wobble=1.5)
    wobble = random_wobble(2000, np.random.default_rng(0), config)  # (2000, 2, 16): 64,000 draws
    assert wobble.shape == (2000, 2, WOBBLE_GRID ** 2)
    assert abs(wobble.mean()) < 0.05  # its standard error is 1.5 / sqrt(64,000) = 0.006
    assert wobble.std() == pytest.approx(1.5, rel=0.02)
    assert random_wobble(5, np.random.default_rng(0), AugmentConfig(wobble=0.0)) is None


def test_size_kept_counts_every_inked_pixel_however_faint():
    image = np.zeros((1, 28, 28), np.float32)
    image[0, 10, 10:14] = 200  # a bar 3 pixels wide from centre to centre
    image[0, 20, 10] = 1  # one faint pixel ten rows below: the box is 10 high
    rows_doubled = np.diag([2.0, 1.0])[None]  # the box becomes 20 high, still 3 wide
    assert size_kept(image, rows_doubled) == pytest.approx([0.5])


def test_size_kept_restores_a_box_that_shrinks_below_one_pixel():
    image = np.zeros((1, 28, 28), np.float32)
    image[0, 14, 14:16] = 255  # two neighbours: 1 pixel from centre to centre
    assert size_kept(image, 0.5 * np.eye(2)[None]) == pytest.approx([2.0])  # 0.5 after, 1 before

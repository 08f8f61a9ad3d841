"""core.augment written the slow, obvious way: one image at a time, one pixel at a time.

Nothing here is used to train. It exists to be read, and so that the tests can check the fast
augment (one (9, N) block of draws, the batch sampled at once) against it. The draws are taken as
they read most plainly: rng.random for the untouched share, then random_thickness, random_affine
and random_wobble, each its own call. Everything is float64 until the end.
"""
import math

import numpy as np

from core.augment import (DEFAULT, WOBBLE_GRID, random_affine, random_thickness, random_wobble,
                          size_kept)
from core.mnist_format import CENTRE, IMAGE_SIDE


def augment(images, rng, config=DEFAULT):
    """Like core.augment.augment, image by image -> float32 (N, 28, 28)."""
    images = np.asarray(images, dtype=np.float64)
    n = len(images)
    untouched = rng.random(n) < config.untouched_share
    thickness = random_thickness(n, rng, config)
    matrices, shifts = random_affine(n, rng, config)
    moved = [i for i in range(n) if not untouched[i]]
    wobble = random_wobble(len(moved), rng, config)
    out = images.copy()
    for k, i in enumerate(moved):
        image = change_thickness(images[i], float(thickness[i]))
        matrix = matrices[i]
        if config.keep_size:
            matrix = matrix * float(size_kept(image[None].astype(np.float32), matrix[None])[0])
        out[i] = warp(image, matrix, shifts[i], None if wobble is None else wobble[k])
    return out.astype(np.float32)


def change_thickness(image, amount):
    """Blend one image (28, 28) towards its 3x3 maximum (amount > 0) or minimum (< 0); outside is 0."""
    if amount == 0:
        return image.copy()
    reduce = max if amount > 0 else min
    out = np.empty_like(image)
    for row in range(IMAGE_SIDE):
        for col in range(IMAGE_SIDE):
            near = reduce(_pixel(image, row + dr, col + dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1))
            out[row, col] = image[row, col] + abs(amount) * (near - image[row, col])
    return out


def warp(image, matrix, shift, wobble=None):
    """One image (28, 28) moved by the forward map p -> CENTRE + matrix @ (p - CENTRE) + shift.

    Each output pixel q reads the point inverse @ (q - CENTRE - shift) + CENTRE (moved further by
    the wobble field at q, when given), interpolated bilinearly between its four neighbours.
    """
    inverse = np.linalg.inv(matrix)
    out = np.empty((IMAGE_SIDE, IMAGE_SIDE))
    for row in range(IMAGE_SIDE):
        for col in range(IMAGE_SIDE):
            source = inverse @ (np.array([row, col]) - CENTRE - shift) + CENTRE
            if wobble is not None:
                source = source + _wobble_at(wobble, row, col)
            out[row, col] = _bilinear(image, *source)
    return out


def _wobble_at(wobble, row, col):
    """The displacement (2,) at pixel (row, col) interpolated from control points (2, G * G) on a G x G grid
    spread evenly from pixel 0 to pixel 27."""
    spacing = (IMAGE_SIDE - 1) / (WOBBLE_GRID - 1)
    grid = wobble.reshape(2, WOBBLE_GRID, WOBBLE_GRID)
    return sum(_hat(row / spacing - i) * _hat(col / spacing - j) * grid[:, i, j]
               for i in range(WOBBLE_GRID) for j in range(WOBBLE_GRID))


def _hat(distance):
    return max(0.0, 1 - abs(distance))


def _bilinear(image, row, col):
    """image read at the real point (row, col): each of the four pixels round it weighted by closeness."""
    top, left = math.floor(row), math.floor(col)
    down, across = row - top, col - left
    return ((1 - down) * (1 - across) * _pixel(image, top, left) + (1 - down) * across * _pixel(image, top, left + 1)
            + down * (1 - across) * _pixel(image, top + 1, left) + down * across * _pixel(image, top + 1, left + 1))


def _pixel(image, row, col):
    """image[row, col], or 0 outside the image."""
    inside = 0 <= row < IMAGE_SIDE and 0 <= col < IMAGE_SIDE
    return image[row, col] if inside else 0.0

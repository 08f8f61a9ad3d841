"""Random distortions of training digits, so the network copes with how people really draw.

Each image gets its own random affine map (shift, scale, rotation, slant) and, for a random
share of them, a thicker or thinner stroke; another random share (untouched_share) is left as it
is, which keeps accuracy on clean MNIST up while the network learns the distorted shapes. The whole batch is transformed at once: the affine
maps are applied by inverse mapping with a vectorised bilinear sampler (for every output pixel,
look up where it comes from in the input and interpolate between the four pixels around that
point), and stroke width is changed by blending each image with the maximum (thicker) or minimum
(thinner) over every pixel's 3x3 neighbourhood. No Python loop runs over images or pixels: a
batch of 64 takes well under 2 ms (bench/drawn_digits.py prints the figure).

Given the same generator state, augment returns the same images.
"""
from dataclasses import dataclass

import numpy as np

from core.mnist_format import CENTRE, IMAGE_SHAPE, IMAGE_SIDE  # rotation and scaling pivot on CENTRE


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges the random distortions are drawn from (uniformly, independently per image)."""

    max_shift: float = 1.0  # pixels, along each axis (prepare_canvas centres drawings exactly)
    max_scale_change: float = 0.08  # scale factor drawn from 1 +- this
    max_aspect_change: float = 0.08  # width scaled by a further 1 +- this
    max_rotation: float = 12.0  # degrees, either way
    max_shear: float = 0.35  # slant: column shift per row below the centre (0.35 is about 19 degrees)
    thicken_share: float = 0.35  # share of images whose stroke is made thicker
    thin_share: float = 0.0  # share made thinner (prepare_canvas widens thin drawings instead)
    min_strength: float = 0.3  # a changed stroke blends this much ...
    max_strength: float = 1.0  # ... up to this much of the 3x3 maximum (or minimum) in
    untouched_share: float = 0.3  # share of images passed through as they are: keeps clean accuracy

    def __post_init__(self):
        if not 0 <= self.untouched_share <= 1:
            raise ValueError("untouched_share must be between 0 and 1")
        if self.thicken_share + self.thin_share > 1:
            raise ValueError("thicken_share + thin_share must not exceed 1")
        if not 0 <= self.min_strength <= self.max_strength <= 1:
            raise ValueError("need 0 <= min_strength <= max_strength <= 1")
        if min(self.max_shift, self.max_scale_change, self.max_aspect_change, self.max_rotation,
               self.max_shear, self.thicken_share, self.thin_share) < 0:
            raise ValueError("augmentation ranges and shares must not be negative")
        if self.max_scale_change >= 1 or self.max_aspect_change >= 1:
            raise ValueError("max_scale_change and max_aspect_change must be below 1")


DEFAULT = AugmentConfig()


def augment(images, rng, config=DEFAULT):
    """images (N, 28, 28) 0..255, uint8 or float -> distorted copies, float32 (N, 28, 28) 0..255."""
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"expected images of shape (N, 28, 28), got {images.shape}")
    n = len(images)
    untouched = rng.random(n) < config.untouched_share  # (N,)
    thickness = random_thickness(n, rng, config)
    matrices, shifts = random_affine(n, rng, config)
    thickness[untouched] = 0
    matrices[untouched], shifts[untouched] = np.eye(2), 0
    x = images.astype(np.float32)  # (N, 28, 28), always a copy
    x = change_thickness(x, thickness)
    x = warp(x, (matrices, shifts))
    return np.clip(x, 0.0, 255.0, out=x)


def random_thickness(n, rng, config=DEFAULT):
    """Per-image stroke change (n,) in -1..1: > 0 thicker, < 0 thinner, 0 unchanged."""
    roll = rng.random(n)
    strength = rng.uniform(config.min_strength, config.max_strength, n)
    sign = np.where(roll < config.thicken_share, 1.0,
                    np.where(roll < config.thicken_share + config.thin_share, -1.0, 0.0))
    return (sign * strength).astype(np.float32)


def change_thickness(images, amount):
    """Blend each image (N, 28, 28) towards its 3x3 maximum (amount > 0) or minimum (< 0)."""
    amount = amount[:, None, None]  # (N, 1, 1)
    thicker = _neighbourhood(images, np.maximum)
    thinner = _neighbourhood(images, np.minimum)
    return (images
            + np.maximum(amount, 0) * (thicker - images)
            + np.maximum(-amount, 0) * (thinner - images))


def _neighbourhood(images, reduce):
    """reduce (np.maximum or np.minimum) over each pixel's 3x3 neighbourhood; outside is 0."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))  # (N, 30, 30)
    rows = reduce(reduce(padded[:, :-2], padded[:, 1:-1]), padded[:, 2:])  # (N, 28, 30)
    return reduce(reduce(rows[:, :, :-2], rows[:, :, 1:-1]), rows[:, :, 2:])  # (N, 28, 28)


def random_affine(n, rng, config=DEFAULT):
    """Random forward maps -> (matrices (n, 2, 2), shifts (n, 2)) acting on (row, col) about CENTRE."""
    scale = 1 + rng.uniform(-config.max_scale_change, config.max_scale_change, n)
    aspect = 1 + rng.uniform(-config.max_aspect_change, config.max_aspect_change, n)
    angle = np.radians(rng.uniform(-config.max_rotation, config.max_rotation, n))
    shear = rng.uniform(-config.max_shear, config.max_shear, n)
    shift = rng.uniform(-config.max_shift, config.max_shift, (n, 2))
    cos, sin = np.cos(angle), np.sin(angle)
    rotate = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)  # (n, 2, 2)
    slant = np.zeros((n, 2, 2))
    slant[:, 0, 0] = slant[:, 1, 1] = 1.0
    slant[:, 1, 0] = -shear  # col -= shear * row: rows below the centre move left, a right slant
    stretch = np.zeros((n, 2, 2))
    stretch[:, 0, 0] = scale
    stretch[:, 1, 1] = scale * aspect
    return rotate @ slant @ stretch, shift


def warp(images, affine):
    """Apply forward maps (matrices (N, 2, 2), shifts (N, 2)) to images (N, 28, 28) -> float32.

    A point p of an input image moves to CENTRE + matrix @ (p - CENTRE) + shift. Each output
    pixel is read from the inverse image of its centre by bilinear interpolation; outside is 0.
    """
    matrices, shifts = affine
    inverse = np.linalg.inv(matrices).astype(np.float32)[:, :, :, None]  # (N, 2, 2, 1)
    offset = np.arange(IMAGE_SIDE, dtype=np.float32) - np.float32(CENTRE)  # (28,)
    rows, cols = np.meshgrid(offset, offset, indexing="ij")  # (28, 28) each
    rows = rows.reshape(1, -1) - shifts[:, :1].astype(np.float32)  # (N, 784)
    cols = cols.reshape(1, -1) - shifts[:, 1:].astype(np.float32)  # (N, 784)
    source_rows = inverse[:, 0, 0] * rows + inverse[:, 0, 1] * cols + np.float32(CENTRE)  # (N, 784)
    source_cols = inverse[:, 1, 0] * rows + inverse[:, 1, 1] * cols + np.float32(CENTRE)  # (N, 784)
    return _bilinear(images, source_rows, source_cols).reshape(images.shape)


def _bilinear(images, rows, cols):
    """Sample images (N, 28, 28) at points (rows, cols), each (N, P) -> (N, P); 0 outside."""
    side = IMAGE_SIDE + 2
    flat = np.pad(images, ((0, 0), (1, 1), (1, 1))).ravel()  # N padded (30, 30) images: a zero border
    rows = np.clip(rows + 1, 0, side - 1)  # in padded indices; far outside lands on the border
    cols = np.clip(cols + 1, 0, side - 1)
    top = np.minimum(np.floor(rows), side - 2)  # (N, P) row of the top-left neighbour
    left = np.minimum(np.floor(cols), side - 2)
    fy, fx = rows - top, cols - left  # (N, P) in 0..1
    image_start = np.arange(len(images))[:, None] * side * side  # (N, 1)
    top_left = image_start + (top * side + left).astype(np.intp)  # (N, P) indices into flat
    upper = flat[top_left] * (1 - fx) + flat[top_left + 1] * fx
    lower = flat[top_left + side] * (1 - fx) + flat[top_left + side + 1] * fx
    return upper * (1 - fy) + lower * fy

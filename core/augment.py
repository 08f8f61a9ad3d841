"""Random distortions of training digits, so the network copes with how people really draw.

Each image gets its own random affine map (shift, scale, rotation, slant), optionally a smooth
random "wobble" (the point each pixel is read from moves by a field interpolated from a 4x4 grid of
random displacements, bending strokes as a hand does) and, for a random share of images, a thicker
or thinner stroke; another random share (untouched_share) is left as it is, which keeps accuracy on
clean MNIST up while the network learns the distorted shapes.

The whole batch is transformed at once and only the images that change are worked on. The maps
are applied by inverse mapping with a vectorised bilinear sampler: one matrix product gives, for
every output pixel of every image, the point it comes from; the four pixels around that point are
read with one index array (and views of the padded images shifted by one column, one row and both)
and interpolated. Stroke width is changed by blending each image with the maximum (thicker) or
minimum (thinner) over every pixel's 3x3 neighbourhood. No Python loop runs over images or pixels
(bench/bench_core.py prints what augmentation costs beside the training step it feeds).

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
    wobble: float = 0.0  # pixels: spread of smooth random displacements, as a hand's stroke wanders
    keep_size: bool = False  # rescale each map so the digit's longer side stays as long as before,
    # as prepare_canvas (and MNIST) would make it: slant and rotation change shape, not size

    def __post_init__(self):
        if not 0 <= self.untouched_share <= 1:
            raise ValueError("untouched_share must be between 0 and 1")
        if self.thicken_share + self.thin_share > 1:
            raise ValueError("thicken_share + thin_share must not exceed 1")
        if not 0 <= self.min_strength <= self.max_strength <= 1:
            raise ValueError("need 0 <= min_strength <= max_strength <= 1")
        if min(self.max_shift, self.max_scale_change, self.max_aspect_change, self.max_rotation,
               self.max_shear, self.thicken_share, self.thin_share, self.wobble) < 0:
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
    thickness = random_thickness(n, rng, config)  # (N,)
    matrices, shifts = random_affine(n, rng, config)  # (N, 2, 2), (N, 2)
    out = images.astype(np.float32)  # (N, 28, 28), always a copy
    moved = np.flatnonzero(~untouched)  # only these images are worked on
    if moved.size:
        x = out[moved]  # (M, 28, 28), a copy
        _change_thickness_in_place(x, thickness[moved])
        wobble = random_wobble(len(moved), rng, config)  # (M, 2, WOBBLE_GRID**2) or None
        matrices = matrices[moved]
        if config.keep_size:
            matrices = matrices * size_kept(x, matrices)[:, None, None]
        out[moved] = warp(x, (matrices, shifts[moved]), wobble)
    return out


def random_thickness(n, rng, config=DEFAULT):
    """Per-image stroke change (n,) in -1..1: > 0 thicker, < 0 thinner, 0 unchanged."""
    roll = rng.random(n)
    strength = rng.uniform(config.min_strength, config.max_strength, n)
    sign = np.where(roll < config.thicken_share, 1.0,
                    np.where(roll < config.thicken_share + config.thin_share, -1.0, 0.0))
    return (sign * strength).astype(np.float32)


def change_thickness(images, amount):
    """Blend each image (N, 28, 28) towards its 3x3 maximum (amount > 0) or minimum (< 0)."""
    out = np.array(images, dtype=np.float32)  # a copy
    _change_thickness_in_place(out, amount)
    return out


def _change_thickness_in_place(images, amount):
    """change_thickness, writing into images (N, 28, 28) float32; only changed images are worked on."""
    for sign, reduce in ((1, np.maximum), (-1, np.minimum)):
        chosen = np.flatnonzero(sign * amount > 0)  # the images this direction changes
        if chosen.size:
            x = images[chosen]  # (K, 28, 28)
            strength = (sign * amount[chosen])[:, None, None]  # (K, 1, 1) in 0..1
            images[chosen] = x + strength * (_neighbourhood(x, reduce) - x)


def _neighbourhood(images, reduce):
    """reduce (np.maximum or np.minimum) over each pixel's 3x3 neighbourhood; outside is 0."""
    n, h, w = images.shape
    padded = np.zeros((n, h + 2, w + 2), dtype=images.dtype)  # (N, 30, 30)
    padded[:, 1:-1, 1:-1] = images
    rows = reduce(reduce(padded[:, :-2], padded[:, 1:-1]), padded[:, 2:])  # (N, 28, 30)
    return reduce(reduce(rows[:, :, :-2], rows[:, :, 1:-1]), rows[:, :, 2:])  # (N, 28, 28)


def random_affine(n, rng, config=DEFAULT):
    """Random forward maps -> (matrices (n, 2, 2), shifts (n, 2)) acting on (row, col) about CENTRE.

    Each matrix is rotate @ slant @ stretch, with
        rotate = [[cos, -sin], [sin, cos]],  slant = [[1, 0], [-shear, 1]],  stretch = diag(a, b):
    slant moves col by -shear * row, so rows below the centre move left: a right slant.
    """
    scale = 1 + rng.uniform(-config.max_scale_change, config.max_scale_change, n)
    aspect = 1 + rng.uniform(-config.max_aspect_change, config.max_aspect_change, n)
    angle = np.radians(rng.uniform(-config.max_rotation, config.max_rotation, n))
    shear = rng.uniform(-config.max_shear, config.max_shear, n)
    shift = rng.uniform(-config.max_shift, config.max_shift, (n, 2))
    cos, sin = np.cos(angle), np.sin(angle)
    a, b = scale, scale * aspect
    matrices = np.stack([(cos + sin * shear) * a, -sin * b,
                         (sin - cos * shear) * a, cos * b], axis=-1).reshape(n, 2, 2)
    return matrices, shift


def size_kept(images, matrices):
    """(N,) factors that bring the longer side of each image's ink box, once mapped, back to its length.

    The box is that of the mapped ink pixel centres (exact for any matrix); images with less than
    two ink pixels in a line get 1.
    """
    ink = (images > 0).reshape(len(images), 1, -1)  # (N, 1, 784)
    points = _GRID[:2]  # (2, 784) pixel offsets from the centre
    mapped = (matrices.astype(np.float32) @ points)  # (N, 2, 784)
    before = _longer_side(points[None], ink)  # (N,)
    after = _longer_side(mapped, ink)
    return np.where(after > 0, before / np.maximum(after, 1e-6), 1.0)


def _longer_side(points, ink):
    """Longer side of the box around the ink points (N, 2, P) -> (N,), from pixel centre to centre."""
    high = np.where(ink, points, -np.inf).max(axis=2)  # (N, 2)
    low = np.where(ink, points, np.inf).min(axis=2)
    side = (high - low).max(axis=1)  # (N,)
    return np.where(np.isfinite(side), side, 0.0)


WOBBLE_GRID = 4  # control points per side, 9 pixels apart: displacements bend whole strokes


def random_wobble(n, rng, config=DEFAULT):
    """Random displacements (n, 2, WOBBLE_GRID**2) of the control points, rows then columns; None if off."""
    if not config.wobble:
        return None
    return rng.normal(0.0, config.wobble, (n, 2, WOBBLE_GRID ** 2)).astype(np.float32)


def _wobble_basis():
    """(WOBBLE_GRID**2, 784): how much each control point moves each pixel (bilinear, rows sum to 1)."""
    points = np.linspace(0, IMAGE_SIDE - 1, WOBBLE_GRID)  # control point rows (and columns)
    spacing = points[1] - points[0]
    pixels = np.arange(IMAGE_SIDE)
    hat = np.maximum(0, 1 - np.abs(pixels[:, None] - points[None, :]) / spacing)  # (28, G)
    return np.kron(hat, hat).T.astype(np.float32)  # (G*G, 784)


_WOBBLE_BASIS = _wobble_basis()


BORDER = 2  # zero pixels around each image while sampling: clipped far-away points read zeros


def warp(images, affine, wobble=None):
    """Apply forward maps (matrices (N, 2, 2), shifts (N, 2)) to images (N, 28, 28) -> float32.

    A point p of an input image moves to CENTRE + matrix @ (p - CENTRE) + shift. Each output
    pixel is read from the inverse image of its centre by bilinear interpolation; outside is 0.
    wobble (N, 2, G*G), when given, further moves the point each output pixel reads from by a
    smooth field interpolated from control-point displacements (see random_wobble).
    """
    matrices, shifts = affine
    n = len(images)
    side = IMAGE_SIDE + 2 * BORDER
    padded = np.zeros((n, side, side), dtype=np.float32)  # (N, 32, 32)
    padded[:, BORDER:-BORDER, BORDER:-BORDER] = images
    # Source point of output pixel q: inverse @ (q - CENTRE - shift) + CENTRE (+ BORDER, in padded
    # indices). Rows 0..N-1 of `source` are the source rows of every image, rows N..2N-1 the columns.
    (m00, m01), (m10, m11) = matrices[:, 0].T, matrices[:, 1].T  # (N,) each
    determinant = m00 * m11 - m01 * m10
    coefficients = np.empty((2, n, 3), dtype=np.float32)  # [source row / column, image, (d/d row, d/d col, constant)]
    coefficients[0, :, 0], coefficients[0, :, 1] = m11 / determinant, -m01 / determinant  # the inverse matrix
    coefficients[1, :, 0], coefficients[1, :, 1] = -m10 / determinant, m00 / determinant
    shift_back = coefficients[:, :, 0] * shifts[:, 0] + coefficients[:, :, 1] * shifts[:, 1]  # (2, N): inverse @ shift
    coefficients[:, :, 2] = BORDER + CENTRE - shift_back
    coefficients = coefficients.reshape(2 * n, 3)  # (2N, 3)
    source = coefficients @ _GRID  # (2N, 784)
    if wobble is not None:
        source += wobble.transpose(1, 0, 2).reshape(2 * n, -1) @ _WOBBLE_BASIS  # (2N, 784), like source
    np.clip(source, 0, side - 2, out=source)  # far outside lands on the border
    corner = np.floor(source)  # (2N, 784) top row / left column of the four neighbours
    fraction = source - corner  # (2N, 784) in 0..1
    corner = corner.astype(np.int32)  # two small integer steps are faster than float32 -> intp
    within = corner[:n] * side + corner[n:]  # (N, 784) index of the top-left neighbour in its image
    image_start = np.arange(n, dtype=np.intp)[:, None] * (side * side)  # (N, 1)
    top_left = within.astype(np.intp) + image_start  # (N, 784) index into padded.ravel()
    return _bilinear(padded.ravel(), top_left, side, fraction[:n], fraction[n:]).reshape(images.shape)


def _pixel_grid():
    """(3, 784): row - CENTRE, column - CENTRE and 1 for every pixel, row-major."""
    offset = np.arange(IMAGE_SIDE, dtype=np.float32) - np.float32(CENTRE)
    rows, cols = np.meshgrid(offset, offset, indexing="ij")  # (28, 28) each
    return np.stack([rows.ravel(), cols.ravel(), np.ones(IMAGE_SIDE * IMAGE_SIDE, np.float32)])


_GRID = _pixel_grid()


def _bilinear(flat, top_left, side, fy, fx):
    """Interpolate `flat` (padded images, raveled) at top_left + (fy, fx); all (N, P) -> (N, P).

    The right, lower and lower-right neighbours are read through shifted views of `flat`, so the
    one index array serves all four.
    """
    upper = np.take(flat, top_left)  # (N, P)
    upper += fx * (np.take(flat[1:], top_left) - upper)
    lower = np.take(flat[side:], top_left)
    lower += fx * (np.take(flat[side + 1:], top_left) - lower)
    upper += fy * (lower - upper)
    return upper

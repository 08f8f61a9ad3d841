"""Random distortions of training digits, so the network copes with how people really draw.

Each image gets its own random affine map (shift, scale, rotation, slant), optionally a smooth
random "wobble" (the point each pixel is read from moves by a field interpolated from a 4x4 grid of
random displacements, bending strokes as a hand does) and, for a random share of images, a thicker
or thinner stroke; another random share (untouched_share) is left as it is, which keeps accuracy on
clean MNIST up while the network learns the distorted shapes.

The whole batch is transformed at once and only the images that change are worked on. All uniform
draws of a batch come from one call (a table with a row per kind of draw, the same numbers the
separate draws would give). The images are copied into zero borders once; stroke width is changed
by blending each chosen image with the maximum (thicker) or minimum (thinner) over every pixel's
3x3 neighbourhood, taken on the raveled padded images with shifted views. The maps are applied by
inverse mapping with a vectorised bilinear sampler: one matrix product gives, for every output
pixel of every image, the point it comes from; the four pixels around that point are read with one
index array (and views of the raveled padded images shifted by one column, one row and both) and
interpolated in place. No Python loop runs over images or pixels (bench/bench_core.py prints what
augmentation costs beside the training step it feeds); core.augment_reference does the same one
image and one pixel at a time, and the tests hold the two together.

Given the same generator state, augment returns the same images.
"""
import functools
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


DRAWS = ("untouched", "thickness roll", "strength", "scale", "aspect", "angle", "shear", "shift", "shift")
# The uniform draws augment takes per image: one row each of its (9, N) table. One rng.random call
# fills the table with the numbers that rng.random(N) (untouched), random_thickness and then
# random_affine would draw one call after another, so the images are those of separate calls.


def augment(images, rng, config=DEFAULT):
    """images (N, 28, 28) 0..255, uint8 or float -> distorted copies, float32 (N, 28, 28) 0..255."""
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"expected images of shape (N, 28, 28), got {images.shape}")
    n = len(images)
    low, width = _draw_ranges(config)  # (9, 1) each
    table = low + width * rng.random((len(DRAWS), n))  # (9, N), as rng.uniform(low, low + width) maps draws
    out = images.astype(np.float32)  # (N, 28, 28), always a copy
    moved = (table[0] >= config.untouched_share).nonzero()[0]  # (M,) only these images are worked on
    if moved.size:
        roll, strength, scale, aspect, angle, shear = table[1:7, moved]  # (M,) each
        shifts = table[7:].reshape(n, 2)[moved]  # (M, 2): the shift draws run image by image
        padded = _padded(images[moved])  # (M, 32, 32)
        _change_stroke_in_place(padded, roll, strength, config)
        wobble = random_wobble(len(moved), rng, config)  # (M, 2, WOBBLE_GRID**2) or None
        scale, aspect, angle = 1 + scale, 1 + aspect, np.radians(angle)
        inverse = _inverse_matrices(scale, aspect, angle, shear)  # (2, 2, M)
        if config.keep_size:
            inverse /= size_kept(_inside(padded), _matrices(scale, aspect, angle, shear))  # (M,)
        out[moved] = _sample(padded, _source_coefficients(inverse, shifts), wobble)
    return out


@functools.lru_cache(maxsize=16)
def _draw_ranges(config):
    """(low, width) (9, 1) each: the draws of row k of augment's table are uniform over [low, low + width)."""
    half_widths = [config.max_scale_change, config.max_aspect_change, config.max_rotation,
                   config.max_shear, config.max_shift, config.max_shift]
    low = np.array([0.0, 0.0, config.min_strength] + [-h for h in half_widths])[:, None]
    high = np.array([1.0, 1.0, config.max_strength] + half_widths)[:, None]
    return low, high - low  # the width rng.uniform(low, high) multiplies its draws by


def random_thickness(n, rng, config=DEFAULT):
    """Per-image stroke change (n,) in -1..1: > 0 thicker, < 0 thinner, 0 unchanged."""
    roll = rng.random(n)
    strength = rng.uniform(config.min_strength, config.max_strength, n)
    thicker, thinner = _stroke_choice(roll, config)
    sign = thicker - thinner.astype(np.float64)  # 1, -1 or 0
    return (sign * strength).astype(np.float32)


def _stroke_choice(roll, config):
    """Two (n,) masks: the images a roll (n,) in 0..1 makes thicker, and those it makes thinner."""
    thicker = roll < config.thicken_share
    return thicker, ~thicker & (roll < config.thicken_share + config.thin_share)


def _change_stroke_in_place(padded, roll, strength, config):
    """What random_thickness's roll and strength (M,) ask of padded images (M, 32, 32), done in place."""
    thicker, thinner = (mask.nonzero()[0] for mask in _stroke_choice(roll, config))
    _blend_in_place(padded, thicker, strength[thicker], np.maximum)
    _blend_in_place(padded, thinner, strength[thinner], np.minimum)


BORDER = 2  # zero pixels around each image while it is changed: clipped far-away points read zeros
SIDE = IMAGE_SIDE + 2 * BORDER  # of a padded image


def _padded(images):
    """images (N, 28, 28) -> float32 copies (N, 32, 32) inside a border of BORDER zeros."""
    padded = np.zeros((len(images), SIDE, SIDE), dtype=images.dtype)  # (N, 32, 32)
    _inside(padded)[...] = images  # copied before the cast: a strided copy is cheaper without one
    return padded.astype(np.float32, copy=False)


def _inside(padded):
    """The (N, 28, 28) images inside padded ones (N, 32, 32), as a view."""
    return padded[:, BORDER:-BORDER, BORDER:-BORDER]


def change_thickness(images, amount):
    """Blend each image (N, 28, 28) towards its 3x3 maximum (amount > 0) or minimum (< 0)."""
    padded = _padded(np.asarray(images))  # (N, 32, 32)
    amount = np.asarray(amount, dtype=np.float32)  # (N,)
    thicker, thinner = (amount > 0).nonzero()[0], (amount < 0).nonzero()[0]
    _blend_in_place(padded, thicker, amount[thicker], np.maximum)
    _blend_in_place(padded, thinner, -amount[thinner], np.minimum)
    return np.ascontiguousarray(_inside(padded))


def _inside_mask():
    """(32 * 32,) float32: 1 inside a padded image, 0 on its border."""
    mask = np.zeros((1, SIDE, SIDE), np.float32)
    _inside(mask)[...] = 1
    return mask.ravel()


_INSIDE = _inside_mask()


def _blend_in_place(padded, chosen, strength, reduce):
    """Blend the chosen padded images (K of N, 32, 32) by strength (K,) in 0..1 towards reduce
    (np.maximum: thicker, np.minimum: thinner) over each inside pixel's 3x3 neighbourhood.

    Raveled, K padded images are one run of K * 1024 values in which the neighbours of an inside
    pixel at i are at i + {-SIDE, 0, SIDE} + {-1, 0, 1}; the border's strength is 0, so it stays 0.
    """
    if not chosen.size:
        return
    x = padded[chosen].ravel()  # (K * 1024,), a copy
    near = slice(SIDE + 1, len(x) - SIDE - 1)  # the pixels _neighbourhood reaches
    change = _neighbourhood(x, reduce)  # (K * 1024 - 2 * SIDE - 2,), like x[near]
    change -= x[near]
    change *= (strength.astype(np.float32)[:, None] * _INSIDE).ravel()[near]  # (K, 1024) raveled, sliced
    x[near] += change  # x + strength * (neighbourhood - x)
    padded[chosen] = x.reshape(-1, SIDE, SIDE)


def _neighbourhood(flat, reduce):
    """reduce over the 3x3 neighbourhood of every value of flat[SIDE + 1:-SIDE - 1] (raveled padded images)."""
    column = reduce(flat[:-2 * SIDE], flat[SIDE:-SIDE])  # (L - 2 SIDE,): rows i - SIDE, i and i + SIDE
    reduce(column, flat[2 * SIDE:], out=column)
    out = reduce(column[:-2], column[1:-1])  # (L - 2 SIDE - 2,): and columns j - 1, j and j + 1
    return reduce(out, column[2:], out=out)


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
    return _matrices(scale, aspect, angle, shear), shift


def _matrices(scale, aspect, angle, shear):
    """(n, 2, 2) forward maps rotate @ slant @ stretch (see random_affine), a = scale, b = scale * aspect."""
    cos, sin = np.cos(angle), np.sin(angle)
    a, b = scale, scale * aspect
    return np.stack([(cos + sin * shear) * a, -sin * b,
                     (sin - cos * shear) * a, cos * b], axis=-1).reshape(-1, 2, 2)


def _inverse_matrices(scale, aspect, angle, shear):
    """(2, 2, n) [row, column, image] inverses of _matrices: diag(1/a, 1/b) @ [[1, 0], [shear, 1]] @ [[cos, sin], [-sin, cos]]."""
    cos, sin = np.cos(angle), np.sin(angle)
    return np.array([[cos, sin], [shear * cos - sin, shear * sin + cos]]) / np.array([scale, scale * aspect])[:, None]


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


def warp(images, affine, wobble=None):
    """Apply forward maps (matrices (N, 2, 2), shifts (N, 2)) to images (N, 28, 28) -> float32.

    A point p of an input image moves to CENTRE + matrix @ (p - CENTRE) + shift. Each output
    pixel is read from the inverse image of its centre by bilinear interpolation; outside is 0.
    wobble (N, 2, G*G), when given, further moves the point each output pixel reads from by a
    smooth field interpolated from control-point displacements (see random_wobble).
    """
    matrices, shifts = affine
    (m00, m01), (m10, m11) = matrices[:, 0].T, matrices[:, 1].T  # (N,) each
    inverse = np.array([[m11, -m01], [-m10, m00]]) / (m00 * m11 - m01 * m10)  # (2, 2, N)
    return _sample(_padded(np.asarray(images)), _source_coefficients(inverse, shifts), wobble)


def _source_coefficients(inverse, shifts):
    """(3, 2N) float32 from inverse maps (2, 2, N) and shifts (N, 2): the source row (column k < N)
    or column (k >= N) of output pixel q, in padded indices, is coefficients[:, k] @ (q_row - CENTRE,
    q_col - CENTRE, 1), as the source point is inverse @ (q - CENTRE - shift) + CENTRE."""
    n = len(shifts)
    coefficients = np.empty((3, 2, n), dtype=np.float32)  # [d/d row, d/d col, constant; source row, column; image]
    coefficients[:2] = inverse.transpose(1, 0, 2)
    shift_back = coefficients[0] * shifts[:, 0] + coefficients[1] * shifts[:, 1]  # (2, N): inverse @ shift
    coefficients[2] = BORDER + CENTRE - shift_back
    return coefficients.reshape(3, 2 * n)


MAX_IMAGES = 2 ** 24 // (SIDE * SIDE)  # 16384 padded images: their raveled indices are exact in float32


def _sample(padded, coefficients, wobble=None):
    """warp for images already padded (N, 32, 32), given _source_coefficients -> (N, 28, 28).

    One matrix product gives, for every output pixel of every image, the point it reads from;
    that point's top-left neighbour becomes one index into the raveled stack of padded images.
    """
    n = len(padded)
    if n > MAX_IMAGES:
        return np.concatenate([_sample(*part) for part in _parts(padded, coefficients, wobble)])
    source = coefficients.T @ _GRID  # (2N, 784): source rows of every image, then columns
    if wobble is not None:
        source += wobble.transpose(1, 0, 2).reshape(2 * n, -1) @ _WOBBLE_BASIS  # (2N, 784), like source
    source.clip(0, SIDE - 2, out=source)  # far outside lands on the border
    corner = np.floor(source)  # (2N, 784) top row / left column of the four neighbours
    fraction = np.subtract(source, corner, out=source)  # (2N, 784) in 0..1
    top_left = corner[:n]  # (N, 784), made into top_row * SIDE + left_column + the image's start
    top_left *= SIDE
    top_left += corner[n:]
    top_left += np.arange(0, n * SIDE * SIDE, SIDE * SIDE, dtype=np.float32)[:, None]  # (N, 1), exact
    top_left = top_left.astype(np.int32).astype(np.intp)  # two small steps are faster than float32 -> intp
    return _bilinear(padded.ravel(), top_left, fraction[:n], fraction[n:]).reshape(n, IMAGE_SIDE, IMAGE_SIDE)


def _parts(padded, coefficients, wobble):
    """_sample's arguments for runs of at most MAX_IMAGES images."""
    n = len(padded)
    by_image = coefficients.reshape(3, 2, n)
    for start in range(0, n, MAX_IMAGES):
        part = slice(start, start + MAX_IMAGES)
        yield (padded[part], by_image[:, :, part].reshape(3, -1),
               None if wobble is None else wobble[part])


def _pixel_grid():
    """(3, 784): row - CENTRE, column - CENTRE and 1 for every pixel, row-major."""
    offset = np.arange(IMAGE_SIDE, dtype=np.float32) - np.float32(CENTRE)
    rows, cols = np.meshgrid(offset, offset, indexing="ij")  # (28, 28) each
    return np.stack([rows.ravel(), cols.ravel(), np.ones(IMAGE_SIDE * IMAGE_SIDE, np.float32)])


_GRID = _pixel_grid()


def _bilinear(flat, top_left, fy, fx):
    """Interpolate `flat` (padded images, raveled) at top_left + (fy, fx); all (N, P) -> (N, P).

    The right, lower and lower-right neighbours are read through shifted views of `flat`, so the
    one index array serves all four. Every index is in range (the source points were clipped), so
    the reads skip the bounds check (mode="wrap" never wraps here); the arithmetic is in place.
    """
    upper = flat.take(top_left, mode="wrap")  # (N, P)
    across = flat[1:].take(top_left, mode="wrap")
    across -= upper
    across *= fx
    upper += across  # upper + fx * (right - upper)
    lower = flat[SIDE:].take(top_left, mode="wrap")
    flat[SIDE + 1:].take(top_left, mode="wrap", out=across)
    across -= lower
    across *= fx
    lower += across  # lower + fx * (lower right - lower)
    lower -= upper
    lower *= fy
    upper += lower  # upper + fy * (lower - upper)
    return upper

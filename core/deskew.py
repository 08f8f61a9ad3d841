"""Deskewing: undo a digit's slant before the network reads it (moment-based, as in the MNIST literature).

A slanted digit's ink leans: its column grows (or shrinks) with its row. The image's second-order
central moments measure by how much: with the centre of mass (cy, cx) and the ink I as weights,

    mu02 = sum I * (row - cy)^2,   mu11 = sum I * (row - cy) * (col - cx),   alpha = mu11 / mu02

is the slope of the least-squares line col - cx = alpha * (row - cy) through the ink. Shearing
each row sideways by alpha * (row - cy), about the centre of mass, makes that slope 0: output pixel
(row, col) is read from (row, col + alpha * (row - cy)), by linear interpolation between the two
neighbouring pixels of the same row (outside the image reads 0). The centre of mass stays where
it was, and so does the ink, up to what leaves the 28x28 field. A deskewed image has slant 0, so
deskewing it again changes nothing (unless the slant was capped or ink left the field).

Within a row the shift is the same for every pixel, so its whole and fractional parts are one
number per row: the batch is deskewed with one gather and one blend, no loop over images or pixels.
"""
import numpy as np

from core.mnist_format import IMAGE_SHAPE, IMAGE_SIDE

MAX_SLANT = 1.0  # |alpha| is capped here: a near-flat mark ("-") has mu02 near 0 and no usable slant
MIN_SPREAD = 1e-3  # mu02 / ink (pixels^2) at or below this: no slant measured (alpha = 0)
MIN_SLANT = 1e-3  # |alpha| below this counts as upright (under 0.02 px of shift anywhere), so that
#                   deskewing a deskewed image returns it unchanged (its slant is 0 up to rounding)
_PAD = IMAGE_SIDE + 1  # zero columns either side: any clipped shift reads only zeros past the edge


def slants(images):
    """images (N, 28, 28), ink >= 0 -> (alpha (N,), cy (N,)), float64.

    alpha: the column shift per row below the centre of mass (0 for a blank image or one whose ink
    lies on a single row; capped at +-MAX_SLANT); cy: the row of the centre of mass.
    """
    images = np.asarray(images, dtype=np.float64)  # (N, 28, 28)
    offsets = np.arange(IMAGE_SIDE, dtype=np.float64)  # (28,)
    ink_rows = images.sum(axis=2)  # (N, 28) ink along each row
    ink_cols = images.sum(axis=1)  # (N, 28)
    ink = ink_rows.sum(axis=1)  # (N,)
    safe_ink = np.where(ink > 0, ink, 1.0)
    cy = ink_rows @ offsets / safe_ink  # (N,)
    cx = ink_cols @ offsets / safe_ink  # (N,)
    dy = offsets[None, :] - cy[:, None]  # (N, 28) row offsets from the centre
    dx = offsets[None, :] - cx[:, None]  # (N, 28) column offsets
    mu02 = (ink_rows * dy * dy).sum(axis=1)  # (N,)
    mu11 = np.einsum("nr,nrc,nc->n", dy, images, dx)  # (N,)
    measurable = mu02 > MIN_SPREAD * safe_ink
    alpha = np.where(measurable, mu11 / np.where(measurable, mu02, 1.0), 0.0)
    alpha = np.where(np.abs(alpha) < MIN_SLANT, 0.0, alpha)
    return np.clip(alpha, -MAX_SLANT, MAX_SLANT), cy


def deskew(images):
    """images (N, 28, 28) or (28, 28), 0..255, ink high -> deskewed float32 of the same shape."""
    images = np.asarray(images)
    single = images.ndim == 2
    batch = images[None] if single else images
    if batch.ndim != 3 or batch.shape[1:] != IMAGE_SHAPE:
        raise ValueError(f"expected images of shape (N, 28, 28) or (28, 28), got {images.shape}")
    alpha, cy = slants(batch)  # (N,), (N,)
    n = len(batch)
    shift = alpha[:, None] * (np.arange(IMAGE_SIDE)[None, :] - cy[:, None])  # (N, 28) per row
    whole = np.floor(shift)  # (N, 28)
    fraction = (shift - whole).astype(np.float32)[:, :, None]  # (N, 28, 1)
    whole = np.clip(whole, -_PAD, _PAD - 1).astype(np.intp)  # beyond the field reads only zeros
    width = IMAGE_SIDE + 2 * _PAD + 1
    padded = np.zeros((n, IMAGE_SIDE, width), np.float32)  # (N, 28, 86)
    padded[:, :, _PAD:_PAD + IMAGE_SIDE] = batch
    flat = padded.ravel()
    row_starts = np.arange(n * IMAGE_SIDE).reshape(n, IMAGE_SIDE) * width + _PAD + whole  # (N, 28)
    columns = row_starts[:, :, None] + np.arange(IMAGE_SIDE)  # (N, 28, 28) index into flat
    left = np.take(flat, columns)  # (N, 28, 28)
    right = np.take(flat[1:], columns)  # (N, 28, 28): the next column, through a shifted view
    out = left + fraction * (right - left)  # (N, 28, 28)
    return out[0] if single else out

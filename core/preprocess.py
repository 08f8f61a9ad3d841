"""Turn a drawing from the canvas into a 28x28 image laid out the way MNIST digits are.

MNIST digits were fitted into a 20x20 box (aspect ratio kept), antialiased, and placed in a
28x28 field so that their centre of mass sits on pixel (14, 14) (row, column; measured over
the 60,000 training digits: mean 14.00, spread +-0.5 from MNIST's whole-pixel shift). A network
trained on them fails on drawings that are bigger, smaller, off-centre or differently framed,
so prepare_canvas reproduces that layout:

1. scale the canvas to 0..1 (uint8 and other integers by 255, floats taken as 0..1);
2. treat values below INK_THRESHOLD as background (faint noise, e.g. a scanner's grey);
3. return None for a blank canvas, one holding only specks (see _only_specks) or a lone dot;
4. find the ink's bounding box, ignoring stray specks at its edges (see _drop_stray_clusters);
5. resample the box with one linear map that scales its longer side to 20 px and puts its
   centre of mass on (14, 14). Downscaling averages over each output pixel's footprint (area
   averaging, so a hard pen stroke gets grey, antialiased edges as in MNIST); upscaling a tiny
   drawing interpolates linearly;
6. widen thin strokes. A fine pen on a big drawing would average down to a faint hairline,
   unlike any MNIST stroke (MNIST's are 1.7 to 3.8 px wide, 5th to 95th percentile). When the mean stroke
   width, estimated as (8/pi) * ink / total variation of the crop, is below MIN_STROKE output
   pixels, each output pixel's footprint grows by MIN_STROKE - 1 pixels (a box blur folded into
   the same resampling) and the ink is multiplied by MIN_STROKE / width: the strokes come out
   about MIN_STROKE pixels of ink wide with full-ink centres. Thick strokes are left as they are.

The centring shift is sub-pixel, not MNIST's whole-pixel one: it costs nothing here because it is
part of the same resampling step (no second interpolation, no extra blur), and it lands every
drawing on the middle of the range MNIST's own digits spread over.

The result is float32, 0..255. NumPy only (threadpoolctl keeps BLAS on one thread for the
small matrix products, where waking more threads costs more than the work); a 280x280 canvas
takes well under 2 ms
(bench/drawn_digits.py prints the figure). Huge canvases are read in bands of rows, so the
memory used stays small whatever the canvas size.
"""
from functools import cache

import numpy as np
from threadpoolctl import ThreadpoolController

from core.mnist_format import CENTRE, IMAGE_SIDE  # the output's side; where its centre of mass is put

BOX = 20  # the ink's longer side is scaled to this, as in MNIST
INK_THRESHOLD = 0.1  # fraction of full ink; fainter pixels count as background
MIN_EXTENT_FRACTION = 0.04  # share of the canvas's longer side: shorter ink clusters are specks,
#                             narrower gaps between inked rows (or columns) are bridged
MIN_INK_FRACTION = 0.0001  # less ink than this share of the canvas area (in full-ink pixels): nothing drawn
STRAY_INK_FRACTION = 0.02  # a separate cluster at the edge of the ink with less than this share of it is stray
DOT_RATIO = 2.5  # ink spanning less than this many stroke widths ...
DOT_FRACTION = 0.25  # ... and less than this share of the canvas side is a lone dot, not a digit
STROKE_FACTOR = 8 / np.pi  # mean stroke width = this * ink / total variation (see _crop_measures)
MIN_STROKE = 2.0  # output pixels; thinner pen strokes are widened to this (MNIST: median 2.5, 25% below 2.1)
MAX_GAIN = 20.0  # most a thin stroke's ink is multiplied by when widening it
BAND_ROWS = 512  # rows converted to float at a time


def prepare_canvas(canvas):
    """A drawing (2-D, ink high on a 0 background) -> (28, 28) float32 image, 0..255, or None.

    canvas: uint8 (or any integer type) on 0..255, bool, or float on 0..1, any size.
    Returns None when the canvas is blank or holds only specks: every cluster of inked rows and
    of inked columns (see _clusters) is shorter than MIN_EXTENT_FRACTION (4%) of the canvas's
    longer side (11 px on a 280x280 canvas), or the ink adds up to less than MIN_INK_FRACTION
    (0.01%) of the canvas area (8 full-ink pixels on a 280x280 canvas; a "1" drawn 84 px tall
    with a 1.5 px pen on a 560x560 canvas has 113). A lone dot (a click without a stroke) gives
    None too: ink spanning less than DOT_RATIO (2.5) times its stroke width and less than
    DOT_FRACTION (25%) of the canvas side (a round dot spans 2 stroke widths by this measure, a
    short bar 20 px wide and 80 px long spans 4).
    Raises ValueError for an array that is not 2-D, is empty, or holds NaN or infinity.
    """
    canvas, full_scale = _validated(canvas)
    box = _ink_box(canvas, full_scale)  # (r0, r1, c0, c1) or None
    if box is None:
        return None
    crop_rows, crop_cols, variation = _crop_measures(canvas, full_scale, *box)  # (h,), (w,), float
    stroke = STROKE_FACTOR * crop_rows.sum() / max(variation, 1e-9)  # mean stroke width, canvas px
    extent = max(box[1] - box[0], box[3] - box[2])
    if extent < DOT_RATIO * stroke and extent < DOT_FRACTION * max(canvas.shape):
        return None  # a lone dot: a click without a stroke
    return _lay_out(canvas, full_scale, box, crop_rows, crop_cols, stroke)


def _ink_box(canvas, full_scale):
    """(r0, r1, c0, c1) around the ink, stray specks left out; None when blank or only specks."""
    row_ink, col_ink = _ink_profiles(canvas, full_scale, 0, canvas.shape[0], 0, canvas.shape[1])
    if row_ink.sum() < MIN_INK_FRACTION * canvas.size:  # also catches a blank canvas
        return None
    side = max(canvas.shape)
    row_clusters, col_clusters = _clusters(row_ink, side), _clusters(col_ink, side)
    if _only_specks(row_clusters, col_clusters, side):
        return None
    return _drop_stray_clusters(row_clusters, row_ink) + _drop_stray_clusters(col_clusters, col_ink)


def _lay_out(canvas, full_scale, box, crop_rows, crop_cols, stroke):
    """The ink in box, scaled, centred and (if thin) widened into a (28, 28) float32 0..255 image."""
    r0, r1, c0, c1 = box
    scale = BOX / max(r1 - r0, c1 - c0)  # output pixels per canvas pixel
    stroke = stroke * scale  # output pixels
    thin = scale <= 1 and stroke < MIN_STROKE
    widen = MIN_STROKE - 1 if thin else 0.0
    to_rows = _resampling_matrix(crop_rows, scale, widen)  # (28, h)
    to_cols = _resampling_matrix(crop_cols, scale, widen)  # (28, w)
    image = _resample(canvas, full_scale, r0, r1, c0, c1, to_rows, to_cols)  # (28, 28)
    if thin:
        image *= np.float32(MIN_STROKE / max(stroke, MIN_STROKE / MAX_GAIN))
    return np.clip(image, 0.0, 1.0) * np.float32(255)


def _validated(canvas):
    """-> (the canvas as an ndarray, the value meaning full ink); ValueError if unusable."""
    canvas = np.asarray(canvas)
    if canvas.ndim != 2:
        raise ValueError(f"A canvas must be a 2-D array (rows, columns); got {canvas.ndim}-D, shape {canvas.shape}.")
    if canvas.size == 0:
        raise ValueError(f"The canvas is empty (shape {canvas.shape}); it needs at least one row and one column.")
    if canvas.dtype == bool:
        return canvas.view(np.uint8), 1.0
    if np.issubdtype(canvas.dtype, np.integer):
        return canvas, 255.0
    if np.issubdtype(canvas.dtype, np.floating):
        if not np.isfinite(canvas).all():
            raise ValueError("The canvas holds NaN or infinite values; expected ink values between 0 and 1.")
        return canvas, 1.0
    raise ValueError(f"A canvas must hold numbers (uint8 0..255 or float 0..1); got dtype {canvas.dtype}.")


def _bands(canvas, full_scale, r0, r1, c0, c1):
    """Yield (first row, float32 block of canvas[r0:r1, c0:c1] on 0..1, faint values zeroed)."""
    for start in range(r0, r1, BAND_ROWS):
        block = canvas[start:min(start + BAND_ROWS, r1), c0:c1].astype(np.float32)
        block *= np.float32(1.0 / full_scale)
        np.clip(block, 0.0, 1.0, out=block)
        block[block < INK_THRESHOLD] = 0.0
        yield start - r0, block


def _ink_profiles(canvas, full_scale, r0, r1, c0, c1):
    """Ink summed along each row and each column of canvas[r0:r1, c0:c1] -> (h,), (w,) float64."""
    rows = np.zeros(r1 - r0)
    cols = np.zeros(c1 - c0)
    for start, block in _bands(canvas, full_scale, r0, r1, c0, c1):
        rows[start:start + len(block)] = block.sum(axis=1)
        cols += block.sum(axis=0)
    return rows, cols


def _crop_measures(canvas, full_scale, r0, r1, c0, c1):
    """Ink along each row (h,) and column (w,) of the crop, and its total variation.

    The total variation (summed absolute differences between neighbouring pixels, both axes,
    background all around the crop) is about twice a stroke's length times 4/pi, so
    ink / variation gives the mean stroke width.
    """
    rows = np.zeros(r1 - r0)
    cols = np.zeros(c1 - c0)
    variation = 0.0
    above = np.zeros(c1 - c0, np.float32)  # the row above the current one: background at first
    for start, block in _bands(canvas, full_scale, r0, r1, c0, c1):
        rows[start:start + len(block)] = block.sum(axis=1)
        cols += block.sum(axis=0)
        variation += np.abs(block[0] - above).sum() + np.abs(np.diff(block, axis=0)).sum()
        variation += block[:, 0].sum() + block[:, -1].sum() + np.abs(np.diff(block, axis=1)).sum()
        above = block[-1]
    return rows, cols, variation + above.sum()


def _clusters(profile, canvas_side):
    """Stretches of inked rows (or columns) -> list of (start, stop).

    Gaps narrower than MIN_EXTENT_FRACTION of the canvas side are bridged, so a digit drawn
    with small breaks (or fine hatching) stays one cluster while a far-away dot does not.
    """
    inked = np.concatenate(([0], (profile > 0).view(np.int8), [0]))
    edges = np.flatnonzero(np.diff(inked))  # starts and stops of the inked runs, alternating
    starts, stops = edges[0::2], edges[1::2]
    bridge = MIN_EXTENT_FRACTION * canvas_side
    keep = np.concatenate(([True], starts[1:] - stops[:-1] >= bridge))  # runs that start a cluster
    cluster_stops = np.append(stops[np.flatnonzero(keep)[1:] - 1], stops[-1:])
    return list(zip(starts[keep].tolist(), cluster_stops.tolist()))


def _only_specks(row_clusters, col_clusters, canvas_side):
    """True when no cluster of inked rows or columns reaches MIN_EXTENT_FRACTION of the canvas."""
    longest = max(stop - start for start, stop in row_clusters + col_clusters)
    return longest < MIN_EXTENT_FRACTION * canvas_side


def _drop_stray_clusters(clusters, profile):
    """(start, stop) of the ink once edge clusters holding < STRAY_INK_FRACTION of it are dropped.

    A stray dot away from the drawing would otherwise stretch the bounding box and shrink the
    digit. The heaviest cluster always stays.
    """
    masses = [profile[start:stop].sum() for start, stop in clusters]
    limit = STRAY_INK_FRACTION * sum(masses)
    first, last = 0, len(clusters) - 1
    while first < last and min(masses[first], masses[last]) < limit:
        if masses[first] <= masses[last]:
            first += 1
        else:
            last -= 1
    return clusters[first][0], clusters[last][1]


def _resampling_matrix(profile, scale, widen):
    """Weights (28, n) taking n canvas pixels along one axis to the 28 output pixels.

    Canvas pixel j covers [j, j+1); the map x_out = (x - centre_of_mass) * scale + CENTRE + 0.5
    puts the profile's centre of mass on the middle of output pixel CENTRE.
    """
    n = len(profile)
    centre_of_mass = (np.arange(n) + 0.5) @ profile / profile.sum()
    edges = (np.arange(IMAGE_SIDE + 1) - CENTRE - 0.5) / scale + centre_of_mass  # (29,) in canvas coords
    if scale <= 1:
        return _area_weights(edges, n, scale, widen)
    return _linear_weights((edges[:-1] + edges[1:]) / 2, n)


def _area_weights(edges, n, scale, widen):
    """Area averaging: the share of each output pixel's footprint [edges[i], edges[i+1]),
    widened by `widen` output pixels, that canvas pixel j covers -> (28, n)."""
    pad = widen / 2 / scale  # canvas pixels added on each side
    left = np.maximum(edges[:-1, None] - pad, np.arange(n)[None, :])  # (28, n)
    right = np.minimum(edges[1:, None] + pad, np.arange(1, n + 1)[None, :])  # (28, n)
    return (np.maximum(right - left, 0.0) * (scale / (1 + widen))).astype(np.float32)


def _linear_weights(centres, n):
    """Linear interpolation at the output pixel centres (canvas coords) -> (28, n); zero outside."""
    position = centres - 0.5  # in canvas pixel indices
    below = np.floor(position).astype(int)  # (28,)
    frac = position - below
    weights = np.zeros((IMAGE_SIDE + 2, n + 2), np.float32)  # one spare row and column each side
    rows = np.arange(IMAGE_SIDE) + 1
    weights[rows, np.clip(below + 1, 0, n + 1)] += 1 - frac
    weights[rows, np.clip(below + 2, 0, n + 1)] += frac
    return weights[1:-1, 1:-1]


def _resample(canvas, full_scale, r0, r1, c0, c1, to_rows, to_cols):
    """to_rows @ canvas[r0:r1, c0:c1] @ to_cols.T, a band of rows at a time -> (28, 28) float32."""
    image = np.zeros((IMAGE_SIDE, IMAGE_SIDE), np.float32)
    # Waking BLAS worker threads costs ~1 ms, far more than these small products.
    with _blas_threads().limit(limits=1, user_api="blas"):
        for start, block in _bands(canvas, full_scale, r0, r1, c0, c1):
            image += to_rows[:, start:start + len(block)] @ (block @ to_cols.T)  # (28, b) @ (b, 28)
    return image


@cache
def _blas_threads():
    return ThreadpoolController()

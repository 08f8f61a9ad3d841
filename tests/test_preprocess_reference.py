"""prepare_canvas against a slow reference written from its docstring, pixel by pixel.

The reference takes a canvas whose ink is one cluster (no specks, no strays), so the ink's box
is simply the box around every pixel at or above INK_THRESHOLD; it then follows the module's
steps 5 and 6 with plain loops: area averaging when downscaling (scale <= 1), linear
interpolation when upscaling, and thin strokes widened and brightened.
"""
import numpy as np
import pytest

from core.preprocess import (BOX, CENTRE, INK_THRESHOLD, MAX_GAIN, MIN_STROKE, STROKE_FACTOR,
                             prepare_canvas)

SIDE = 28


def ink(canvas):
    """Float canvas (0..1) -> ink values, faint ones set to 0, as float64."""
    values = np.clip(np.asarray(canvas, np.float64), 0.0, 1.0)
    return np.where(values < INK_THRESHOLD, 0.0, values)


def total_variation(crop):
    """Summed |difference| between neighbours along both axes, background all around."""
    padded = np.pad(crop, 1)
    return np.abs(np.diff(padded, axis=0)).sum() + np.abs(np.diff(padded, axis=1)).sum()


def axis_weights(profile, scale, widen):
    """(28, n): how much of canvas pixel j goes into output pixel i along one axis."""
    n = len(profile)
    centre = sum((j + 0.5) * profile[j] for j in range(n)) / profile.sum()
    weights = np.zeros((SIDE, n))
    for i in range(SIDE):
        low = (i - CENTRE - 0.5) / scale + centre      # the output pixel's footprint, canvas coords
        high = (i - CENTRE + 0.5) / scale + centre
        if scale <= 1:
            pad = widen / 2 / scale
            for j in range(n):
                overlap = min(high + pad, j + 1) - max(low - pad, j)
                weights[i, j] = max(overlap, 0.0) * scale / (1 + widen)
        else:
            position = (low + high) / 2 - 0.5          # the output pixel's centre, in canvas indices
            below = int(np.floor(position))
            for j, share in ((below, 1 - (position - below)), (below + 1, position - below)):
                if 0 <= j < n:
                    weights[i, j] = share
    return weights


def reference(canvas):
    values = ink(canvas)
    rows, cols = np.flatnonzero(values.any(axis=1)), np.flatnonzero(values.any(axis=0))
    crop = values[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    scale = BOX / max(crop.shape)
    stroke = STROKE_FACTOR * crop.sum() / total_variation(crop) * scale   # output pixels
    thin = scale <= 1 and stroke < MIN_STROKE
    widen = MIN_STROKE - 1 if thin else 0.0
    image = axis_weights(crop.sum(axis=1), scale, widen) @ crop @ axis_weights(crop.sum(axis=0), scale, widen).T
    if thin:
        image *= MIN_STROKE / max(stroke, MIN_STROKE / MAX_GAIN)
    return np.clip(image, 0.0, 1.0) * 255


def lines(side, top, left, height, width, pen, seed):
    """An asymmetric 'L' with a cross bar, drawn with a `pen`-px pen in uneven ink (0.4..1)."""
    canvas = np.zeros((side, side))
    shade = np.random.default_rng(seed).uniform(0.4, 1.0, (height, width))
    shape = np.zeros((height, width), bool)
    shape[:, :pen] = True                          # the upright
    shape[-pen:, :] = True                         # the foot
    shape[height // 3:height // 3 + pen, :width * 2 // 3] = True   # a bar a third of the way down
    canvas[top:top + height, left:left + width] = np.where(shape, shade, 0.0)
    return canvas


CASES = {
    "upscaled, thin pen (scale 4/3)": lines(60, 10, 20, 15, 11, 1, 0),
    "upscaled, thick pen (scale 2)": lines(60, 5, 7, 10, 8, 3, 1),
    "scale exactly 1, thin pen": lines(100, 30, 41, 20, 14, 1, 2),
    "scale exactly 1, thick pen": lines(100, 30, 41, 20, 14, 4, 3),
    "downscaled, thin pen": lines(200, 17, 50, 90, 61, 1, 4),
    "downscaled, thick pen": lines(200, 17, 50, 90, 61, 12, 5),
}


@pytest.mark.parametrize("name", CASES)
def test_prepare_canvas_matches_the_reference(name):
    canvas = CASES[name]
    np.testing.assert_allclose(prepare_canvas(canvas), reference(canvas), atol=0.02)

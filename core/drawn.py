"""Redraw MNIST digits the way a person draws on the pad: any size, anywhere, any pen, slanted.

How a digit is redrawn:

1. its centre line: the 28x28 digit is enlarged 4x (bilinear), thresholded, and thinned to a
   one-pixel skeleton (Zhang-Suen); every pair of touching skeleton pixels becomes a segment;
2. the segments are slanted (shear), rotated and scaled so the finished drawing's longer side
   is `size` canvas pixels, then moved so the drawing's box is centred on `centre`;
3. they are drawn with a round pen of diameter `pen` pixels: a pixel is ink when its centre lies
   within pen/2 of the centre line (exact Euclidean distance to the densely sampled line).
   Hard ink is 0 or 255; antialiased ink ramps from 255 to 0 over the pixel at the pen's edge.

So the pen width is the one chosen, whatever the stroke width of the MNIST original, as with a
real drawing program. Used by bench/drawn_digits.py; pure NumPy.
"""
from dataclasses import dataclass

import numpy as np

UPSCALE = 4  # skeleton grid: 112x112 for a 28x28 digit
THRESHOLD = 0.4  # share of full ink above which an enlarged MNIST pixel belongs to the stroke


@dataclass(frozen=True)
class Drawing:
    """How to draw one digit on a square canvas."""

    canvas: int  # canvas side, pixels
    size: int  # longer side of the drawn digit's box, pixels
    centre: tuple[float, float]  # (row, col) of the digit box's centre
    pen: float  # pen diameter, pixels
    shear: float = 0.0  # slant: column shift per row (positive leans the top to the right)
    rotation: float = 0.0  # degrees, counter-clockwise
    antialiased: bool = False


def draw(image, drawing):
    """One MNIST digit (28, 28) 0..255 -> a canvas (drawing.canvas, drawing.canvas) uint8."""
    segments = centre_line(image)  # (S, 2, 2) in 28x28 pixel units
    segments = _place(segments, drawing)  # (S, 2, 2) in canvas pixels
    return _render(segments, drawing)


def centre_line(image):
    """The digit's skeleton as segments (S, 2, 2): S pairs of (row, col) points, 28x28 units."""
    big = _enlarge(np.asarray(image, np.float32) / 255, UPSCALE)  # (112, 112)
    skeleton = thin(big > THRESHOLD)  # (112, 112) bool
    return (_segments(skeleton) + 0.5) / UPSCALE  # pixel centres in 28x28 coordinates


def _enlarge(image, factor):
    """Bilinear enlargement by an integer factor, pixel centres aligned -> (h*factor, w*factor)."""
    def matrix(n):
        position = (np.arange(n * factor) + 0.5) / factor - 0.5  # in input pixel indices
        position = np.clip(position, 0, n - 1)
        below = np.minimum(np.floor(position).astype(int), n - 2)
        frac = position - below
        weights = np.zeros((n * factor, n), np.float32)
        weights[np.arange(n * factor), below] = 1 - frac
        weights[np.arange(n * factor), below + 1] = frac
        return weights

    return matrix(image.shape[0]) @ image @ matrix(image.shape[1]).T


def thin(mask):
    """Zhang-Suen thinning of a bool mask -> a skeleton one pixel wide (same shape, bool)."""
    img = np.pad(mask, 1).astype(np.uint8)
    while True:
        removed = 0
        for first_pass in (True, False):
            p = _neighbours(img)  # p[0..7] = N, NE, E, SE, S, SW, W, NW, each (H, W)
            count = sum(p)
            ring = p + [p[0]]
            transitions = sum((ring[k] == 0) & (ring[k + 1] == 1) for k in range(8))
            north, east, south, west = p[0], p[2], p[4], p[6]
            if first_pass:
                side = (north * east * south == 0) & (east * south * west == 0)
            else:
                side = (north * east * west == 0) & (north * south * west == 0)
            drop = (img[1:-1, 1:-1] == 1) & (count >= 2) & (count <= 6) & (transitions == 1) & side
            img[1:-1, 1:-1][drop] = 0
            removed += int(drop.sum())
        if not removed:
            return img[1:-1, 1:-1].astype(bool)


def _neighbours(img):
    """The 8 neighbours of every inner pixel of a padded image, clockwise from north."""
    h, w = img.shape[0] - 2, img.shape[1] - 2
    steps = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)]
    return [img[1 + dy:1 + dy + h, 1 + dx:1 + dx + w].astype(np.int16) for dy, dx in steps]


def _segments(skeleton):
    """Segments (S, 2, 2) joining every pair of touching pixels; lone pixels become dots."""
    h, w = skeleton.shape
    padded = np.pad(skeleton, 1)
    pairs, touched = [], np.zeros_like(skeleton)
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):  # each pair once: E, S, SE, SW
        neighbour = padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]  # (h, w): the pixel at (y+dy, x+dx)
        starts = np.argwhere(skeleton & neighbour)  # (k, 2)
        touched |= skeleton & neighbour
        touched[tuple((starts + (dy, dx)).T)] = True
        pairs.append(np.stack([starts, starts + (dy, dx)], axis=1))  # (k, 2, 2)
    lone = np.argwhere(skeleton & ~touched)  # (l, 2)
    pairs.append(np.stack([lone, lone], axis=1))  # dots
    return np.concatenate(pairs).astype(np.float64)


def _place(segments, drawing):
    """Slant, rotate and scale segments (S, 2, 2) into canvas pixels for `drawing`."""
    points = segments.reshape(-1, 2)
    points = points - (points.min(axis=0) + points.max(axis=0)) / 2
    angle = np.radians(drawing.rotation)
    slant = np.array([[1.0, 0.0], [-drawing.shear, 1.0]])  # col -= shear * row: top leans right
    rotate = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    points = points @ (rotate @ slant).T  # (2S, 2)
    extent = max(np.ptp(points, axis=0).max(), 1e-6)
    scale = max(drawing.size - drawing.pen, 1.0) / extent
    points = (points - (points.min(axis=0) + points.max(axis=0)) / 2) * scale + drawing.centre
    return points.reshape(-1, 2, 2)


def _render(segments, drawing):
    """Draw the segments (S, 2, 2) with a round pen -> canvas uint8."""
    side = drawing.canvas
    radius = drawing.pen / 2
    pixels = np.floor(_densify(segments)).astype(int)  # (K, 2)
    pixels = pixels[((pixels >= 0) & (pixels < side)).all(axis=1)]
    canvas = np.zeros((side, side), np.uint8)
    if not len(pixels):
        return canvas
    # Only the window the pen can reach from the line needs distances.
    margin = int(np.ceil(radius)) + 2
    top, left = np.maximum(pixels.min(axis=0) - margin, 0)
    bottom, right = np.minimum(pixels.max(axis=0) + margin + 1, side)
    line = np.zeros((bottom - top, right - left), bool)
    line[tuple((pixels - (top, left)).T)] = True
    distance = _distance_to(line, radius + 1)  # (window h, window w)
    if drawing.antialiased:
        ink = np.clip(radius + 0.5 - distance, 0.0, 1.0)
    else:
        ink = (distance <= radius).astype(float)
    canvas[top:bottom, left:right] = np.round(ink * 255).astype(np.uint8)
    return canvas


def _densify(segments, spacing=0.5):
    """Points along every segment (S, 2, 2), at most `spacing` pixels apart -> (K, 2)."""
    start, end = segments[:, 0], segments[:, 1]
    steps = int(np.ceil(np.linalg.norm(end - start, axis=1).max(initial=0) / spacing)) + 1
    t = np.linspace(0.0, 1.0, steps)[None, :, None]  # (1, T, 1)
    return (start[:, None] + t * (end - start)[:, None]).reshape(-1, 2)


def _distance_to(mask, limit):
    """Euclidean distance from every pixel centre to the nearest True pixel, capped at `limit`."""
    h, w = mask.shape
    along_rows = _distance_along_rows(mask)  # (h, w)
    reach = int(np.ceil(limit))
    best = np.full((h, w), float(limit) ** 2)
    for dy in range(-reach, reach + 1):
        # pixels of row y look at row y + dy
        src = along_rows[max(dy, 0):h + min(dy, 0)]
        dst = best[max(-dy, 0):h - max(dy, 0)]
        np.minimum(dst, src ** 2 + dy * dy, out=dst)
    return np.sqrt(best)


def _distance_along_rows(mask):
    """Distance from each pixel to the nearest True pixel in its own row (inf when none)."""
    h, w = mask.shape
    cols = np.arange(w, dtype=float)
    left = np.where(mask, cols, -np.inf)
    left = np.maximum.accumulate(left, axis=1)  # column of the nearest True at or left of each pixel
    right = np.where(mask, cols, np.inf)
    right = np.minimum.accumulate(right[:, ::-1], axis=1)[:, ::-1]  # nearest at or to the right
    return np.minimum(cols - left, right - cols)

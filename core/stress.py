"""Stress the network: rotate, shift, thicken and add noise to a drawing, and see what it says.

The geometric and stroke changes reuse core.augment's warp and change_thickness, so they are the
same distortions the network was trained with. Noise is one fixed pattern (seeded) scaled by the
slider, so moving the slider fades it in smoothly instead of flickering.

The drawing is the network's input as it reads it (net.read's first value: deskewed once if the
model deskews), and the network reads each changed drawing as it is (seen=True), without running
its input stage a second time: at the neutral settings it gives the pad's own answer.
"""
from dataclasses import dataclass

import numpy as np

from core.augment import change_thickness, warp

NOISE_SEED = 2024


@dataclass(frozen=True)
class Knob:
    """One way of changing the drawing, with its range and unit."""

    name: str
    low: float
    high: float
    unit: str


KNOBS = {
    "rotate": Knob("rotate", -60.0, 60.0, "°"),
    "shift": Knob("shift", -8.0, 8.0, " px"),  # to the right (negative: left)
    "thicken": Knob("thicken", -1.0, 1.0, ""),  # negative: thinner
    "noise": Knob("noise", 0.0, 1.0, ""),  # standard deviation as a share of full ink
}
NEUTRAL = {"rotate": 0.0, "shift": 0.0, "thicken": 0.0, "noise": 0.0}


def transformed(image, rotate=0.0, shift=0.0, thicken=0.0, noise=0.0) -> np.ndarray:
    """(28, 28) 0..255 -> the same drawing rotated (degrees, anticlockwise), shifted right (px),
    thickened (-1..1, negative thins) and with noise (0..1 of full ink) -> float32 (28, 28) 0..255."""
    return transformed_batch(np.asarray(image)[None], rotate, shift, thicken, noise)[0]


def transformed_batch(images, rotate=0.0, shift=0.0, thicken=0.0, noise=0.0) -> np.ndarray:
    """Like transformed() for (N, 28, 28) images; each of the four settings a number or an (N,) array."""
    images = np.asarray(images, dtype=np.float32)  # (N, 28, 28)
    n = len(images)
    rotate, shift, thicken, noise = (np.broadcast_to(np.asarray(v, dtype=np.float64), (n,))
                                     for v in (rotate, shift, thicken, noise))
    x = change_thickness(images, thicken.astype(np.float32))
    angle = np.radians(rotate)
    cos, sin = np.cos(angle), np.sin(angle)
    # (row, col) coordinates with rows pointing down: this turns the drawing anticlockwise on screen.
    matrices = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)  # (N, 2, 2)
    shifts = np.stack([np.zeros(n), shift], -1)  # (N, 2) rows, columns
    x = warp(x, (matrices, shifts))
    pattern = np.random.default_rng(NOISE_SEED).standard_normal(images.shape[1:])  # (28, 28)
    x = x + (noise[:, None, None] * 255 * pattern).astype(np.float32)
    return np.clip(x, 0, 255).astype(np.float32)


def sweep_values(knob: str, count: int = 25) -> np.ndarray:
    """`count` evenly spaced settings across the knob's range."""
    spec = KNOBS[knob]
    return np.linspace(spec.low, spec.high, count)


def robustness(net, image, knob, digit, settings=None, count=25):
    """How sure the network stays of `digit` as one knob moves across its range.

    The other knobs keep their values from `settings` (dict, default NEUTRAL).
    Returns (values (count,), probability of `digit` at each (count,)). `image` (28, 28) is as the
    network reads it, and so is each changed copy (see the module's docstring).
    """
    values = sweep_values(knob, count)
    others = dict(NEUTRAL if settings is None else settings)
    others[knob] = values
    batch = transformed_batch(np.repeat(np.asarray(image, dtype=np.float32)[None], count, axis=0), **others)
    return values, net.predict_proba(batch, seen=True)[:, digit]

"""Turning signed numbers into colours: one diverging map centred on zero, with a shared scale."""
import numpy as np
import pyqtgraph as pg

DIVERGING = "CET-D1"        # blue (negative) .. near-white (0) .. red (positive)


def symmetric_limit(values: np.ndarray, floor: float = 1e-6) -> float:
    """The largest |value|: one +-limit shared by every tile so their colours compare."""
    values = np.asarray(values)
    if values.size == 0:
        return floor
    limit = float(np.nanmax(np.abs(values)))
    return limit if np.isfinite(limit) and limit > floor else floor


def diverging_rgb(values: np.ndarray, limit: float) -> np.ndarray:
    """values (...) -> uint8 (..., 3): -limit blue, 0 white, +limit red (clipped beyond)."""
    scaled = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64)) / (2 * limit) + 0.5, 0.0, 1.0)
    rgba = pg.colormap.get(DIVERGING).map(scaled.ravel(), mode="byte")          # (K, 4)
    return rgba[:, :3].reshape(*scaled.shape, 3).astype(np.uint8)


def gradient_stops(count: int = 9) -> list[tuple[float, tuple[int, int, int]]]:
    """(position 0..1, rgb) pairs along the diverging map, for legends."""
    positions = np.linspace(0.0, 1.0, count)
    rgb = diverging_rgb(positions * 2 - 1, 1.0)                                    # (count, 3)
    return [(float(p), tuple(int(c) for c in colour)) for p, colour in zip(positions, rgb)]


def paper_rgb(ink: np.ndarray) -> np.ndarray:
    """Ink-high grey (...) 0..255 -> uint8 (..., 3) dark ink on white paper."""
    shade = 255 - np.clip(np.asarray(ink, dtype=np.float32), 0, 255).astype(np.uint8)
    return np.repeat(shade[..., None], 3, axis=-1)

"""Plot ranges that move in round steps, so a growing series does not redraw its axes every update.

A plot that follows its data with pyqtgraph's autorange changes its range on every new point:
each change re-lays out the tick labels and paints the plot a second time (the range is worked
out while painting). Snapping the range out to round steps (1, 2 or 5 times a power of ten,
about `steps` of them across the data) keeps it fixed while the data stays within, and the
ticks land on round numbers. Plain Python: the views call it, tests check it without Qt.
"""
import math

ROUND_FACTORS = (1, 2, 5, 10)


def round_step(span: float, steps: int) -> float:
    """The smallest 1, 2 or 5 x 10^k that covers `span` in at most `steps` steps (span > 0)."""
    rough = span / steps
    power = 10.0 ** math.floor(math.log10(rough))
    return next(f * power for f in ROUND_FACTORS if f * power >= rough * (1 - 1e-9))


def snapped_range(low: float, high: float, steps: int = 8, min_span: float = 1e-3) -> tuple[float, float]:
    """(low, high) widened to multiples of a round step; a span under min_span grows to it."""
    if high - low < min_span:
        high = low + min_span
    step = round_step(high - low, steps)
    # A hair of tolerance, so 0.1 / 0.02 = 5.000000001 does not floor to 4 (nor ceil to 6).
    return (math.floor(low / step + 1e-9) * step, math.ceil(high / step - 1e-9) * step)

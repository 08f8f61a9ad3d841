"""gui.views.axis_range: ranges snapped to round steps contain the data and change rarely."""
import pytest
from hypothesis import given, strategies as st

from gui.views.axis_range import round_step, snapped_range


@pytest.mark.parametrize("span, steps, expected", [(1.0, 5, 0.2), (0.255, 5, 0.1), (29, 5, 10),
                                                   (0.06, 5, 0.02), (10.1, 8, 2), (8, 8, 1), (2.3, 8, 0.5)])
def test_round_step_is_the_smallest_round_number_that_covers_the_span(span, steps, expected):
    assert round_step(span, steps) == pytest.approx(expected)


@pytest.mark.parametrize("low, high, expected", [(0, 0.255, (0, 0.3)), (0.1, 0.1594, (0.1, 0.16)),
                                                 (0, 29, (0, 30)), (0.4, 2.3, (0, 2.5)), (0, 1, (0, 1))])
def test_snapped_ranges_land_on_round_numbers(low, high, expected):
    assert snapped_range(low, high, steps=5) == pytest.approx(expected)


def test_a_point_gets_a_minimum_span_from_itself():
    assert snapped_range(0, 0, min_span=0.01) == pytest.approx((0, 0.01))


@given(st.floats(-1e4, 1e4), st.floats(1e-3, 1e4))
def test_the_range_holds_the_data_with_little_room_to_spare(low, span):
    high = low + span
    snapped_low, snapped_high = snapped_range(low, high, steps=8)
    tolerance = 1e-9 * max(1.0, abs(low), abs(high))
    assert snapped_low <= low + tolerance and snapped_high >= high - tolerance
    assert snapped_high - snapped_low <= 2.6 * span + tolerance   # never more than a few round steps wider


def test_the_range_stays_put_while_a_series_grows_within_a_step():
    ranges = {snapped_range(0, x / 100) for x in range(101, 121)}     # 1.01 .. 1.20: within one 0.2 step
    assert len(ranges) == 1

"""prepare_canvas at its limits (exact thresholds, out-of-range ink, odd dtypes), and its helpers
checked against their definitions."""
import numpy as np
import pytest

from core import preprocess
from core.preprocess import (INK_THRESHOLD, MIN_EXTENT_FRACTION, MIN_INK_FRACTION, STRAY_INK_FRACTION,
                             prepare_canvas)


def test_a_canvas_of_non_numbers_is_refused_by_its_dtype():
    for canvas in (np.full((20, 20), "x"), np.ones((20, 20), complex)):
        with pytest.raises(ValueError) as caught:
            prepare_canvas(canvas)
        assert str(caught.value) == ("A canvas must hold numbers (uint8 0..255 or float 0..1); "
                                     f"got dtype {canvas.dtype}.")


def test_nan_is_refused_with_the_expected_range():
    canvas = np.zeros((20, 20))
    canvas[3, 4] = np.inf
    with pytest.raises(ValueError) as caught:
        prepare_canvas(canvas)
    assert str(caught.value) == "The canvas holds NaN or infinite values; expected ink values between 0 and 1."


def seven(value, dtype=float):
    canvas = np.zeros((60, 60), dtype)
    canvas[10:14, 15:45] = value
    for k in range(36):
        canvas[14 + k, 41 - k // 2:44 - k // 2] = value
    return canvas


@pytest.mark.parametrize("over, full, dtype", [(5.0, 1.0, float), (1000, 255, np.int16)])
def test_ink_beyond_full_counts_as_full_ink(over, full, dtype):
    np.testing.assert_array_equal(prepare_canvas(seven(over, dtype)), prepare_canvas(seven(full, dtype)))


def test_ink_exactly_at_the_threshold_is_ink():
    image = prepare_canvas(seven(INK_THRESHOLD))
    assert image is not None and image.max() > 0


def test_a_line_exactly_at_the_ink_and_extent_limits_is_a_drawing():
    # 100 x 100: the limits are 1 full-ink pixel of ink and a 4-px cluster. Four quarter-ink
    # pixels in a row reach both exactly.
    side = 100
    assert MIN_INK_FRACTION * side * side == 1.0 and MIN_EXTENT_FRACTION * side == 4.0
    canvas = np.zeros((side, side))
    canvas[50, 40:44] = 0.25
    assert prepare_canvas(canvas) is not None
    canvas[50, 43] = 0.0          # three pixels: too short
    assert prepare_canvas(canvas) is None


def test_a_dot_is_a_dot_however_faint():
    # The stroke width is ink / variation, the same for any shade: a 2-px mark is a lone dot
    # (spans less than 2.5 stroke widths) whether drawn in full or faint ink.
    for shade in (1.0, 0.5, 0.12):
        canvas = np.zeros((20, 20))
        canvas[10, 10:12] = shade
        assert prepare_canvas(canvas) is None, shade


def test_a_blob_a_quarter_of_the_canvas_wide_is_not_a_dot():
    canvas = np.zeros((40, 40))
    canvas[5:15, 20:30] = 1.0     # 10 px = DOT_FRACTION of 40: a blot, not a click
    assert prepare_canvas(canvas) is not None
    canvas[5:15, 29] = canvas[14, 20:30] = 0.0     # 9 px: a click
    assert prepare_canvas(canvas) is None


def runs_merged(profile, side):
    """Slow reference for _clusters: inked runs, merged across gaps narrower than 4% of side."""
    clusters = []
    for i, value in enumerate(profile):
        if value <= 0:
            continue
        if clusters and clusters[-1][1] == i:
            clusters[-1][1] = i + 1
        elif clusters and i - clusters[-1][1] < MIN_EXTENT_FRACTION * side:
            clusters[-1][1] = i + 1
        else:
            clusters.append([i, i + 1])
    return [tuple(cluster) for cluster in clusters]


def test_clusters_bridge_only_gaps_narrower_than_the_limit():
    profile = np.zeros(100)       # side 100: gaps of 4 or more split
    for start, stop in [(0, 10), (14, 20), (22, 30), (33, 40), (70, 72), (80, 81), (84, 85)]:
        profile[start:stop] = 1.0
    assert preprocess._clusters(profile, 100) == [(0, 10), (14, 40), (70, 72), (80, 85)]
    rng = np.random.default_rng(0)
    for _ in range(50):
        profile = np.where(rng.random(120) < 0.3, rng.random(120), 0.0)
        if profile.any():
            assert preprocess._clusters(profile, 150) == runs_merged(profile, 150)


def kept_span(clusters, masses):
    """Reference: from the first to the last cluster holding at least STRAY_INK_FRACTION of the ink."""
    heavy = [c for c, m in zip(clusters, masses) if m >= STRAY_INK_FRACTION * sum(masses)]
    return heavy[0][0], heavy[-1][1]


@pytest.mark.parametrize("masses", [
    [1, 60, 39],       # a stray before two heavy clusters: both heavy ones stay
    [1, 1, 98],        # two strays in a row
    [49, 1],           # exactly 2% of the ink: not a stray
    [30, 1, 69],       # a light cluster between heavy ones stays inside the box
    [98, 1, 1],
    [1, 97, 1, 1],
])
def test_stray_clusters_are_dropped_from_the_edges_only(masses):
    clusters = [(10 * k, 10 * k + 2) for k in range(len(masses))]
    profile = np.zeros(10 * len(masses))
    for (start, _), mass in zip(clusters, masses):
        profile[start:start + 2] = mass / 2
    assert preprocess._drop_stray_clusters(clusters, profile) == kept_span(clusters, masses)


def thresholded(canvas, full_scale):
    values = np.clip(canvas / full_scale, 0.0, 1.0)
    return np.where(values < INK_THRESHOLD, 0.0, values)


def test_ink_profiles_and_crop_measures_of_a_part_of_the_canvas(monkeypatch):
    monkeypatch.setattr(preprocess, "BAND_ROWS", 7)            # several bands, the last one short
    rng = np.random.default_rng(1)
    canvas = (rng.random((40, 30)) * 255).astype(np.uint8)     # some pixels below the threshold
    r0, r1, c0, c1 = 5, 31, 3, 22
    crop = thresholded(canvas[r0:r1, c0:c1], 255.0)
    rows, cols = preprocess._ink_profiles(canvas, 255.0, r0, r1, c0, c1)
    np.testing.assert_allclose(rows, crop.sum(axis=1), rtol=1e-5)
    np.testing.assert_allclose(cols, crop.sum(axis=0), rtol=1e-5)
    rows, cols, variation = preprocess._crop_measures(canvas, 255.0, r0, r1, c0, c1)
    np.testing.assert_allclose(rows, crop.sum(axis=1), rtol=1e-5)
    np.testing.assert_allclose(cols, crop.sum(axis=0), rtol=1e-5)
    padded = np.pad(crop, 1)      # background all around
    expected = np.abs(np.diff(padded, axis=0)).sum() + np.abs(np.diff(padded, axis=1)).sum()
    assert variation == pytest.approx(expected, rel=1e-5)

"""core.digitmap on the inputs the larger tests pass over: integer features and too few rows."""
import re

import numpy as np
import pytest

from core import digitmap


def test_integer_features_map_as_their_float_values_do():
    rng = np.random.default_rng(5)
    counts = rng.integers(0, 7, (40, 9)) * np.array([9, 5, 3, 1, 1, 1, 1, 1, 1])  # (40, 9) non-integer mean
    exact = digitmap.exact_principal_components(counts.astype(np.float64))
    found = digitmap.principal_components(counts)
    np.testing.assert_allclose(found.mean, exact.mean, rtol=1e-12)
    np.testing.assert_allclose(found.components, exact.components, atol=1e-8)
    np.testing.assert_allclose(found.variance, exact.variance, rtol=1e-8)
    by_hand = (counts - exact.mean) @ exact.components.T        # (40, 2)
    np.testing.assert_allclose(exact.project(counts), by_hand, atol=1e-9)
    np.testing.assert_allclose(exact.project(counts[0]), by_hand[0], atol=1e-9)


@pytest.mark.parametrize("shape", [(5,), (1, 4), (0, 4), (2, 3, 4)])
def test_fewer_than_two_feature_rows_are_refused_by_name(shape):
    with pytest.raises(ValueError, match=f"^{re.escape(f'need at least two feature rows, got shape {shape}')}$"):
        digitmap.principal_components(np.ones(shape))


def test_two_rows_give_their_one_direction():
    rows = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 7.0]])
    projection = digitmap.principal_components(rows, k=1)
    direction = (rows[1] - rows[0]) / np.linalg.norm(rows[1] - rows[0])
    np.testing.assert_allclose(projection.components[0], direction, atol=1e-12)
    np.testing.assert_allclose(projection.variance, [np.sum((rows[1] - rows[0]) ** 2) / 2], rtol=1e-12)

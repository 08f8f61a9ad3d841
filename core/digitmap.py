"""A map of digits: the pooled features of many images projected on their two main directions.

PCA by SVD. The features are 13*13*F wide (1,352 for 8 filters) and only two directions are
wanted, so the SVD is taken of a small randomized sketch of the data (a range finder with a few
power iterations, Halko, Martinsson and Tropp 2011) instead of the whole (N, D) matrix: on 2,000
images it takes milliseconds where the full SVD takes seconds, and the tests check that the two
agree. Signs are fixed (each direction's largest |entry| positive) so the map does not flip
between runs.
"""
from dataclasses import dataclass

import numpy as np

from core.steps import run_to_end

OVERSAMPLE = 10
POWER_ITERATIONS = 4


@dataclass(frozen=True)
class Projection:
    mean: np.ndarray  # (D,)
    components: np.ndarray  # (k, D), orthonormal rows
    variance: np.ndarray  # (k,) variance of the data along each component

    def project(self, features) -> np.ndarray:
        """features (N, D) or (D,) -> coordinates (N, k) or (k,), float64.

        (x - mean) @ C.T is computed as x @ C.T - mean @ C.T, in the features' own float type, so
        no centred copy of the data is made."""
        x = np.asarray(features)
        x = x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)
        return (x @ self.components.T.astype(x.dtype)).astype(np.float64) - self.mean @ self.components.T


def principal_components(features, k=2, seed=0) -> Projection:
    """The k main directions of features (N, D) (N >= 2)."""
    return run_to_end(principal_component_steps(features, k, seed))


def principal_component_steps(features, k=2, seed=0):
    """principal_components as a generator: None after each large product, the Projection last.

    Works in the features' own float type (float32 from the network): half the memory and time of
    float64, and plenty for a map; the mean and the result are float64."""
    x = np.asarray(features)  # (N, D)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"need at least two feature rows, got shape {x.shape}")
    x = x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)
    mean = x.mean(axis=0, dtype=np.float64)  # (D,)
    yield None
    centred = x - mean.astype(x.dtype)  # (N, D)
    yield None
    width = min(k + OVERSAMPLE, *centred.shape)
    start = np.random.default_rng(seed).standard_normal((centred.shape[1], width)).astype(x.dtype)
    sketch = centred @ start  # (N, width)
    for _ in range(POWER_ITERATIONS):  # sharpen the sketch towards the leading directions
        basis, _ = np.linalg.qr(sketch)
        yield None
        sketch = centred @ (centred.T @ basis)
        yield None
    basis, _ = np.linalg.qr(sketch)  # (N, width) orthonormal
    _, singular, vt = np.linalg.svd((basis.T @ centred).astype(np.float64), full_matrices=False)  # (width, D)
    yield _signs_fixed(mean, vt[:k], singular[:k] ** 2 / (len(x) - 1))


def exact_principal_components(features, k=2) -> Projection:
    """The same by a full SVD of the centred data: slow, for tests and for checking."""
    x = np.asarray(features, dtype=np.float64)
    mean = x.mean(axis=0)
    _, singular, vt = np.linalg.svd(x - mean, full_matrices=False)
    return _signs_fixed(mean, vt[:k], singular[:k] ** 2 / (len(x) - 1))


def _signs_fixed(mean, components, variance) -> Projection:
    """Each direction turned so that its largest |entry| is positive."""
    largest = np.argmax(np.abs(components), axis=1)
    components = components * np.sign(components[np.arange(len(components)), largest])[:, None]
    return Projection(mean, components, variance)

"""Central-difference gradient checking, used by the gradient tests."""
import numpy as np


def numerical_gradient(f, array, eps=1e-6):
    """d f() / d array by central differences, perturbing `array` in place one entry at a time."""
    grad = np.zeros_like(array, dtype=np.float64)
    flat, grad_flat = array.reshape(-1), grad.reshape(-1)  # views
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + eps
        plus = f()
        flat[i] = saved - eps
        minus = f()
        flat[i] = saved
        grad_flat[i] = (plus - minus) / (2 * eps)
    return grad


def relative_error(analytic, numeric):
    """Largest entry-wise difference, relative to the largest gradient entry.

    0 when the two agree; about 1 when they are unrelated. Measuring against the largest entry
    keeps round-off in near-zero entries from swamping the figure.
    """
    scale = max(np.max(np.abs(analytic)), np.max(np.abs(numeric)), 1e-12)
    return float(np.max(np.abs(analytic - numeric)) / scale)


def check_gradient(f, array, analytic, tolerance=1e-6):
    """Raise AssertionError when `analytic` differs from the central-difference gradient of f."""
    numeric = numerical_gradient(f, array)
    error = relative_error(analytic, numeric)
    if error > tolerance:
        raise AssertionError(f"gradient check failed: relative error {error:.2e} > {tolerance:.0e}")
    return error

"""Questions asked of a run's history (core.history.History), answered for all snapshots at once.

probabilities_through_run: what the network, as it was at each snapshot, says about one image.
filter_change: how far each 3x3 filter has moved from where the run began.
The network is core.network.CNN: Conv3x3 (no bias) -> MaxPool2 -> fully connected + softmax.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from core.losses import softmax
from core.mnist_format import POOLED_SIDE

CHUNK = 256     # snapshots evaluated together: bounds the (K, 26, 26, F) temporaries to a few MB


def probabilities_through_run(history, image: np.ndarray, indices=None) -> np.ndarray:
    """image (28, 28) 0..255 -> (K, 10): the probabilities at every snapshot kept (or at `indices`)."""
    if len(history) == 0:
        return np.zeros((0, 10))
    pick = slice(None) if indices is None else np.asarray(indices)
    return probabilities_with(history.stacked("conv.filters")[pick], history.stacked("softmax.weights")[pick],
                              history.stacked("softmax.biases")[pick], image)


def probabilities_with(filters: np.ndarray, weights: np.ndarray, biases: np.ndarray, image: np.ndarray) -> np.ndarray:
    """K parameter sets, filters (K, F, 3, 3), weights (K, 13*13*F, 10), biases (K, 10), and one
    image (28, 28) 0..255 as the network reads it (net.read's first value: no input stage is run here)
    -> (K, 10) probabilities, as CNN.predict_proba(image, seen=True) gives for each set."""
    dtype = filters.dtype
    x = np.asarray(image).astype(dtype) / dtype.type(255) - dtype.type(0.5)   # (28, 28), as CNN._scale
    patches = sliding_window_view(x, (3, 3)).reshape(-1, 9)                 # (26*26, 9)
    out = np.empty((len(filters), biases.shape[1]), dtype=np.float64)
    for start in range(0, len(filters), CHUNK):
        part = slice(start, start + CHUNK)
        k, f = filters[part].shape[:2]
        maps = patches @ filters[part].reshape(k * f, 9).T                  # (26*26, k*F): one matrix product
        maps = maps.reshape(POOLED_SIDE, 2, POOLED_SIDE, 2, k, f)           # (13, 2, 13, 2, k, F)
        pooled = maps.max(axis=(1, 3))                                      # (13, 13, k, F)
        flat = pooled.transpose(2, 0, 1, 3).reshape(k, -1)                  # (k, 13*13*F), (row, col, filter)
        logits = np.matmul(flat[:, None, :], weights[part])[:, 0] + biases[part]   # (k, 10)
        out[part] = softmax(logits)
    return out


def filter_change(start: np.ndarray, now: np.ndarray) -> np.ndarray:
    """start, now (F, 3, 3) -> (F,): the Euclidean distance each filter has moved."""
    diff = np.asarray(now, dtype=np.float64) - np.asarray(start, dtype=np.float64)   # (F, 3, 3)
    return np.sqrt((diff ** 2).sum(axis=(1, 2)))


def filter_change_through_run(history) -> np.ndarray:
    """(len(history), F): each filter's distance from the first snapshot's, at every snapshot."""
    if len(history) == 0:                                   # nothing recorded: no parameters to stack
        return np.zeros((0, 0))
    filters = np.asarray(history.stacked("conv.filters"), dtype=np.float64)          # (K, F, 3, 3)
    return np.sqrt(((filters - filters[0]) ** 2).sum(axis=(2, 3)))


def top_rivals(probabilities: np.ndarray, digit: int, count: int = 3) -> list[int]:
    """probabilities (K, 10): the `count` other digits with the highest peak probability, highest first."""
    peaks = np.asarray(probabilities).max(axis=0) if len(probabilities) else np.zeros(10)   # (10,)
    order = [int(d) for d in np.argsort(-peaks, kind="stable") if d != digit]
    return order[:count]

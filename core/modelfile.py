"""Reading and writing model files: a plain .npz of named float arrays, never a pickle.

Writing is atomic: the arrays go to a temporary file beside the target, which then replaces
it in one step, so a failed save (read-only folder, full disk) leaves the previous file as
it was. Reading checks everything before a model is built from the file: that it is a zip
of .npy arrays, no member is absurdly large, the keys and shapes fit together, the values
are finite floats.
"""
import zipfile
from pathlib import Path

import numpy as np

from core import atomic
from core.errors import ModelFileError
from core.mnist_format import NUM_CLASSES

FORMAT_VERSION = 1
MAX_MEMBER_BYTES = 64 * 1024 * 1024  # far above any model this app makes (8 filters: 55 kB)
MAX_FILTERS = 256
PARAM_KEYS = ("conv.filters", "softmax.weights", "softmax.biases")


def save_params(path, params):
    """Write params (name -> array) to `path` atomically; ModelFileError if that fails."""
    path = Path(path)
    arrays = {name: np.asarray(value, dtype=np.float32) for name, value in params.items()}
    try:
        atomic.save_npz(path, {"format_version": np.int32(FORMAT_VERSION), **arrays}, mode=_mode_for(path))
    except OSError as err:
        raise ModelFileError(
            f"Cannot save the model to {path}: {err.strerror or err}. Any earlier file there is unchanged."
        ) from err


def _mode_for(path):
    """Keep the permissions of the file being replaced; a new file gets rw-r--r-- (mkstemp makes 0600)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o644


def load_params(path):
    """Read and validate a model file -> dict of float arrays with keys PARAM_KEYS."""
    path = Path(path)
    arrays = _read_arrays(path)
    missing = [key for key in PARAM_KEYS if key not in arrays]
    if missing:
        raise ModelFileError(f"{path} is not a digitpad model: it lacks {', '.join(missing)}.")
    params = {key: arrays[key] for key in PARAM_KEYS}
    _check_shapes(path, params)
    for key, value in params.items():
        if not np.issubdtype(value.dtype, np.floating):
            raise ModelFileError(f"{path}: {key} holds {value.dtype} values; a model holds floats.")
        if not np.all(np.isfinite(value)):
            raise ModelFileError(f"{path}: {key} contains NaN or infinite values; the model is damaged.")
    return params


def _read_arrays(path):
    """All arrays of an .npz file, refusing pickles, non-zips and oversized members."""
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.file_size > MAX_MEMBER_BYTES:
                    raise ModelFileError(f"{path}: member {info.filename} is too large for a model.")
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except ModelFileError:
        raise
    except FileNotFoundError as err:
        raise ModelFileError(f"No model file at {path}.") from err
    except IsADirectoryError as err:
        raise ModelFileError(f"{path} is a folder, not a model file.") from err
    except PermissionError as err:
        raise ModelFileError(f"Cannot read {path}: permission denied.") from err
    except zipfile.BadZipFile as err:
        raise ModelFileError(f"{path} is not a model file (not an .npz archive).") from err
    except ValueError as err:  # includes np.load's refusal of pickled (object) arrays
        if "pickle" in str(err):
            raise ModelFileError(f"{path} contains pickled Python objects, which digitpad never loads.") from err
        raise ModelFileError(f"{path} is damaged: {err}.") from err
    except Exception as err:  # a damaged archive can fail in zlib, struct, EOF... inside numpy
        raise ModelFileError(f"{path} is damaged and cannot be read ({type(err).__name__}).") from err


def _check_shapes(path, params):
    filters = params["conv.filters"]
    weights = params["softmax.weights"]
    biases = params["softmax.biases"]
    if filters.ndim != 3 or filters.shape[1:] != (3, 3) or not 1 <= filters.shape[0] <= MAX_FILTERS:
        raise ModelFileError(f"{path}: conv.filters has shape {filters.shape}; expected (F, 3, 3).")
    num_filters = filters.shape[0]
    expected = {"softmax.weights": (13 * 13 * num_filters, NUM_CLASSES), "softmax.biases": (NUM_CLASSES,)}
    for key, value in (("softmax.weights", weights), ("softmax.biases", biases)):
        if value.shape != expected[key]:
            raise ModelFileError(
                f"{path}: {key} has shape {value.shape}; a model with {num_filters} filters needs {expected[key]}."
            )

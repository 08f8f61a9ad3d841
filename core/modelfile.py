"""Reading and writing model files: a plain .npz of named float arrays, never a pickle.

Writing is atomic: the arrays go to a temporary file beside the target, which then replaces
it in one step, so a failed save (read-only folder, full disk) leaves the previous file as
it was. Reading checks everything before a model is built from the file (core.safefile):
that it is a regular file and a zip of well-formed .npy arrays of number dtypes, that the keys
and shapes fit together and the total is bounded, all before any array data is read. The values
must then be finite once converted to float32, the dtype the network computes in. Saving checks
the same rules first, so digitpad never writes a file it would refuse to open.
"""
from pathlib import Path

import numpy as np

from core import atomic
from core.errors import ModelFileError
from core.mnist_format import NUM_CLASSES, POOLED_SIDE
from core.safefile import FileRejected, NpzArchive, Rejection

FORMAT_VERSION = 1
MAX_FILTERS = 256
# A model of MAX_FILTERS filters stored as float64 is 3.5 MB; nothing larger is ever read.
MAX_TOTAL_BYTES = 8 * 1024 * 1024
MAX_FILE_BYTES = 16 * 1024 * 1024
ALLOWED_DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64",
                  "uint8", "uint16", "uint32", "uint64")   # ints: format_version; weights must be floats
PARAM_KEYS = ("conv.filters", "softmax.weights", "softmax.biases")
DESKEW_KEY = "input.deskew"  # 1: the network reads deskewed images (core.deskew); absent (older files) or 0: as drawn


def save_params(path, params, deskew=False):
    """Write params (name -> array) and the input flag to `path` atomically; ModelFileError if that fails."""
    path = Path(path)
    with np.errstate(over="ignore", invalid="ignore"):     # an overflow is reported just below
        arrays = {name: np.asarray(value, dtype=np.float32) for name, value in params.items()}
    problem = params_problem(arrays)
    if problem:
        raise ModelFileError(f"Cannot save the model to {path}: {problem}, so digitpad could not open it again. "
                             "Nothing was written.")
    try:
        atomic.save_npz(path, {"format_version": np.int32(FORMAT_VERSION), DESKEW_KEY: np.int8(bool(deskew)), **arrays},
                        mode=_mode_for(path))
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
    """Read and validate a model file -> dict of float32 arrays with keys PARAM_KEYS."""
    return load_model_file(path)[0]


def load_model_file(path):
    """Read and validate a model file -> (dict of float32 arrays with keys PARAM_KEYS, deskew: bool)."""
    path = Path(path)
    try:
        with NpzArchive(path, max_file_bytes=MAX_FILE_BYTES, max_total_bytes=MAX_TOTAL_BYTES,
                        allowed_dtypes=ALLOWED_DTYPES) as archive:
            missing = [key for key in PARAM_KEYS if key not in archive.members]
            if missing:
                raise ModelFileError(f"{path} is not a digitpad model: it lacks {', '.join(missing)}. "
                                     "Open a file saved by digitpad.")
            for key in PARAM_KEYS:
                dtype = archive.members[key].dtype
                if dtype.kind != "f":
                    raise ModelFileError(f"{path}: {key} holds {dtype} values; a model holds floats. "
                                         "Open a file saved by digitpad.")
            problem = shapes_problem({key: archive.members[key].shape for key in PARAM_KEYS})
            if problem:
                raise ModelFileError(f"{path}: {problem}. Open a file saved by digitpad.")
            raw = {key: archive.read(key) for key in PARAM_KEYS}
            deskew = _deskew_flag(path, archive)
    except FileRejected as rejected:
        raise _rejected(path, rejected) from None
    with np.errstate(over="ignore", invalid="ignore"):
        params = {key: value.astype(np.float32) for key, value in raw.items()}   # the dtype the network uses
    problem = values_problem(params)
    if problem:
        raise ModelFileError(f"{path}: {problem}; the model is damaged. Open another model file.")
    return params, deskew


def _deskew_flag(path, archive) -> bool:
    """The file's DESKEW_KEY as a bool: False when absent; ModelFileError unless an integer 0 or 1."""
    member = archive.members.get(DESKEW_KEY)
    if member is None:
        return False
    if member.dtype.kind not in "iu" or member.shape != ():
        raise ModelFileError(f"{path}: {DESKEW_KEY} holds {member.dtype} of shape {member.shape}; "
                             "expected one integer, 0 or 1. Open a file saved by digitpad.")
    value = int(archive.read(DESKEW_KEY))
    if value not in (0, 1):
        raise ModelFileError(f"{path}: {DESKEW_KEY} is {value}; expected 0 or 1. Open a file saved by digitpad.")
    return value == 1


def _rejected(path, rejected: FileRejected) -> ModelFileError:
    if rejected.kind is Rejection.MISSING:
        return ModelFileError(f"No model file at {path}.")
    if rejected.kind is Rejection.FOLDER:
        return ModelFileError(f"{path} is a folder, not a model file.")
    if rejected.kind is Rejection.NOT_AN_ARCHIVE:
        return ModelFileError(f"{path} is not a model file (not an .npz archive): {rejected.reason}.")
    return ModelFileError(f"Cannot read the model file {path}: {rejected.reason}. Open a file saved by digitpad.")


def params_problem(params) -> str | None:
    """What would make digitpad refuse these float32 arrays as a model, or None."""
    missing = [key for key in PARAM_KEYS if key not in params]
    if missing:
        return f"it lacks {', '.join(missing)}"
    return shapes_problem({key: params[key].shape for key in PARAM_KEYS}) or values_problem(params)


def values_problem(params) -> str | None:
    for key in PARAM_KEYS:
        if not np.all(np.isfinite(params[key])):
            return f"{key} contains NaN or infinite values (as float32)"
    return None


def shapes_problem(shapes) -> str | None:
    """What is wrong with the arrays' shapes (name -> tuple), or None when they make a model."""
    filters = shapes["conv.filters"]
    if len(filters) != 3 or filters[1:] != (3, 3) or not 1 <= filters[0] <= MAX_FILTERS:
        return f"conv.filters has shape {filters}; expected (F, 3, 3) with F from 1 to {MAX_FILTERS}"
    num_filters = filters[0]
    expected = {"softmax.weights": (POOLED_SIDE * POOLED_SIDE * num_filters, NUM_CLASSES), "softmax.biases": (NUM_CLASSES,)}
    for key, shape in expected.items():
        if shapes[key] != shape:
            return f"{key} has shape {shapes[key]}; a model with {num_filters} filters needs {shape}"
    return None

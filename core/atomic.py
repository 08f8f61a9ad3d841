"""Writing a file so that it is either wholly new or wholly the old one: never half-written.

The data goes to a temporary file in the target's folder, is flushed to disk, and then
replaces the target in one step (os.replace). If anything fails on the way (read-only
folder, full disk), the temporary file is removed, the old file is as it was, and the
OSError reaches the caller, who turns it into a message for the user.
"""
import os
import tempfile
from pathlib import Path

import numpy as np

NAME_KEPT = 100   # of the target's name in the temporary name: a long legal name must not make it too long


def save_npz(path, arrays, mode=None):
    """Write `arrays` (name -> array) to `path` as an .npz, atomically. `mode`: permissions."""
    path = Path(path)
    handle, temp_name = _make_temp(path)
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, **arrays)
            stream.flush()
            os.fsync(stream.fileno())
        if mode is not None:
            os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        remove_quietly(temp_name)
        raise


def check_writable(path):
    """Create and remove the temporary file a save to `path` would make; OSError if that fails."""
    handle, temp_name = _make_temp(Path(path))
    try:
        os.close(handle)
    finally:
        remove_quietly(temp_name)


def _make_temp(path: Path):
    return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:NAME_KEPT]}.", suffix=".tmp")


def remove_quietly(name):
    """Delete a file if it is there; a file that cannot be deleted is not worth an error."""
    try:
        os.remove(name)
    except OSError:
        pass

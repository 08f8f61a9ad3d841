"""Read and write MNIST's gzip-compressed IDX files, checking everything a damaged file can get wrong.

The `mnist` package's ``parse_idx`` does the decoding, but it trusts the header: a header
claiming billions of items makes it try to read and allocate them, and a short or corrupt
file surfaces as struct.error, EOFError or a zlib error. So this module checks the header
first, refuses sizes the compressed file cannot possibly hold, decompresses at most the
promised size plus one byte (a gzip bomb cannot grow past that), and only then hands
``parse_idx`` bytes already known to be well formed. Every failure is a DataError that
names the file.
"""
import gzip
import io
import math
import os
import zlib
from pathlib import Path

import mnist
import numpy as np

from core.errors import DataError
from core.mnist_format import IMAGE_SHAPE, NUM_CLASSES
from core.safefile import FileRejected, open_regular

UBYTE = 0x08  # IDX type code for unsigned bytes, the only type MNIST uses
DIMENSIONS = {"images": 3, "labels": 1}
# Largest item count accepted: above full MNIST (60,000) and EMNIST digits (240,000),
# small enough (235 MB of images) that a lying header cannot exhaust memory.
MAX_ITEMS = 300_000
# Deflate cannot shrink data by more than about 1032:1, so a file of S compressed bytes
# cannot hold more than this many times S once decompressed.
MAX_DEFLATE_RATIO = 1032
GZIP_MAGIC = b"\x1f\x8b"
READ_CHUNK = 1 << 20
REFETCH_HINT = "Delete it or replace it with a good copy (digitpad downloads missing files into its cache)."


def read_images(path) -> np.ndarray:
    """Images from an IDX .gz file -> (N, 28, 28) uint8."""
    return _read_file(path, "images")


def read_labels(path) -> np.ndarray:
    """Labels from an IDX .gz file -> (N,) uint8, each 0..9."""
    return _read_file(path, "labels")


def _read_file(path, kind: str) -> np.ndarray:
    path = Path(path)
    try:
        handle = open_regular(path)     # a named pipe or a device is refused, never read
    except FileRejected as rejected:
        if rejected.missing:
            raise DataError(f"The MNIST file {path} does not exist.") from None
        raise DataError(f"Cannot open the MNIST file {path}: {rejected.reason}. {REFETCH_HINT}") from None
    with handle:
        compressed_size = os.fstat(handle.fileno()).st_size
        return decode_idx_gz(handle, compressed_size, kind, str(path))


def decode_idx_gz(fileobj, compressed_size: int, kind: str, name: str) -> np.ndarray:
    """Decode a gzip-compressed IDX stream of `kind` ("images" or "labels").

    `fileobj` is a seekable binary file positioned at its start, `compressed_size` its
    length in bytes, `name` how messages refer to it. Raises DataError on any defect.
    """
    if kind not in DIMENSIONS:
        raise ValueError(f"kind must be 'images' or 'labels', not {kind!r}")
    _check_is_gzip(fileobj, compressed_size, name)
    header, body = _decompress_checked(fileobj, compressed_size, kind, name)
    data = _parse(header + body, name)
    if kind == "labels":
        _check_label_values(data, name)
    return data


def _check_is_gzip(fileobj, compressed_size: int, name: str) -> None:
    if compressed_size == 0:
        raise DataError(f"{name} is empty (0 bytes). {REFETCH_HINT}")
    start = fileobj.read(len(GZIP_MAGIC))
    fileobj.seek(0)
    if start != GZIP_MAGIC:
        raise DataError(f"{name} is not a gzip file, so it cannot be a compressed MNIST file. {REFETCH_HINT}")


def _decompress_checked(fileobj, compressed_size: int, kind: str, name: str) -> tuple[bytes, bytes]:
    """Header and body bytes, the body exactly as long as the header says."""
    try:
        with gzip.GzipFile(fileobj=fileobj, mode="rb") as stream:
            header, dims = _read_header(stream, kind, name)
            body_size = _body_size(dims, len(header), compressed_size, kind, name)
            body = _read_body(stream, body_size, name)
    except EOFError:
        raise DataError(f"{name} is truncated: the compressed data ends early. {REFETCH_HINT}") from None
    except (OSError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise DataError(f"{name} is corrupt ({exc}). {REFETCH_HINT}") from None
    return header, body


def _read_header(stream, kind: str, name: str) -> tuple[bytes, tuple[int, ...]]:
    magic = stream.read(4)
    if len(magic) < 4:
        raise DataError(f"{name} is too short to hold an IDX header. {REFETCH_HINT}")
    if magic[0] != 0 or magic[1] != 0:
        raise DataError(f"{name} is not an IDX file: it does not start with two zero bytes.")
    if magic[2] != UBYTE:
        raise DataError(f"{name} holds data of IDX type 0x{magic[2]:02x}; MNIST files hold unsigned bytes (0x08).")
    expected_ndim = DIMENSIONS[kind]
    if magic[3] != expected_ndim:
        raise DataError(f"{name} has {magic[3]} dimensions; an MNIST {kind} file has {expected_ndim}.")
    raw_dims = stream.read(4 * expected_ndim)
    if len(raw_dims) < 4 * expected_ndim:
        raise DataError(f"{name} ends inside its IDX header. {REFETCH_HINT}")
    dims = tuple(int.from_bytes(raw_dims[i:i + 4], "big") for i in range(0, len(raw_dims), 4))
    return magic + raw_dims, dims


def _body_size(dims: tuple[int, ...], header_size: int, compressed_size: int, kind: str, name: str) -> int:
    """Bytes of data the header promises, after checking the promise is believable."""
    count = dims[0]
    if count == 0:
        raise DataError(f"{name} holds no {kind}.")
    if count > MAX_ITEMS:
        raise DataError(f"{name} claims {count:,} {kind}; digitpad reads at most {MAX_ITEMS:,}. The file is damaged or not MNIST.")
    if kind == "images" and dims[1:] != IMAGE_SHAPE:
        raise DataError(f"{name} holds {dims[1]}x{dims[2]} images; digitpad needs 28x28 MNIST images.")
    body_size = math.prod(dims)
    if header_size + body_size > compressed_size * MAX_DEFLATE_RATIO:
        raise DataError(
            f"{name} claims {count:,} {kind} ({body_size:,} bytes), more than its {compressed_size:,} "
            f"compressed bytes can hold. {REFETCH_HINT}"
        )
    return body_size


def _read_body(stream, body_size: int, name: str) -> bytes:
    """Exactly body_size bytes; reads one byte more to catch extra data and the gzip checksum."""
    chunks, remaining = [], body_size
    while remaining > 0:
        chunk = stream.read(min(remaining, READ_CHUNK))
        if not chunk:
            got = body_size - remaining
            raise DataError(f"{name} is truncated: it holds {got:,} of the {body_size:,} data bytes its header promises. {REFETCH_HINT}")
        chunks.append(chunk)
        remaining -= len(chunk)
    if stream.read(1):
        raise DataError(f"{name} has more data than its header describes; it is damaged or not MNIST.")
    return b"".join(chunks)


def _parse(raw: bytes, name: str) -> np.ndarray:
    # raw is already checked: header and body agree, so parse_idx only decodes.
    try:
        data = mnist.parse_idx(io.BytesIO(raw))
    except (ValueError, TypeError) as exc:  # mnist.IdxDecodeError is a ValueError
        raise DataError(f"{name} cannot be decoded as IDX: {exc}") from None
    return np.ascontiguousarray(data, dtype=np.uint8)


def _check_label_values(labels: np.ndarray, name: str) -> None:
    highest = int(labels.max())
    if highest >= NUM_CLASSES:
        raise DataError(f"{name} holds the label {highest}; MNIST labels are digits 0 to 9.")


def encode_idx(array: np.ndarray) -> bytes:
    """Uncompressed IDX bytes for a uint8 array (any number of dimensions)."""
    array = np.ascontiguousarray(array)
    if array.dtype != np.uint8:
        raise ValueError(f"IDX writer takes uint8 arrays, not {array.dtype}")
    header = bytes([0, 0, UBYTE, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def encode_idx_gz(array: np.ndarray) -> bytes:
    """Gzip-compressed IDX bytes; mtime=0 so equal arrays give byte-identical files."""
    return gzip.compress(encode_idx(array), compresslevel=9, mtime=0)

"""Fuzz the IDX/gzip reader: whatever the bytes, the answer is a well-formed array or a DataError."""
import gzip
import io
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core.errors import DataError
from core.idx import decode_idx_gz, encode_idx_gz

pytestmark = pytest.mark.faults

FUZZ = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KINDS = st.sampled_from(["images", "labels"])
VALID = {
    "images": encode_idx_gz(np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8)),
    "labels": encode_idx_gz(np.array([0, 9, 4, 7], dtype=np.uint8)),
}


def decode_or_data_error(blob: bytes, kind: str, record=event):
    """Decode blob; on success check the array is what the kind promises. None after a DataError.

    record(outcome) counts outcomes; pytest --hypothesis-show-statistics shows the split.
    """
    try:
        data = decode_idx_gz(io.BytesIO(blob), len(blob), kind, "fuzz.gz")
    except DataError as exc:
        assert "fuzz.gz" in str(exc)
        record("rejected")
        return None
    record("decoded")
    assert data.dtype == np.uint8 and len(data) > 0
    if kind == "images":
        assert data.shape[1:] == (28, 28)
    else:
        assert data.ndim == 1 and data.max() <= 9
    return data


# Starting with gzip's magic (and deflate's method byte) takes the bytes past the first check.
GZIP_STARTS = st.sampled_from([b"", b"\x1f\x8b", b"\x1f\x8b\x08", b"\x1f\x8b\x08\x00"])


@FUZZ
@given(start=GZIP_STARTS, blob=st.binary(max_size=600), kind=KINDS)
def test_arbitrary_bytes(start, blob, kind):
    decode_or_data_error(start + blob, kind)


@FUZZ
@given(content=st.binary(max_size=600), kind=KINDS)
def test_valid_gzip_of_arbitrary_content(content, kind):
    decode_or_data_error(gzip.compress(content, mtime=0), kind)


SIZES = st.integers(0, 40) | st.sampled_from([28, 60_000, 2**31, 2**32 - 1]) | st.integers(0, 2**32 - 1)


@st.composite
def idx_files(draw):
    """Uncompressed IDX bytes: a valid images or labels file with zero to three fields broken."""
    count = draw(st.integers(1, 40))
    zeros, dtype, dims = 0, 0x08, draw(st.sampled_from([[count, 28, 28], [count]]))
    ndim = len(dims)
    broken = draw(st.sets(st.sampled_from(["zeros", "dtype", "ndim", "dims", "length"]), max_size=3))
    if "zeros" in broken:
        zeros = draw(st.integers(1, 0xFFFF))
    if "dtype" in broken:
        dtype = draw(st.sampled_from([0x00, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0xFF]))
    if "ndim" in broken:
        ndim = draw(st.integers(0, 255))
    if "dims" in broken:
        dims = draw(st.lists(SIZES, max_size=4))
    promised = math.prod(dims)  # data bytes the header asks for
    length = draw(st.integers(0, 5000)) if "length" in broken or promised > 40_000 else promised
    body = draw(st.binary(min_size=length, max_size=length)) if draw(st.booleans()) else bytes(length)
    header = zeros.to_bytes(2, "big") + bytes([dtype, ndim]) + b"".join(d.to_bytes(4, "big") for d in dims)
    return header + body


@FUZZ
@given(raw=idx_files(), kind=KINDS)
def test_plausible_headers_with_wrong_fields_or_sizes(raw, kind):
    decode_or_data_error(gzip.compress(raw, mtime=0), kind)


@FUZZ
@given(kind=KINDS, data=st.data())
def test_flipped_bytes_in_a_valid_file(kind, data):
    blob = bytearray(VALID[kind])
    positions = st.integers(0, len(blob) - 1)
    for position, mask in data.draw(st.lists(st.tuples(positions, st.integers(1, 255)), min_size=1, max_size=4)):
        blob[position] ^= mask
    decode_or_data_error(bytes(blob), kind)


@FUZZ
@given(kind=KINDS, data=st.data())
def test_flipped_bytes_inside_the_idx_content(kind, data):
    raw = bytearray(gzip.decompress(VALID[kind]))
    for position in data.draw(st.lists(st.integers(0, min(len(raw), 64) - 1), min_size=1, max_size=3)):
        raw[position] ^= data.draw(st.integers(1, 255))
    decode_or_data_error(gzip.compress(bytes(raw), mtime=0), kind)


def ignore(outcome):
    pass


def test_every_truncation_of_a_valid_file_is_a_data_error():
    for kind, blob in VALID.items():
        for length in range(len(blob)):
            assert decode_or_data_error(blob[:length], kind, ignore) is None, (kind, length)
        assert decode_or_data_error(blob, kind, ignore) is not None

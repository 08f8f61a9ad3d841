"""Small text and byte formats: how a library's error is quoted in a refusal, and the IDX writer's output."""
import gzip
import struct

import numpy as np
import pytest

from core.idx import encode_idx, encode_idx_gz
from core.safefile import _describe


@pytest.mark.parametrize("error, text", [
    (ValueError("bad header."), "ValueError: bad header"),            # the refusal adds its own punctuation
    (OSError("  .npy file cut at byte X...  "), "OSError: .npy file cut at byte X"),
    (EOFError(), "EOFError"),                                          # nothing to quote: the kind alone
    (KeyError(""), "KeyError: ''"),
    (ValueError("."), "ValueError"),
])
def test_an_error_is_quoted_as_its_kind_and_its_trimmed_text(error, text):
    assert _describe(error) == text


def test_a_long_error_text_is_cut_to_160_characters():
    quoted = _describe(ValueError("x" * 500))
    assert quoted == ("ValueError: " + "x" * 500)[:160] and len(quoted) == 160


def test_idx_bytes_follow_the_format():
    array = np.arange(2 * 3 * 300, dtype=np.uint8).reshape(2, 3, 300)
    raw = encode_idx(array)
    assert raw[:4] == bytes([0, 0, 0x08, 3])
    assert struct.unpack(">3I", raw[4:16]) == (2, 3, 300)              # sizes big-endian, as IDX says
    assert raw[16:] == array.tobytes()


def test_the_idx_writer_refuses_other_types_naming_the_type():
    with pytest.raises(ValueError) as caught:
        encode_idx(np.zeros(3, np.int16))
    assert str(caught.value) == "IDX writer takes uint8 arrays, not int16"


def test_gzipped_idx_is_byte_identical_for_equal_arrays_whenever_it_is_made():
    blob = encode_idx_gz(np.ones((2, 2), np.uint8))
    assert blob[4:8] == bytes(4)                      # the gzip header's MTIME field: zero, not the clock
    assert gzip.decompress(blob) == encode_idx(np.ones((2, 2), np.uint8))

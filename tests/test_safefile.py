"""core.safefile: what open_regular says about paths that are not regular files, and shown_path's cut."""
import os
import sys

import pytest

from core.safefile import FileRejected, Rejection, open_regular, shown_path


def _named_pipe(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes and /dev/null are POSIX")
@pytest.mark.parametrize("make_path, words, kind", [
    (lambda tmp_path: tmp_path, "a folder", Rejection.FOLDER),
    (_named_pipe, "a named pipe", Rejection.SPECIAL),
    (lambda tmp_path: os.devnull, "a device", Rejection.SPECIAL),
], ids=["folder", "named pipe", "device"])
def test_open_regular_names_what_is_there_instead_of_a_file(make_path, words, kind, tmp_path):
    with pytest.raises(FileRejected) as caught:
        open_regular(make_path(tmp_path))
    assert str(caught.value) == caught.value.reason == f"it is {words}, not a file"
    assert caught.value.kind is kind


def test_open_regular_reads_a_regular_file(tmp_path):
    path = tmp_path / "plain.bin"
    path.write_bytes(b"\x00digits")
    with open_regular(path) as stream:
        assert stream.read() == b"\x00digits"


def test_shown_path_keeps_half_the_limit_from_the_start_and_a_quarter_from_the_end():
    long_name = "".join(chr(ord("a") + i % 26) for i in range(100))  # 100 characters
    shown = shown_path(os.path.join("folder", long_name, "model.npz"), longest=48)
    assert shown == os.path.join("folder", long_name[:24] + "…" + long_name[-12:], "model.npz")
    assert shown_path(os.path.join("folder", long_name[:48])) == os.path.join("folder", long_name[:48])

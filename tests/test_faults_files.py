"""Hostile model and handwriting files: archives of non-arrays, lying headers, bombs of extra
members, values that overflow float32, named pipes and devices, two instances writing at once.

Every case must end in the module's own error (ModelFileError / DataError) naming the file,
with nothing large allocated, nothing hanging and the file left as it was.
"""
import io
import os
import subprocess
import sys
import threading
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import modelfile, userdata
from core.errors import DataError, ModelFileError
from core.network import CNN
from core.userdata import PersonalDataset, read_samples

pytestmark = pytest.mark.faults

HANG_GUARD_S = 20   # a read that has not returned by then is hanging (a named pipe opened blocking)


def npy_bytes(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def npy_header(shape, descr="<f4") -> bytes:
    """Only the .npy magic and header of an array of `shape`, no data."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def model_members(**changes):
    arrays = {f"{name}.npy": npy_bytes(value) for name, value in CNN(seed=0).params.items()}
    arrays.update({f"{name}.npy": value for name, value in changes.items()})
    return arrays


def peak_allocation(action) -> int:
    """Bytes allocated at the peak while `action()` runs (numpy reports its buffers to tracemalloc)."""
    tracemalloc.start()
    try:
        action()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def raises_within_guard(action, error_type):
    """Run action() in a thread; it must raise error_type and not hang. Returns the error."""
    caught = []

    def run():
        try:
            action()
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            caught.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_GUARD_S)
    assert not thread.is_alive(), "reading the file hung"
    assert caught and isinstance(caught[0], error_type), caught
    return caught[0]


# ---- model files ------------------------------------------------------------------------------

BAD_MODEL_ARCHIVES = {
    "member is not an array": (model_members(**{"conv.filters": b"hello"}), "is not a NumPy array"),
    "member is text, not .npy": ({**model_members(), "notes.txt": b"hi"}, "'notes.txt' is not an array"),
    "header declares 10^12 floats": (model_members(**{"softmax.weights": npy_header((10**6, 10**6))}),
                                     "declare more than"),
    "complex weights": (model_members(**{"softmax.biases": npy_bytes(np.zeros(10, np.complex64))}),
                        "complex64 values"),
    "structured dtype": (model_members(**{"softmax.biases": npy_bytes(np.zeros(10, [("a", "<f4")]))}),
                         "values, which such a file never holds"),
    "header shorter than its data": (model_members(**{"softmax.biases": npy_header((2,)) + bytes(40)}),
                                     "does not match its header"),
    "unknown .npy version": (model_members(**{"softmax.biases": b"\x93NUMPY\x09\x00" + bytes(60)}),
                             r"format \(9, 0\)"),
    "many members": ({**model_members(), **{f"x{i}.npy": npy_bytes(np.zeros(1)) for i in range(100)}},
                     "holds 103 members"),
}


@pytest.mark.keeps_data
@pytest.mark.parametrize("case", BAD_MODEL_ARCHIVES)
def test_archives_of_non_arrays_and_lying_headers_are_refused(tmp_path, case):
    members, words = BAD_MODEL_ARCHIVES[case]
    path = write_zip(tmp_path / "bad.npz", members)
    before = path.read_bytes()
    with pytest.raises(ModelFileError, match=words) as caught:
        CNN.load(path)
    assert str(path) in str(caught.value)
    assert path.read_bytes() == before


@pytest.mark.keeps_data
def test_two_arrays_of_one_name_are_refused(tmp_path):
    """A zip may hold two entries of one name; which one np.load would take is not for an attacker to pick."""
    path = write_zip(tmp_path / "twice.npz", model_members())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)            # zipfile warns about the duplicate name
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("softmax.biases.npy", npy_bytes(np.full(10, 5, np.float32)))
    with pytest.raises(ModelFileError, match="two arrays named softmax.biases"):
        CNN.load(path)


def test_many_large_extra_members_are_refused_before_any_is_read(tmp_path):
    """A 400 MB bomb of zeros compresses to a small file: the declared sizes are summed first."""
    zeros = npy_header((10 * 1024 * 1024,), "|u1") + bytes(10 * 1024 * 1024)     # 10 MB, deflates to ~10 kB
    path = write_zip(tmp_path / "bomb.npz", {**model_members(), **{f"extra{i}.npy": zeros for i in range(40)}},
                     zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < modelfile.MAX_FILE_BYTES
    del zeros
    error = []
    peak = peak_allocation(lambda: error.append(pytest.raises(ModelFileError, CNN.load, path)))
    assert "declare more than" in str(error[0].value)
    assert peak < 4 * 1024 * 1024, f"{peak:,} bytes allocated"


def test_a_tiny_file_declaring_a_huge_array_allocates_nothing_large(tmp_path):
    path = write_zip(tmp_path / "liar.npz", model_members(**{"softmax.weights": npy_header((10**9, 10))}))
    error = []
    peak = peak_allocation(lambda: error.append(pytest.raises(ModelFileError, CNN.load, path)))
    assert "declare more than" in str(error[0].value)
    assert peak < 4 * 1024 * 1024


def test_float64_weights_that_overflow_float32_are_refused(tmp_path):
    params = {name: value.astype(np.float64) for name, value in CNN(seed=0).params.items()}
    params["softmax.biases"][3] = 1e300        # finite in float64, infinite in float32
    np.savez(tmp_path / "big.npz", **params)
    with pytest.raises(ModelFileError, match="NaN or infinite values \\(as float32\\)"):
        CNN.load(tmp_path / "big.npz")


def test_float64_and_float16_weights_that_fit_load_as_float32(tmp_path):
    for dtype in (np.float64, np.float16):
        params = {name: value.astype(dtype) for name, value in CNN(seed=0).params.items()}
        np.savez(tmp_path / "m.npz", **params)
        model = CNN.load(tmp_path / "m.npz")
        assert all(p.dtype == np.float32 for p in model.params.values())
        assert np.allclose(model.params["softmax.biases"], params["softmax.biases"], atol=1e-2)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_a_named_pipe_is_refused_without_hanging(tmp_path):
    os.mkfifo(tmp_path / "pipe.npz")
    error = raises_within_guard(lambda: CNN.load(tmp_path / "pipe.npz"), ModelFileError)
    assert "named pipe, not a file" in str(error)
    error = raises_within_guard(lambda: read_samples(tmp_path / "pipe.npz"), DataError)
    assert "named pipe, not a file" in str(error)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_device_is_refused_without_reading_it():
    error = raises_within_guard(lambda: CNN.load("/dev/zero"), ModelFileError)
    assert "/dev/zero" in str(error) and "a device, not a file" in str(error)
    error = raises_within_guard(lambda: read_samples("/dev/zero"), DataError)
    assert "a device, not a file" in str(error)


@pytest.mark.keeps_data
@pytest.mark.parametrize("num_filters, words", [(0, "F from 1 to 256"), (257, "F from 1 to 256")])
def test_saving_a_model_digitpad_would_refuse_writes_nothing(tmp_path, num_filters, words):
    model = CNN(num_filters=num_filters, seed=0)
    target = tmp_path / "m.npz"
    target.write_bytes(b"earlier")
    with pytest.raises(ModelFileError, match=words):
        model.save(target)
    assert target.read_bytes() == b"earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def test_saving_weights_that_overflow_float32_writes_nothing(tmp_path):
    model = CNN(seed=0, dtype=np.float64)
    model.params["softmax.biases"][0] = 1e300
    with pytest.raises(ModelFileError, match="NaN or infinite"):
        model.save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


# ---- handwriting files -----------------------------------------------------------------------

def samples_members(images=None, labels=None):
    images = np.zeros((2, 28, 28), np.uint8) if images is None else images
    labels = np.array([1, 2], np.uint8) if labels is None else labels
    return {"images.npy": images if isinstance(images, bytes) else npy_bytes(images),
            "labels.npy": labels if isinstance(labels, bytes) else npy_bytes(labels)}


BAD_SAMPLE_ARCHIVES = {
    "member is not an array": (samples_members(images=b"hello"), "is not a NumPy array"),
    "header declares 10^9 images": (samples_members(images=npy_header((10**9, 28, 28), "|u1")), "declare more than"),
    "more samples than kept": (samples_members(images=npy_header((60_000, 28, 28), "|u1") + bytes(60_000 * 784),
                                               labels=np.zeros(60_000, np.uint8)), "far larger than such a file"),
    "labels of objects": (samples_members(labels=npy_header((2,), "|O") + b"pickle"), "pickled Python objects"),
}


@pytest.mark.keeps_data
@pytest.mark.parametrize("case", BAD_SAMPLE_ARCHIVES)
def test_hostile_handwriting_files_are_data_errors_and_kept(tmp_path, case):
    members, words = BAD_SAMPLE_ARCHIVES[case]
    path = write_zip(tmp_path / userdata.FILE_NAME, members)
    before = path.read_bytes()
    error = []
    peak = peak_allocation(lambda: error.append(pytest.raises(DataError, PersonalDataset, tmp_path)))
    assert words in str(error[0].value) and str(path) in str(error[0].value)
    assert peak < 8 * 1024 * 1024
    dataset = PersonalDataset(tmp_path, start_empty_if_corrupt=True)       # what the app does: starts empty
    assert len(dataset) == 0 and dataset.load_error is not None
    assert path.read_bytes() == before


@pytest.mark.keeps_data
def test_a_handwriting_folder_with_a_too_long_name_starts_empty_and_says_why(tmp_path):
    folder = tmp_path / ("x" * 300)
    dataset = PersonalDataset(folder, start_empty_if_corrupt=True)
    assert len(dataset) == 0
    assert "longer than the system allows" in str(dataset.load_error)
    with pytest.raises(DataError, match="could not be"):
        dataset.add(np.zeros((28, 28)), 3)
    assert len(dataset) == 0


@pytest.mark.keeps_data
def test_a_handwriting_folder_that_cannot_be_entered_starts_empty_and_says_why(tmp_path, monkeypatch):
    """Tests run as root, for whom no folder is closed: the refusal is made by patching os.stat."""
    folder = tmp_path / "locked"
    folder.mkdir()
    real_stat = os.stat

    def denied(path, *args, **kwargs):
        if str(path).startswith(str(folder) + os.sep):
            raise PermissionError(13, "Permission denied", str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr("core.safefile.os.stat", denied)
    dataset = PersonalDataset(folder, start_empty_if_corrupt=True)
    assert len(dataset) == 0 and "permission denied" in str(dataset.load_error)


# Runs in its own process: adds COUNT samples whose pixel value says which process and which sample.
ADD_SAMPLES = """
import sys
import numpy as np
from core.userdata import PersonalDataset
folder, who, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
dataset = PersonalDataset(folder)
for i in range(count):
    dataset.add(np.full((28, 28), 100 * who + i), who)
"""


@pytest.mark.keeps_data
def test_two_processes_adding_at_once_keep_every_sample(tmp_path):
    count = 40
    PersonalDataset(tmp_path).add(np.full((28, 28), 255), 9)       # one sample from before
    processes = [subprocess.Popen([sys.executable, "-c", ADD_SAMPLES, str(tmp_path), str(who), str(count)],
                                  stderr=subprocess.PIPE, text=True)
                 for who in (1, 2)]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    dataset = PersonalDataset(tmp_path)
    pixels = sorted(int(image[0, 0]) for image in dataset.images)
    assert pixels == sorted([255] + [100 + i for i in range(count)] + [200 + i for i in range(count)])
    assert dataset.counts()[[1, 2, 9]].tolist() == [count, count, 1]


@pytest.mark.keeps_data
def test_an_instance_that_removes_keeps_what_another_added_meanwhile(tmp_path):
    first, second = PersonalDataset(tmp_path), PersonalDataset(tmp_path)
    first.add(np.full((28, 28), 10), 1)
    first.add(np.full((28, 28), 20), 2)
    second.add(np.full((28, 28), 30), 3)          # second never saw 1 and 2 before this
    assert second.labels.tolist() == [1, 2, 3]
    first.remove(0)                               # first has not seen 3: it must survive
    assert first.labels.tolist() == [2, 3]
    second.clear()                                # clears what second showed: 1 (gone), 2, 3
    first.add(np.full((28, 28), 40), 4)
    assert PersonalDataset(tmp_path).labels.tolist() == [4]


# ---- fuzzing the handwriting file ------------------------------------------------------------

def _valid_samples_bytes():
    buffer = io.BytesIO()
    rng = np.random.default_rng(0)
    np.savez(buffer, images=rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
             labels=np.array([0, 5, 9], np.uint8))
    return buffer.getvalue()


VALID_SAMPLES = _valid_samples_bytes()


def check_samples_file_loads_or_fails_cleanly(path):
    try:
        dataset = PersonalDataset(path.parent)
    except DataError:
        dataset = PersonalDataset(path.parent, start_empty_if_corrupt=True)   # the app always starts
        assert len(dataset) == 0 and dataset.load_error is not None
        return
    assert dataset.images.dtype == np.uint8 and dataset.images.shape[1:] == (28, 28)
    assert len(dataset.images) == len(dataset.labels) and np.all(dataset.labels < 10)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=600))
def test_fuzz_arbitrary_bytes_as_handwriting_give_only_data_errors(tmp_path, data):
    path = tmp_path / userdata.FILE_NAME
    path.write_bytes(data)
    check_samples_file_loads_or_fails_cleanly(path)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(0, len(VALID_SAMPLES) - 1), st.integers(1, 255)),
                      min_size=1, max_size=8),
       cut=st.one_of(st.none(), st.integers(0, len(VALID_SAMPLES))))
def test_fuzz_mutated_handwriting_files_load_or_fail_cleanly(tmp_path, flips, cut):
    data = bytearray(VALID_SAMPLES)
    for position, xor in flips:
        data[position] ^= xor
    path = tmp_path / userdata.FILE_NAME
    path.write_bytes(bytes(data[:cut]))
    check_samples_file_loads_or_fails_cleanly(path)


# ---- MNIST files that are not files ----------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_a_named_pipe_in_place_of_an_mnist_file_is_refused_without_hanging(tmp_path):
    from mnist_server import closed_port_url

    from core.data import SPLIT_FILES, mnist_problem
    from core.download import download_mnist
    from core.errors import DownloadError
    from core.idx import read_images

    images = SPLIT_FILES["train"][0]
    os.mkfifo(tmp_path / images)
    error = raises_within_guard(lambda: read_images(tmp_path / images), DataError)
    assert "named pipe, not a file" in str(error)
    assert "not downloaded yet" in mnist_problem() or images in mnist_problem()    # it is not taken as a file
    # In the cache a download checks the copy there (not a file: replaced); here no mirror answers.
    error = raises_within_guard(lambda: download_mnist(tmp_path, mirrors=[closed_port_url()], timeout=2),
                                DownloadError)
    assert "connection refused" in str(error)


@pytest.mark.keeps_data
def test_a_file_in_place_of_the_handwriting_folder_is_one_clear_message(tmp_path):
    folder = tmp_path / "userdata"
    folder.write_bytes(b"someone's file")
    dataset = PersonalDataset(folder, start_empty_if_corrupt=True)
    assert len(dataset) == 0
    with pytest.raises(DataError, match="is a file, not a folder. Move that file away"):
        dataset.add(np.zeros((28, 28)), 1)
    assert folder.read_bytes() == b"someone's file"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_a_named_pipe_as_the_lock_file_is_refused_without_hanging(tmp_path):
    os.mkfifo(tmp_path / userdata.LOCK_NAME)
    dataset = PersonalDataset(tmp_path)
    error = raises_within_guard(lambda: dataset.add(np.zeros((28, 28)), 1), DataError)
    assert "lock file" in str(error) and "is not a file" in str(error)
    assert len(dataset) == 0

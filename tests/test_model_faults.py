"""Model files that are damaged, hostile or unwritable: a clear ModelFileError, nothing lost."""
import errno
import io
import pickle
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import modelfile
from core.errors import ModelFileError
from core.network import CNN

pytestmark = pytest.mark.faults


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "model.npz"
    CNN(seed=0).save(path)
    return path


def write_npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def valid_arrays(num_filters=8):
    return {
        "conv.filters": np.zeros((num_filters, 3, 3), np.float32),
        "softmax.weights": np.zeros((169 * num_filters, 10), np.float32),
        "softmax.biases": np.zeros(10, np.float32),
    }


@pytest.mark.parametrize("content, message", [
    (b"", "not an .npz"),
    (b"hello, I am text", "not an .npz"),
    (b"PK\x03\x04" + b"\x00" * 40, "not a model file|damaged"),
])
def test_files_that_are_not_models(tmp_path, content, message):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=message):
        CNN.load(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ModelFileError, match="No model file"):
        CNN.load(tmp_path / "absent.npz")
    with pytest.raises(ModelFileError, match="folder"):
        CNN.load(tmp_path)


def test_a_pickle_inside_is_never_loaded(tmp_path):
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('pickle executed')",))

    path = write_npz(tmp_path / "evil.npz", **{**valid_arrays(), "softmax.biases": np.array([Boom()], dtype=object)})
    with pytest.raises(ModelFileError, match="pickled"):
        CNN.load(path)
    raw = tmp_path / "raw.npz"  # a bare pickle, not even a zip
    raw.write_bytes(pickle.dumps({"conv.filters": Boom()}))
    with pytest.raises(ModelFileError):
        CNN.load(raw)


def test_missing_keys_are_named(tmp_path):
    arrays = valid_arrays()
    del arrays["softmax.biases"]
    with pytest.raises(ModelFileError, match="lacks softmax.biases"):
        CNN.load(write_npz(tmp_path / "m.npz", **arrays))


@pytest.mark.parametrize("key, shape", [
    ("conv.filters", (8, 5, 5)),
    ("conv.filters", (72,)),
    ("softmax.weights", (1352, 9)),
    ("softmax.weights", (1000, 10)),
    ("softmax.biases", (11,)),
])
def test_wrong_shapes_are_refused(tmp_path, key, shape):
    arrays = {**valid_arrays(), key: np.zeros(shape, np.float32)}
    with pytest.raises(ModelFileError, match=key.replace(".", r"\.")):
        CNN.load(write_npz(tmp_path / "m.npz", **arrays))


def test_wrong_dtypes_and_non_finite_values_are_refused(tmp_path):
    ints = {**valid_arrays(), "softmax.biases": np.zeros(10, np.int64)}
    with pytest.raises(ModelFileError, match="int64"):
        CNN.load(write_npz(tmp_path / "ints.npz", **ints))
    for bad in (np.nan, np.inf):
        arrays = valid_arrays()
        arrays["softmax.weights"][5, 3] = bad
        with pytest.raises(ModelFileError, match="NaN or infinite"):
            CNN.load(write_npz(tmp_path / "nan.npz", **arrays))


def test_an_oversized_member_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(modelfile, "MAX_TOTAL_BYTES", 1000)
    with pytest.raises(ModelFileError, match="declare more than"):
        CNN.load(write_npz(tmp_path / "big.npz", **valid_arrays()))


def test_other_filter_counts_load(tmp_path):
    model = CNN.load(write_npz(tmp_path / "m.npz", **valid_arrays(num_filters=3)))
    assert model.num_filters == 3


def fail_with(error):
    def raiser(*args, **kwargs):
        raise error
    return raiser


@pytest.mark.parametrize("target, error, message", [
    ("tempfile.mkstemp", PermissionError(errno.EACCES, "Permission denied"), "Permission denied"),
    ("os.fsync", OSError(errno.ENOSPC, "No space left on device"), "No space left"),
    ("os.replace", OSError(errno.EROFS, "Read-only file system"), "Read-only"),
])
@pytest.mark.keeps_data
def test_a_failed_save_leaves_the_previous_file_untouched(good_file, monkeypatch, target, error, message):
    before = good_file.read_bytes()
    module, name = target.split(".")
    monkeypatch.setattr(f"core.atomic.{module}.{name}", fail_with(error))
    with pytest.raises(ModelFileError, match=message):
        CNN(seed=99).save(good_file)
    monkeypatch.undo()
    assert good_file.read_bytes() == before
    assert [p.name for p in good_file.parent.iterdir()] == ["model.npz"]  # no temporary left


def test_saving_into_a_missing_folder_says_so(tmp_path):
    with pytest.raises(ModelFileError, match="Cannot save"):
        CNN().save(tmp_path / "no" / "such" / "model.npz")


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=600))
def test_fuzz_arbitrary_bytes_give_only_model_file_errors(tmp_path, data):
    path = tmp_path / "fuzz.npz"
    path.write_bytes(data)
    with pytest.raises(ModelFileError):
        CNN.load(path)


def _valid_bytes():
    buffer = io.BytesIO()
    np.savez(buffer, **valid_arrays(num_filters=2))
    return buffer.getvalue()


VALID = _valid_bytes()


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(1, 255)), min_size=1, max_size=8),
       cut=st.one_of(st.none(), st.integers(0, len(VALID))))
def test_fuzz_mutated_model_files_load_or_fail_cleanly(tmp_path, flips, cut):
    data = bytearray(VALID)
    for position, xor in flips:
        data[position] ^= xor
    path = tmp_path / "mutant.npz"
    path.write_bytes(bytes(data[:cut]))
    try:
        model = CNN.load(path)
    except ModelFileError:
        return
    # A mutation that left a loadable model (e.g. a flipped weight): it must be a sound model.
    assert all(np.all(np.isfinite(p)) for p in model.params.values())
    assert model.predict_proba(np.zeros((28, 28))).shape == (1, 10)


def test_saving_without_a_deskew_flag_writes_as_drawn_and_the_format_version(tmp_path):
    path = tmp_path / "m.npz"
    modelfile.save_params(path, valid_arrays())
    assert modelfile.load_model_file(path)[1] is False
    with np.load(path) as stored:
        assert int(stored["format_version"]) == modelfile.FORMAT_VERSION


def test_saving_arrays_that_lack_keys_names_them_all_and_writes_nothing(tmp_path):
    arrays = valid_arrays()
    del arrays["conv.filters"], arrays["softmax.biases"]
    path = tmp_path / "m.npz"
    assert modelfile.params_problem(arrays) == "it lacks conv.filters, softmax.biases"
    with pytest.raises(ModelFileError) as caught:
        modelfile.save_params(path, arrays)
    assert str(caught.value) == (f"Cannot save the model to {path}: it lacks conv.filters, softmax.biases, "
                                 "so digitpad could not open it again. Nothing was written.")
    assert not path.exists()


def test_weights_too_large_for_float32_are_refused_without_a_numpy_warning(tmp_path):
    arrays = {**valid_arrays(), "softmax.biases": np.full(10, 1e300)}   # float64, inf as float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ModelFileError, match="softmax.biases contains NaN or infinite values"):
            modelfile.save_params(tmp_path / "m.npz", arrays)

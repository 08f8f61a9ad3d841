"""Small exact facts of core modules that larger tests pass over: found by mutation testing (docs/MUTANTS.md)."""
import errno

import numpy as np
import pytest

from core import augment, data, metrics, safefile
from core.idx import encode_idx_gz


def test_random_affine_draws_every_distortion_across_its_whole_range():
    config = augment.AugmentConfig(max_shift=2.0, max_scale_change=0.1, max_aspect_change=0.2, max_rotation=30,
                                   max_shear=0.4)
    matrices, shifts = augment.random_affine(4000, np.random.default_rng(0), config)
    assert matrices.shape == (4000, 2, 2) and shifts.shape == (4000, 2)
    assert -2 <= shifts.min() < -1.9 and 1.9 < shifts.max() <= 2
    # Without rotation and stretch, the slant alone sits below the diagonal: -shear, spread both ways.
    plain = augment.AugmentConfig(max_shift=0, max_scale_change=0, max_aspect_change=0, max_rotation=0, max_shear=0.4)
    slants, _ = augment.random_affine(2000, np.random.default_rng(1), plain)
    shear = -slants[:, 1, 0]
    assert -0.4 <= shear.min() < -0.38 and 0.38 < shear.max() <= 0.4
    np.testing.assert_array_equal(slants[:, 0, 0], 1.0)
    stretch = augment.AugmentConfig(max_shift=0, max_scale_change=0.1, max_aspect_change=0.2, max_rotation=0,
                                    max_shear=0)
    scales, _ = augment.random_affine(2000, np.random.default_rng(2), stretch)
    assert 0.9 <= scales[:, 0, 0].min() < 0.91 and 1.09 < scales[:, 0, 0].max() <= 1.1
    aspect = scales[:, 1, 1] / scales[:, 0, 0]
    assert 0.8 <= aspect.min() < 0.81 and 1.19 < aspect.max() <= 1.2


def test_per_class_accuracy_of_a_class_seen_once():
    matrix = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 0]])
    accuracy = metrics.per_class_accuracy(matrix)
    assert accuracy[0] == 1.0 and accuracy[1] == 0.5 and np.isnan(accuracy[2])


def test_classes_out_of_range_name_the_range():
    with pytest.raises(ValueError, match=r"holds classes outside 0\.\.9$"):
        metrics.confusion_matrix([0, 10], [0, 1])


@pytest.mark.parametrize("code, reason", [
    (errno.ENOENT, "there is no such file"), (errno.EACCES, "permission denied"), (errno.EPERM, "permission denied"),
    (errno.ENAMETOOLONG, "a part of its path is longer than the system allows"),
    (errno.ENOTDIR, "a part of its path is a file, not a folder"), (errno.ELOOP, "its path loops through symbolic links"),
    (errno.EISDIR, "it is a folder, not a file"), (errno.ENOSPC, "No space left on device"),
])
def test_os_reasons_are_words_a_user_can_act_on(code, reason):
    assert safefile.os_reason(OSError(code, "No space left on device" if code == errno.ENOSPC else "x")) == reason


def test_an_error_without_a_system_message_is_told_as_it_is():
    assert safefile.os_reason(OSError("odd")) == "odd"


def write_mnist(folder, count):
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for images_name, labels_name in data.SPLIT_FILES.values():
        (folder / images_name).write_bytes(encode_idx_gz(rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)))
        (folder / labels_name).write_bytes(encode_idx_gz(rng.integers(0, 10, count, dtype=np.uint8)))
    return folder


def test_the_sample_is_the_sample_even_where_full_mnist_is_found(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "mnist_problem", lambda data_dir=None: None)   # as if the files verified
    folder = write_mnist(tmp_path / "mnist", 12)
    monkeypatch.setenv("DIGITPAD_DATA_DIR", str(folder))
    train_set, test_set, description = data.load_dataset("sample")
    assert len(train_set[1]) == 10_000 and "MNIST sample" in description


def test_full_mnist_reads_both_splits_from_the_folder_asked(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "mnist_problem", lambda data_dir=None: None)
    asked = write_mnist(tmp_path / "asked", 12)
    monkeypatch.setenv("DIGITPAD_DATA_DIR", str(write_mnist(tmp_path / "other", 7)))
    train_set, test_set, description = data.load_dataset("mnist", asked, allow_download=False)
    assert len(train_set[1]) == 12 and len(test_set[1]) == 12
    assert description.startswith("MNIST ")


def test_a_gzip_bomb_is_cut_off_at_the_limit(tmp_path, monkeypatch):
    import gzip

    from core import download

    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(b"\0" * 3_000_000))
    monkeypatch.setattr(download, "MAX_DECOMPRESSED_BYTES", 2_000_000)
    with pytest.raises(download._MirrorFailed, match="^decompresses to more than 2,000,000 bytes; not an MNIST file$"):
        download._decompressed_sha256(path)
    monkeypatch.setattr(download, "MAX_DECOMPRESSED_BYTES", 3_000_000)
    assert len(download._decompressed_sha256(path)) == 64           # exactly at the limit is fine


def test_a_truncated_download_is_named_so(tmp_path):
    import gzip

    from core import download

    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(bytes(range(256)) * 400)[:-20])
    with pytest.raises(download._MirrorFailed, match=r"^the file is truncated \(incomplete gzip data\)$"):
        download._safe_sha256(path)


def test_a_failed_model_save_gives_the_systems_words(tmp_path, monkeypatch):
    from core import atomic
    from core.errors import ModelFileError
    from core.network import CNN

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic, "save_npz", disk_full)
    with pytest.raises(ModelFileError) as caught:
        CNN(seed=0).save(tmp_path / "m.npz")
    assert str(caught.value) == (f"Cannot save the model to {tmp_path / 'm.npz'}: No space left on device. "
                                 "Any earlier file there is unchanged.")


def test_scoring_an_empty_set_gives_no_answers():
    from core.network import CNN
    from core.train import score

    loss, accuracy, probabilities = score(CNN(seed=0), np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8))
    assert (loss, accuracy) == (0.0, 0.0) and probabilities.shape == (0, 10)


def test_progress_speed_counts_only_training_time():
    """The busy clock starts at zero: microsecond steps of a stand-in model give a very high speed."""
    from core.train import TrainConfig, train

    class Instant:
        params = {"w": np.zeros(1)}

        def get_params(self):
            return {"w": np.zeros(1)}

        def forward_backward(self, images, labels):
            return 1.0, {"w": np.zeros(1)}, np.full((len(labels), 10), 0.1)

    images, labels = np.zeros((64, 28, 28), np.uint8), np.zeros(64, np.uint8)
    last = list(train(Instant(), TrainConfig(epochs=1, batch_size=64, augment=False), (images, labels)))[-1]
    assert last.images_per_s > 100           # 64 images in well under 0.64 s; a clock starting at 1 s gives < 64


def test_the_startup_message_says_what_to_do(tmp_path, monkeypatch):
    from core import paths
    from gui.model_session import startup_session

    monkeypatch.setattr(paths, "PRETRAINED_MODEL", tmp_path / "missing.npz")
    session, message = startup_session()
    assert message.endswith(" Starting with random weights: train it (F5) or open a saved model (Ctrl+O).")
    assert not session.unsaved


def test_a_fresh_session_deskews_and_its_seed_gives_the_same_weights_and_is_named():
    from gui.model_session import fresh_session

    seeded, again, unseeded = fresh_session(7), fresh_session(7), fresh_session()
    assert seeded.description == "new, random weights (seed 7)"
    assert unseeded.description == "new, random weights"
    assert seeded.model.deskew is True and unseeded.model.deskew is True  # the default recipe's input stage
    np.testing.assert_array_equal(seeded.model.params["conv.filters"], again.model.params["conv.filters"])
    assert not seeded.unsaved


def test_the_legend_has_nine_stops_by_default():
    from gui.views.colormap import gradient_stops

    assert len(gradient_stops()) == 9


def test_no_free_temporary_name_is_a_save_error(tmp_path, monkeypatch):
    import os

    from core import download
    from core.errors import DataError

    tried = []

    def every_name_taken(path, flags, *args):
        tried.append(os.path.basename(path))
        raise FileExistsError(errno.EEXIST, "File exists")

    monkeypatch.setattr(download.tempfile, "TMP_MAX", 3)
    monkeypatch.setattr(os, "open", every_name_taken)
    with pytest.raises(DataError, match=r"^Cannot save x\.gz in .*: No usable temporary file name found\.$"):
        download._create_temp(tmp_path / "x.gz", "x.gz")
    assert len(tried) == 3 and len(set(tried)) == 3          # three different names, then it gave up
    assert all(name.startswith(".x.gz.") and name.endswith(".part") for name in tried)
    assert not download._in_flight


def test_damaged_files_in_the_cache_folder_are_named_without_a_chooser(tmp_path):
    from core.paths import cache_dir

    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / data.SPLIT_FILES["train"][0]).write_bytes(b"not gzip")
    message = data.mnist_problem()
    assert message.startswith(f"Full MNIST cannot be used from {folder}: ") and "chosen by" not in message
    assert message.endswith("Download full MNIST again to replace them.")


@pytest.mark.parametrize("make, kind", [
    (lambda path: path.mkdir(), "a folder"),
    (lambda path: __import__("os").mkfifo(path), "a named pipe"),
])
def test_only_regular_files_are_opened(tmp_path, make, kind):
    path = tmp_path / "thing"
    make(path)
    with pytest.raises(safefile.FileRejected) as caught:
        safefile.open_regular(path)
    assert str(caught.value) == caught.value.reason == f"it is {kind}, not a file"
    assert not caught.value.missing
    assert caught.value.kind is (safefile.Rejection.FOLDER if kind == "a folder" else safefile.Rejection.SPECIAL)


def test_a_missing_file_is_rejected_as_missing(tmp_path):
    with pytest.raises(safefile.FileRejected) as caught:
        safefile.open_regular(tmp_path / "absent")
    assert caught.value.missing and caught.value.reason == "there is no such file"
    assert caught.value.kind is safefile.Rejection.MISSING


@pytest.mark.parametrize("content, kind", [
    (b"", "NOT_AN_ARCHIVE"),
    (b"plain text", "NOT_AN_ARCHIVE"),
    (safefile.ZIP_MAGIC + b"\0" * 40, "UNFIT"),
], ids=["empty", "text", "damaged zip"])
def test_an_archive_that_is_not_one_says_which_kind_of_problem_it_is(tmp_path, content, kind):
    path = tmp_path / "thing.npz"
    path.write_bytes(content)
    with pytest.raises(safefile.FileRejected) as caught:
        safefile.NpzArchive(path, max_file_bytes=1000, max_total_bytes=1000, allowed_dtypes=("uint8",))
    assert caught.value.kind is safefile.Rejection[kind]


@pytest.mark.parametrize("kind, words", [
    ("MISSING", "No model file at"),
    ("FOLDER", "is a folder, not a model file"),
    ("NOT_AN_ARCHIVE", "is not a model file (not an .npz archive)"),
    ("UNFIT", "Cannot read the model file"),
])
def test_model_file_messages_follow_the_kind_of_rejection_not_its_wording(kind, words):
    from core import modelfile

    rejected = safefile.FileRejected("reworded reason", safefile.Rejection[kind])
    assert words in str(modelfile._rejected("m.npz", rejected))


def test_a_samples_file_that_is_no_archive_is_called_possibly_damaged_whatever_the_wording(tmp_path, monkeypatch):
    from core import userdata
    from core.errors import DataError

    def refuse(path, **limits):
        raise safefile.FileRejected("reworded reason", safefile.Rejection.NOT_AN_ARCHIVE)

    monkeypatch.setattr(userdata, "NpzArchive", refuse)
    with pytest.raises(DataError, match=r"reworded reason \(it may have been damaged or replaced"):
        userdata.read_samples(tmp_path / "handwriting.npz")


def test_a_regular_file_opens_for_blocking_binary_reads(tmp_path):
    import os

    path = tmp_path / "f.bin"
    path.write_bytes(b"abc")
    with safefile.open_regular(path) as stream:
        assert os.get_blocking(stream.fileno()) and stream.read() == b"abc"


def test_the_first_failed_check_is_the_one_raised():
    from core.checks import first_failed

    first_failed([(True, "fine"), (1 > 0, "also fine")])               # nothing fails: nothing raised
    first_failed([])
    with pytest.raises(ValueError, match="^second$"):
        first_failed([(True, "first"), (False, "second"), (False, "third")])

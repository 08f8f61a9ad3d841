"""Loading MNIST files: every kind of damaged file gives a specific DataError; where data comes from."""
import gzip
import importlib.util
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from core.data import SAMPLE_DIR, SAMPLE_FILES, SPLIT_FILES, load_dataset, load_mnist, load_sample, mnist_available
from core.errors import DataError
from core.idx import MAX_ITEMS, encode_idx, encode_idx_gz, read_images, read_labels

ROOT = Path(__file__).resolve().parent.parent
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def idx_header(dims, zeros=0, dtype=0x08, ndim=None) -> bytes:
    ndim = len(dims) if ndim is None else ndim
    return zeros.to_bytes(2, "big") + bytes([dtype, ndim]) + b"".join(d.to_bytes(4, "big") for d in dims)


def some_images(count=5, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (count, 28, 28), dtype=np.uint8)  # (N, 28, 28)


def write(tmp_path, data: bytes, name="train-images-idx3-ubyte.gz") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def write_split(folder: Path, split: str, images, labels) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    images_name, labels_name = SPLIT_FILES[split]
    (folder / images_name).write_bytes(encode_idx_gz(images))
    (folder / labels_name).write_bytes(encode_idx_gz(labels))


def assert_data_error(reader, path, *fragments):
    with pytest.raises(DataError) as caught:
        reader(path)
    message = str(caught.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_round_trip_of_a_valid_file(tmp_path):
    images = some_images()
    labels = np.array([3, 0, 9, 1, 7], dtype=np.uint8)
    read_back = read_images(write(tmp_path, encode_idx_gz(images)))
    np.testing.assert_array_equal(read_back, images)
    assert read_back.dtype == np.uint8
    np.testing.assert_array_equal(read_labels(write(tmp_path, encode_idx_gz(labels), "l.gz")), labels)


# --- damaged files: the gzip layer -------------------------------------------------------

@pytest.mark.faults
def test_empty_file(tmp_path):
    assert_data_error(read_images, write(tmp_path, b""), "is empty")


@pytest.mark.faults
def test_not_gzip(tmp_path):
    assert_data_error(read_images, write(tmp_path, encode_idx(some_images())), "is not a gzip file")


@pytest.mark.faults
def test_truncated_gzip(tmp_path):
    blob = encode_idx_gz(some_images())
    assert_data_error(read_images, write(tmp_path, blob[: len(blob) // 2]), "is truncated")


@pytest.mark.faults
def test_gzip_checksum_failure(tmp_path):
    blob = bytearray(encode_idx_gz(some_images()))
    blob[-8] ^= 0xFF  # the CRC-32 of the content, in gzip's trailer
    assert_data_error(read_images, write(tmp_path, bytes(blob)), "is corrupt", "CRC")


@pytest.mark.faults
def test_corrupt_deflate_stream(tmp_path):
    blob = bytearray(encode_idx_gz(some_images()))
    blob[10:30] = b"\xff" * 20  # right after the gzip header: an invalid deflate block
    assert_data_error(read_images, write(tmp_path, bytes(blob)), "is corrupt")


@pytest.mark.faults
def test_missing_file(tmp_path):
    assert_data_error(read_images, tmp_path / "nowhere.gz", "does not exist")


@pytest.mark.faults
def test_a_folder_instead_of_a_file(tmp_path):
    assert_data_error(read_images, tmp_path, "Cannot open")


# --- damaged files: the IDX layer --------------------------------------------------------

def gz_idx(header: bytes, body: bytes = b"") -> bytes:
    return gzip.compress(header + body, mtime=0)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"\0\0", "too short to hold an IDX header"),
        (idx_header((5, 28, 28))[:9], "ends inside its IDX header"),
        (idx_header((5, 28, 28), zeros=0x0100), "does not start with two zero bytes"),
        (idx_header((5, 28, 28), dtype=0x0D), "IDX type 0x0d"),
        (idx_header((5, 784)), "has 2 dimensions; an MNIST images file has 3"),
        (idx_header((5, 32, 32)) + bytes(5 * 32 * 32), "32x32 images"),
        (idx_header((0, 28, 28)), "holds no images"),
        (idx_header((5, 28, 28)) + bytes(4 * 784), "holds 3,136 of the 3,920 data bytes"),
        (idx_header((5, 28, 28)) + bytes(5 * 784 + 1), "more data than its header describes"),
    ],
)
@pytest.mark.faults
def test_bad_image_headers_and_sizes(tmp_path, raw, fragment):
    assert_data_error(read_images, write(tmp_path, gzip.compress(raw, mtime=0)), fragment)


@pytest.mark.faults
def test_header_claiming_billions_is_rejected_before_allocating(tmp_path):
    path = write(tmp_path, gz_idx(idx_header((2**32 - 1, 28, 28)), bytes(784)))
    assert_data_error(read_images, path, f"claims {2**32 - 1:,} images", f"at most {MAX_ITEMS:,}")


@pytest.mark.faults
def test_header_claiming_more_than_the_file_can_hold(tmp_path):
    claimed = MAX_ITEMS // 2
    path = write(tmp_path, gz_idx(idx_header((claimed, 28, 28)), bytes(784)))
    assert_data_error(read_images, path, f"claims {claimed:,} images", "compressed bytes can hold")


@pytest.mark.faults
def test_gzip_bomb_is_not_decompressed_past_the_promised_size(tmp_path):
    bomb = gz_idx(idx_header((2, 28, 28)), bytes(40 * 2**20))  # 40 MB of zeros after 2 images
    path = write(tmp_path, bomb)
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="more data than its header describes"):
            read_images(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20


@pytest.mark.faults
def test_labels_must_be_digits(tmp_path):
    path = write(tmp_path, encode_idx_gz(np.array([1, 2, 10, 3], dtype=np.uint8)), "l.gz")
    assert_data_error(read_labels, path, "holds the label 10")


@pytest.mark.faults
def test_labels_with_image_dimensions(tmp_path):
    path = write(tmp_path, encode_idx_gz(some_images(2)), "l.gz")
    assert_data_error(read_labels, path, "has 3 dimensions; an MNIST labels file has 1")


@pytest.mark.faults
def test_image_and_label_counts_must_agree(tmp_path):
    write_split(tmp_path, "test", some_images(5), np.zeros(4, dtype=np.uint8))
    with pytest.raises(DataError, match="holds 5 images but .* holds 4 labels"):
        load_mnist("test", tmp_path)


# --- where the data comes from ------------------------------------------------------------

def test_data_dir_argument_wins_over_the_environment(tmp_path, monkeypatch):
    write_split(tmp_path / "arg", "train", some_images(3), np.array([1, 2, 3], dtype=np.uint8))
    write_split(tmp_path / "env", "train", some_images(4), np.zeros(4, dtype=np.uint8))
    monkeypatch.setenv("DIGITPAD_DATA_DIR", str(tmp_path / "env"))
    assert len(load_mnist("train", tmp_path / "arg")[1]) == 3
    assert len(load_mnist("train")[1]) == 4


def test_environment_folder_wins_over_the_cache(tmp_path, monkeypatch):
    from core.paths import cache_dir

    write_split(cache_dir(), "test", some_images(2), np.zeros(2, dtype=np.uint8))
    write_split(tmp_path / "env", "test", some_images(6), np.zeros(6, dtype=np.uint8))
    assert len(load_mnist("test")[1]) == 2
    monkeypatch.setenv("DIGITPAD_DATA_DIR", str(tmp_path / "env"))
    assert len(load_mnist("test")[1]) == 6


@pytest.mark.faults
def test_chosen_folder_without_the_files_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITPAD_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match="DIGITPAD_DATA_DIR.*t10k-images-idx3-ubyte.gz"):
        load_mnist("test")
    with pytest.raises(DataError, match="data_dir argument"):
        load_mnist("test", tmp_path / "elsewhere")


@pytest.mark.faults
def test_no_download_when_turned_off(tmp_path):
    with pytest.raises(DataError, match="downloading is turned off"):
        load_mnist("train", allow_download=False)
    messages = []
    train_set, _, description = load_dataset("auto", allow_download=False, log=messages.append)
    assert "downloading is turned off" in messages[0]
    assert "sample" in description and len(train_set[1]) == 10_000


def test_bad_split_and_source_are_programming_errors():
    with pytest.raises(ValueError):
        load_sample("validation")
    with pytest.raises(ValueError):
        load_dataset("imagenet")


# --- the bundled sample ---------------------------------------------------------------------

@pytest.mark.parametrize(("split", "count"), [("train", 10_000), ("test", 2_000)])
def test_sample_is_balanced_mnist(split, count):
    images, labels = load_sample(split)
    assert images.shape == (count, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (count,) and labels.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == [count // 10] * 10
    assert 0 < images.mean() < 128 and images.max() == 255  # dark background, white ink


def test_sample_is_small():
    assert sum(p.stat().st_size for p in SAMPLE_DIR.iterdir()) < 3 * 2**20


def load_tool():
    spec = importlib.util.spec_from_file_location("make_sample", ROOT / "tools" / "make_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_sample_is_balanced_and_reproducible(tmp_path):
    rng = np.random.default_rng(1)
    for split, count in (("train", 300), ("test", 100)):
        write_split(tmp_path / "full", split, some_images(count, seed=count), rng.integers(0, 10, count).astype(np.uint8))
    tool = load_tool()
    sizes = {"train": 50, "test": 20}
    first = tool.build_sample(tmp_path / "full", tmp_path / "a", seed=3, sizes=sizes)
    second = tool.build_sample(tmp_path / "full", tmp_path / "b", seed=3, sizes=sizes)
    other = tool.build_sample(tmp_path / "full", tmp_path / "c", seed=4, sizes=sizes)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert [p.read_bytes() for p in first] != [p.read_bytes() for p in other]
    images_name, labels_name = SAMPLE_FILES["train"]
    images, labels = read_images(tmp_path / "a" / images_name), read_labels(tmp_path / "a" / labels_name)
    assert np.bincount(labels, minlength=10).tolist() == [5] * 10
    full_images, full_labels = load_mnist("train", tmp_path / "full")
    for image, label in zip(images, labels):
        matches = np.flatnonzero((full_images == image).all(axis=(1, 2)))
        assert len(matches) == 1 and full_labels[matches[0]] == label


# --- the full set ---------------------------------------------------------------------------

@pytest.mark.parametrize(("split", "counts"), [("train", TRAIN_COUNTS), ("test", TEST_COUNTS)])
def test_full_mnist(mnist_dir, split, counts):
    images, labels = load_mnist(split, mnist_dir)
    assert images.shape == (sum(counts), 28, 28) and images.dtype == np.uint8
    assert labels.shape == (sum(counts),) and labels.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == counts


def test_full_mnist_verifies(mnist_dir):
    assert mnist_available(mnist_dir)


def test_committed_sample_is_rebuilt_byte_for_byte(mnist_dir, tmp_path):
    rebuilt = load_tool().build_sample(mnist_dir, tmp_path)
    for path in rebuilt:
        assert path.read_bytes() == (SAMPLE_DIR / path.name).read_bytes(), path.name

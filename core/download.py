"""Fetch the four MNIST files from public mirrors, keeping only complete, verified copies.

The `mnist` package has a downloader, but its default address (yann.lecun.com) answers
403 Forbidden, and it has no timeout, no progress report, no checksum and writes straight
to the final file name. This small urllib one has all of those: each file streams into a
temporary file next to its destination, its decompressed content is checked against a
known SHA-256, and only then is it renamed into place. A failed, cut or cancelled
download leaves nothing behind, even when the program ends while a download thread is still
waiting on the network (the GUI abandons such a thread rather than keep its window open).
"""
import atexit
import gzip
import hashlib
import http.client
import logging
import os
import secrets
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from core.errors import DataError, DownloadCancelled, DownloadError
from core.mnist_format import TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS
from core.paths import cache_dir
from core.safefile import FileRejected, open_regular

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
# SHA-256 of each file's DECOMPRESSED content: mirrors may compress differently.
SHA256 = {
    TRAIN_IMAGES: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    TRAIN_LABELS: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    TEST_IMAGES: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    TEST_LABELS: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
CHUNK_BYTES = 64 * 1024
# Stop hashing past this many decompressed bytes (full train images are 47 MB):
# a hostile mirror's gzip bomb costs bounded time.
MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024
TEMP_SUFFIX = ".part"
log = logging.getLogger(__name__)   # "Trying <url> ..." per attempt; the CLI prints it, the GUI shows bytes
# A server that trickles bytes answers every read within the timeout yet never finishes:
# each file must also arrive within DEADLINE_S, and after RATE_GRACE_S at MIN_RATE on average.
DEADLINE_S = 600               # train images, 9.9 MB: 10 minutes is 16.5 kB/s
MIN_RATE = 8 * 1024            # bytes a second; below this the 9.9 MB file would take over 20 minutes
RATE_GRACE_S = 15              # connection set-up and slow starts are not judged


# Downloads under way, each as (folder, name prefix): its temporary file is the one file in that
# folder whose name starts with that prefix (unique to the download) and ends with TEMP_SUFFIX.
_in_flight: set[tuple[str, str]] = set()


@atexit.register
def _remove_unfinished_downloads() -> None:
    """A daemon thread still blocked on a socket at exit never reaches its own clean-up."""
    for folder, prefix in list(_in_flight):
        for temp in _claimed_files(folder, prefix):
            _remove_quietly(temp)


def _claimed_files(folder: str, prefix: str) -> list[str]:
    """The temporary files in `folder` that a download registered as (folder, prefix) may have made:
    prefix, mkstemp's random part (never empty), TEMP_SUFFIX."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return [os.path.join(folder, name) for name in names
            if name.startswith(prefix) and name.endswith(TEMP_SUFFIX) and len(name) > len(prefix) + len(TEMP_SUFFIX)]


class _MirrorFailed(Exception):
    """One mirror did not deliver a good copy; the message says why."""


def download_mnist(dest=None, progress=None, should_cancel=None, mirrors=None, timeout=10) -> Path:
    """Make sure `dest` (default: the cache folder) holds the four verified MNIST files.

    Files already there that verify are kept; any that fail verification are replaced.
    progress(done_bytes, total_bytes, file_name) is called as each file streams in
    (total_bytes is None when the server does not say). should_cancel() is polled between
    chunks; when it returns True, DownloadCancelled is raised. `timeout` bounds each
    connection attempt and each wait for data, in seconds. Raises DownloadError naming
    every mirror tried and why it failed. Returns the folder.
    """
    folder = Path(dest) if dest is not None else cache_dir()
    _make_folder(folder)
    for name in SHA256:
        _check_cancel(should_cancel)
        target = folder / name
        if _keep_cached(target, name):
            continue
        _fetch_from_mirrors(name, target, mirrors or MIRRORS, progress, should_cancel, timeout)
    return folder


_verified = {}  # (path, size, mtime_ns, expected digest) -> bool: each file version is hashed once


def file_verifies(path, name: str) -> bool:
    """True when `path` decompresses to exactly the content SHA256[name] describes.

    Hashing 55 MB takes about 0.15 s, and the app asks at start-up, after a download and before
    training; the answer is remembered for as long as the file's size and mtime stay the same.
    """
    path = Path(path)
    try:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, SHA256[name])
        if key not in _verified:
            _verified[key] = _decompressed_sha256(path) == SHA256[name]
        return _verified[key]
    except (OSError, EOFError, zlib.error, _MirrorFailed):
        return False


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"Cannot create the folder {folder} for MNIST: {exc.strerror or exc}.") from None


def _keep_cached(target: Path, name: str) -> bool:
    """True if a good copy is already there; a bad copy is deleted."""
    if not target.exists():
        return False
    if file_verifies(target, name):
        return True
    try:
        target.unlink()
    except OSError as exc:
        raise DataError(f"{target} is damaged and cannot be deleted ({exc.strerror or exc}); delete it by hand.") from None
    return False


def _fetch_from_mirrors(name, target: Path, mirrors, progress, should_cancel, timeout) -> None:
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + name
        log.info("Trying %s (giving up on it after %g s without an answer, or %d s in all)", url, timeout, DEADLINE_S)
        try:
            _fetch(url, name, target, progress, should_cancel, timeout)
            return
        except _MirrorFailed as exc:
            failures.append(f"  {url}: {exc}")
    raise DownloadError(
        f"Could not download {name} from any mirror:\n" + "\n".join(failures) + "\n"
        "Check the internet connection and try again, or put the four MNIST .gz files in a folder "
        "and set DIGITPAD_DATA_DIR to it."
    )


def _fetch(url: str, name: str, target: Path, progress, should_cancel, timeout) -> None:
    """Download one URL to a temp file, verify it, rename it to target; never leaves the temp file."""
    claim, fd, temp = _create_temp(target, name)
    try:
        with os.fdopen(fd, "wb") as out:
            _stream(url, out, target, progress, should_cancel, timeout)
        if _safe_sha256(Path(temp)) != SHA256[name]:
            raise _MirrorFailed("checksum mismatch (the content is not the expected MNIST file)")
        _move(temp, target)
    except BaseException:
        _remove_quietly(temp)
        raise
    finally:
        _in_flight.discard(claim)


def _create_temp(target: Path, name: str) -> tuple[tuple[str, str], int, str]:
    """A new, empty temporary file next to target (tempfile.mkstemp) -> (claim, fd, path).

    Its name starts with a prefix of this download's own, registered in _in_flight as the claim
    before the file exists: a program ending at any moment after this starts leaves no partial file.
    """
    claim = (str(target.parent), f".{name}.{secrets.token_hex(6)}.")
    _in_flight.add(claim)
    try:
        fd, temp = tempfile.mkstemp(suffix=TEMP_SUFFIX, prefix=claim[1], dir=target.parent)
    except OSError as exc:
        _in_flight.discard(claim)
        raise _cannot_save(target, exc) from None
    return claim, fd, temp


def _stream(url: str, out, target: Path, progress, should_cancel, timeout) -> None:
    _check_cancel(should_cancel)
    name, done, total = target.name, 0, None
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            total = _content_length(response)
            _report(progress, done, total, name)
            started = time.monotonic()
            while chunk := response.read1(CHUNK_BYTES):     # returns what has arrived: a trickle is seen
                _write(out, chunk, target)
                done += len(chunk)
                _report(progress, done, total, name)
                _check_cancel(should_cancel)
                _check_pace(done, time.monotonic() - started)
    except urllib.error.HTTPError as exc:
        raise _MirrorFailed(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise _MirrorFailed(_describe_network_error(exc.reason, timeout)) from None
    except http.client.IncompleteRead as exc:
        raise _MirrorFailed(_cut_short(done, total)) from None  # exc.partial: framing, counted bytes are in done
    except (OSError, http.client.HTTPException) as exc:
        raise _MirrorFailed(_describe_network_error(exc, timeout)) from None
    except ValueError as exc:  # urlopen's answer to a malformed address
        raise _MirrorFailed(f"not a usable address ({exc})") from None
    if total is not None and done != total:
        raise _MirrorFailed(_cut_short(done, total))


def _check_pace(done: int, elapsed: float) -> None:
    """_MirrorFailed when the file is taking too long overall or arriving too slowly."""
    if elapsed > DEADLINE_S:
        raise _MirrorFailed(f"cut off after {DEADLINE_S:g} s with only {done:,} bytes received (too slow)")
    if elapsed > RATE_GRACE_S and done / elapsed < MIN_RATE:
        raise _MirrorFailed(f"cut off after {elapsed:.0f} s: {done / elapsed:,.0f} bytes/s, below the "
                            f"{MIN_RATE:,} bytes/s needed (too slow)")


def _cut_short(done: int, total: int | None) -> str:
    of_total = f" of {total:,}" if total is not None else ""
    return f"connection closed after {done:,}{of_total} bytes"


def _content_length(response) -> int | None:
    try:
        return int(response.headers["Content-Length"])
    except (TypeError, ValueError):
        return None


def _write(out, chunk: bytes, target: Path) -> None:
    try:
        out.write(chunk)
    except OSError as exc:  # our disk, not the mirror: trying another mirror will not help
        raise _cannot_save(target, exc) from None


def _move(temp: str, target: Path) -> None:
    try:
        os.replace(temp, target)
    except OSError as exc:
        raise _cannot_save(target, exc) from None


def _cannot_save(target: Path, exc: OSError) -> DataError:
    return DataError(f"Cannot save {target.name} in {target.parent}: {exc.strerror or exc}.")


def _describe_network_error(reason, timeout) -> str:
    if isinstance(reason, TimeoutError):
        return f"no answer within {timeout} s"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, ConnectionError):
        return f"connection lost ({reason})"
    return f"network error ({reason})"


def _report(progress, done: int, total: int | None, name: str) -> None:
    if progress is not None:
        progress(done, total, name)


def _check_cancel(should_cancel) -> None:
    if should_cancel is not None and should_cancel():
        raise DownloadCancelled("The MNIST download was cancelled; no partial file was kept.")


def _safe_sha256(path: Path) -> str | None:
    """SHA-256 of the decompressed content, or a _MirrorFailed saying why there is none."""
    try:
        return _decompressed_sha256(path)
    except EOFError:
        raise _MirrorFailed("the file is truncated (incomplete gzip data)") from None
    except (OSError, zlib.error) as exc:
        raise _MirrorFailed(f"not a valid gzip file ({exc})") from None


def _decompressed_sha256(path: Path) -> str:
    digest, seen = hashlib.sha256(), 0
    try:
        raw = open_regular(path)      # a named pipe in the cache would block for ever
    except FileRejected as rejected:
        raise _MirrorFailed(f"{path.name}: {rejected.reason}") from None
    with raw, gzip.GzipFile(fileobj=raw, mode="rb") as stream:
        while chunk := stream.read(CHUNK_BYTES * 16):
            seen += len(chunk)
            if seen > MAX_DECOMPRESSED_BYTES:
                raise _MirrorFailed(f"decompresses to more than {MAX_DECOMPRESSED_BYTES:,} bytes; not an MNIST file")
            digest.update(chunk)
    return digest.hexdigest()


def _remove_quietly(path) -> None:
    try:
        os.remove(path)
    except OSError:  # already gone, or we cannot: never hide the error that brought us here
        pass

"""Opening files a user (or an attacker) can choose: regular files only, archives checked before reading.

- `open_regular(path)` opens a path for reading only when it is a regular file. A named pipe
  would block the open (and then every read) for ever, and a device such as /dev/zero could
  be read until memory runs out, so the path is looked at first (os.stat) and opened with
  O_NONBLOCK; the open file is checked again (os.fstat), so a file swapped in between is caught.
- `NpzArchive` reads an .npz (a zip of .npy arrays) member by member: every member must be a
  well-formed .npy array of an allowed dtype, and the size its header declares counts towards
  a total that is checked before any array data is read. Reading an array then allocates
  exactly what its header declared, never more.

Both raise FileRejected with a short reason ("it is a named pipe, not a file") that the
caller puts into its own message naming the file and what to do, and a Rejection saying what
kind of problem it is, for callers that answer some kinds in their own words.
"""
import enum
import errno
import math
import os
import stat
import zipfile

import numpy as np

ZIP_MAGIC = b"PK\x03\x04"          # every archive np.savez writes starts with a zip entry header
MAX_MEMBERS = 64                   # far above any digitpad file (a model has 4 arrays)
MAX_HEADER_BYTES = 4096            # an .npy header describing one array; numpy's own writer uses 128
NPY_VERSIONS = ((1, 0), (2, 0))


class Rejection(enum.Enum):
    """What kind of problem a FileRejected is: callers match this, never the reason's words."""

    MISSING = "there is nothing at the path"
    FOLDER = "a folder is at the path"
    SPECIAL = "a named pipe, socket, device or other special file is at the path"
    REFUSED = "the system refused to open it (permissions, a path too long...)"
    NOT_AN_ARCHIVE = "it is empty, or does not start as an .npz archive does"
    UNFIT = "an archive, but damaged, too large or holding what digitpad never reads"


class FileRejected(Exception):
    """A file that is not what digitpad can safely read; str() is a short reason (no file name),
    .kind the Rejection."""

    def __init__(self, reason: str, kind: Rejection = Rejection.UNFIT):
        super().__init__(reason)
        self.reason = reason
        self.kind = kind

    @property
    def missing(self) -> bool:
        """True when there is nothing at the path."""
        return self.kind is Rejection.MISSING


def open_regular(path):
    """A binary reader for `path`, only if it is a regular file; FileRejected otherwise."""
    try:
        _refuse_unless_regular(os.stat(path).st_mode)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
                     | getattr(os, "O_BINARY", 0))
    except OSError as error:
        raise FileRejected(os_reason(error), _OS_REJECTIONS.get(error.errno, Rejection.REFUSED)) from None
    try:
        _refuse_unless_regular(os.fstat(fd).st_mode)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


_OS_REJECTIONS = {errno.ENOENT: Rejection.MISSING, errno.EISDIR: Rejection.FOLDER}


def _refuse_unless_regular(mode: int) -> None:
    """FileRejected (FOLDER or SPECIAL) unless `mode` is a regular file's."""
    kind = _kind(mode)
    if kind:
        raise FileRejected(f"it is {kind}, not a file", Rejection.FOLDER if stat.S_ISDIR(mode) else Rejection.SPECIAL)


def _kind(mode: int) -> str | None:
    """None for a regular file, else what the path is, as words."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def os_reason(error: OSError) -> str:
    """Why the system refused, in words a user can act on."""
    reasons = {
        errno.ENOENT: "there is no such file",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENAMETOOLONG: "a part of its path is longer than the system allows",
        errno.ENOTDIR: "a part of its path is a file, not a folder",
        errno.ELOOP: "its path loops through symbolic links",
        errno.EISDIR: "it is a folder, not a file",
    }
    return reasons.get(error.errno, error.strerror or str(error))


def path_problem(path) -> str | None:
    """None when `path` can be looked at (it may be absent); else why not (unreadable folder, too long)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None            # a parent is a file: the path is simply absent
    except OSError as error:
        return os_reason(error)
    return None


def shown_path(path, longest: int = 48) -> str:
    """`path` for a message, each component longer than `longest` cut in the middle ("abc…xyz"),
    so that a name longer than the system allows still fits in a line of text."""
    parts = []
    for part in str(path).split(os.sep):
        parts.append(part if len(part) <= longest else f"{part[:longest // 2]}…{part[-(longest // 4):]}")
    return os.sep.join(parts)


class Member:
    """One array of an archive as its .npy header describes it."""

    def __init__(self, info, shape, dtype, header_bytes):
        self.info = info
        self.header_bytes = header_bytes
        self.shape = shape
        self.dtype = dtype
        self.nbytes = math.prod(shape) * dtype.itemsize


class NpzArchive:
    """An .npz whose members were all checked from their headers; `members` maps name -> Member.

        with NpzArchive(path, max_file_bytes, max_total_bytes, allowed) as archive:
            archive.members["images"].shape      # known before reading
            images = archive.read("images")
    """

    def __init__(self, path, *, max_file_bytes: int, max_total_bytes: int, allowed_dtypes):
        self.path = path
        self._stream = open_regular(path)
        try:
            self._zip = self._open_zip(max_file_bytes)
            self.members = self._check_members(max_total_bytes, {np.dtype(d) for d in allowed_dtypes})
        except FileRejected:
            self._stream.close()
            raise
        except Exception as error:  # zipfile, zlib, struct and numpy each fail their own way on damage
            self._stream.close()
            raise FileRejected(f"it is damaged ({_describe(error)})") from None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        self._stream.close()

    def read(self, name: str) -> np.ndarray:
        """The array `name`, read with pickles refused; exactly as large as its checked header said."""
        member = self.members[name]
        try:
            with self._zip.open(member.info) as stream:
                array = np.lib.format.read_array(stream, allow_pickle=False)
        except Exception as error:  # a damaged member fails in zlib, zipfile's CRC check, numpy...
            raise FileRejected(f"its array {name} is damaged ({_describe(error)})") from None
        if array.shape != member.shape or array.dtype != member.dtype:
            raise FileRejected(f"its array {name} is damaged (it is not what its header says)")
        return array

    def _open_zip(self, max_file_bytes: int):
        size = os.fstat(self._stream.fileno()).st_size
        start = self._stream.read(len(ZIP_MAGIC))
        self._stream.seek(0)
        if not start:
            raise FileRejected("it is empty", Rejection.NOT_AN_ARCHIVE)
        if start != ZIP_MAGIC:
            raise FileRejected("it is not an .npz archive", Rejection.NOT_AN_ARCHIVE)
        if size > max_file_bytes:
            raise FileRejected(f"it is {size / 1e6:,.1f} MB, far larger than such a file can be "
                               f"(at most {max_file_bytes / 1e6:,.0f} MB)")
        try:
            archive = zipfile.ZipFile(self._stream)
        except zipfile.BadZipFile:
            raise FileRejected("it is damaged: its zip table of contents cannot be read") from None
        if len(archive.infolist()) > MAX_MEMBERS:
            raise FileRejected(f"it holds {len(archive.infolist()):,} members; such a file holds a few arrays")
        return archive

    def _check_members(self, max_total_bytes: int, allowed) -> dict:
        members, total = {}, 0
        for info in self._zip.infolist():
            name = info.filename[:-4] if info.filename.endswith(".npy") else None
            if not name:
                raise FileRejected(f"its member {info.filename!r} is not an array")
            if name in members:
                raise FileRejected(f"it holds two arrays named {name}")
            member = self._check_header(info, name, allowed)
            total += member.nbytes
            if total > max_total_bytes:
                raise FileRejected(f"its arrays declare more than {max_total_bytes / 1e6:,.0f} MB, "
                                   "far more than such a file holds")
            if info.file_size != member.header_bytes + member.nbytes:
                raise FileRejected(f"its array {name} is damaged (its size does not match its header)")
            members[name] = member
        return members

    def _check_header(self, info, name: str, allowed) -> Member:
        """Read only the member's .npy magic and header: shape and dtype, no data."""
        with self._zip.open(info) as stream:
            try:
                version = np.lib.format.read_magic(stream)
            except ValueError:
                raise FileRejected(f"its member {name} is not a NumPy array") from None
            if version not in NPY_VERSIONS:
                raise FileRejected(f"its member {name} uses .npy format {version}, which digitpad does not read")
            reader = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                      else np.lib.format.read_array_header_2_0)
            try:
                shape, _, dtype = reader(stream, max_header_size=MAX_HEADER_BYTES)
            except Exception as error:  # numpy parses the header text with tokenize and ast
                raise FileRejected(f"its member {name} has a damaged array header ({_describe(error)})") from None
            header_end = stream.tell()
        if dtype.hasobject:
            raise FileRejected(f"its array {name} holds pickled Python objects, which digitpad never loads")
        if dtype.fields is not None or dtype.subdtype is not None \
                or dtype.newbyteorder("=") not in allowed:
            raise FileRejected(f"its array {name} holds {dtype} values, which such a file never holds")
        return Member(info, tuple(int(d) for d in shape), dtype, header_end)


def _describe(error: BaseException) -> str:
    text = str(error).strip().rstrip(".")
    return f"{type(error).__name__}: {text}"[:160] if text else type(error).__name__

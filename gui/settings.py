"""Where the app keeps its preferences (window geometry, pen width, hyperparameters).

Settings never stop the app from starting. Every value is clamped on read, whatever type or
size the file holds (`read_int`, `read_float`, `read_str`). A settings file that is damaged
(not a regular file, far too large, not text, or unparsable) and a settings folder that is a
file are set aside: renamed to "<name>.damaged-<YYYYmmdd-HHMMSS>", never deleted. The app
then starts with the defaults, and `take_settings_notice()` hands the window one sentence
saying what happened, once.
"""
import math
import os
import stat
import sys
import time
from pathlib import Path

from PySide6.QtCore import QSettings

from core.safefile import FileRejected, open_regular, os_reason, shown_path

ORGANIZATION = "digitpad"
APPLICATION = "digitpad"
FILE_NAME = "digitpad.ini"
MAX_SETTINGS_BYTES = 256 * 1024          # digitpad writes about 2 kB
INT_RANGE = (-2**31, 2**31 - 1)          # what a Qt widget's int can hold
FLOAT_LIMIT = 1e300

_notice: str | None = None               # what the user is told once, at the next window start


def make_settings() -> QSettings:
    """The app's QSettings; an INI file in $DIGITPAD_SETTINGS_DIR when that is set (tests, portable use)."""
    global _notice
    folder = os.environ.get("DIGITPAD_SETTINGS_DIR")
    if folder:
        _notice = _prepare_folder(Path(folder))
        path = Path(folder) / FILE_NAME
    else:
        settings = QSettings(ORGANIZATION, APPLICATION)
        if sys.platform in ("win32", "darwin"):   # the registry / a plist: Qt's own checks suffice
            return settings
        path = Path(settings.fileName())
        _notice = _prepare_folder(path.parent)
    _notice = _notice or _set_aside_if_damaged(path)
    settings = QSettings(str(path), QSettings.Format.IniFormat)
    if settings.status() == QSettings.Status.FormatError:     # Qt itself could not parse it
        _notice = _set_aside(path, "could not be read")
        settings = QSettings(str(path), QSettings.Format.IniFormat)
    return settings


def take_settings_notice() -> str | None:
    """One sentence about settings that were set aside at start-up, or None; given only once."""
    global _notice
    notice, _notice = _notice, None
    return notice


def _prepare_folder(folder: Path) -> str | None:
    """Make the settings folder; a file in its place is set aside. A message when anything was done."""
    try:
        notice = None
        if folder.exists() and not folder.is_dir():
            notice = _set_aside(folder, "is a file, not a folder", what="settings folder")
        folder.mkdir(parents=True, exist_ok=True)
        return notice
    except OSError as error:
        return (f"The settings folder {shown_path(folder)} cannot be used ({os_reason(error)}), so settings will not be "
                "kept this time; fix the folder or set DIGITPAD_SETTINGS_DIR to another one.")


def _set_aside_if_damaged(path: Path) -> str | None:
    problem = _file_problem(path)
    return _set_aside(path, problem) if problem else None


def _file_problem(path: Path) -> str | None:
    """Why the settings file cannot be a settings file digitpad wrote, or None (also when absent)."""
    try:
        info = path.stat()                            # through a symbolic link: its target is what Qt reads
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"cannot be looked at ({os_reason(error)})"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file"
    if info.st_size > MAX_SETTINGS_BYTES:
        return f"is {info.st_size:,} bytes, far larger than digitpad's settings"
    try:
        with open_regular(path) as stream:
            text = stream.read(MAX_SETTINGS_BYTES + 1)
        if b"\0" in text:
            return "is not text"
        text.decode("utf-8")
    except UnicodeDecodeError:
        return "is not UTF-8 text"
    except FileRejected as rejected:
        return f"cannot be read ({rejected.reason})"
    return None


def _set_aside(path: Path, problem: str, what: str = "settings file") -> str | None:
    """Rename `path` to <name>.damaged-<stamp>; the sentence to tell the user."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    suffix = 1
    while os.path.lexists(target):
        suffix += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{suffix}")
    try:
        os.replace(path, target)
    except FileNotFoundError:
        return None
    except OSError as error:
        return (f"The {what} {path} {problem} and could not be moved aside ({os_reason(error)}), so digitpad "
                "starts with its default settings; move it away to have your settings kept.")
    return (f"The {what} {path} {problem}, so digitpad starts with its default settings; "
            f"the old one was kept as {target.name}.")


def read_int(settings: QSettings, key: str, default: int, low: int = INT_RANGE[0], high: int = INT_RANGE[1]) -> int:
    """An int setting within low..high; `default` when missing or unreadable (INI files store text)."""
    try:
        value = settings.value(key, default)
        if isinstance(value, str):
            value = value.strip()
            value = float(value) if any(c in value for c in ".eEnN") else int(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                return default
            value = round(value)
        if not isinstance(value, int):
            return default
    except (TypeError, ValueError, OverflowError):
        return default
    return min(max(int(value), low), high)


def read_float(settings: QSettings, key: str, default: float,
               low: float = -FLOAT_LIMIT, high: float = FLOAT_LIMIT) -> float:
    """A finite float setting within low..high; `default` when missing, unreadable or not finite."""
    try:
        value = settings.value(key, default)
        if isinstance(value, str):
            value = value.strip()
        value = float(value)
    except (TypeError, ValueError, OverflowError):
        return default
    if not math.isfinite(value):
        return default
    return min(max(value, low), high)


def read_str(settings: QSettings, key: str, default: str, max_length: int = 4096) -> str:
    try:
        value = settings.value(key, default)
    except (TypeError, ValueError):
        return default
    return value if isinstance(value, str) and len(value) <= max_length else default

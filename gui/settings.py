"""Where the app keeps its preferences (window geometry, pen width, hyperparameters)."""
import os
from pathlib import Path

from PySide6.QtCore import QSettings

ORGANIZATION = "digitpad"
APPLICATION = "digitpad"


def make_settings() -> QSettings:
    """The app's QSettings; an INI file in $DIGITPAD_SETTINGS_DIR when that is set (tests, portable use)."""
    folder = os.environ.get("DIGITPAD_SETTINGS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return QSettings(str(Path(folder) / "digitpad.ini"), QSettings.Format.IniFormat)
    return QSettings(ORGANIZATION, APPLICATION)


def read_int(settings: QSettings, key: str, default: int) -> int:
    """An int setting, falling back to `default` when missing or unreadable (INI files store text)."""
    try:
        return int(settings.value(key, default))
    except (TypeError, ValueError):
        return default


def read_float(settings: QSettings, key: str, default: float) -> float:
    """A float setting, falling back to `default` when missing or unreadable."""
    try:
        return float(settings.value(key, default))
    except (TypeError, ValueError):
        return default


def read_str(settings: QSettings, key: str, default: str) -> str:
    value = settings.value(key, default)
    return value if isinstance(value, str) else default

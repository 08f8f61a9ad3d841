"""Where digitpad keeps files: the bundled assets (the `assets` package), the user's cache and data folders.

DIGITPAD_CACHE_DIR and DIGITPAD_USER_DIR override the platform folders (tests use them).
"""
import importlib.resources
import os
from pathlib import Path

import platformdirs

PROJECT_ROOT = Path(__file__).resolve().parent.parent   # the checkout; site-packages when installed


def _assets_dir() -> Path:
    """The `assets` package ships inside the wheel (package data), so it is found wherever digitpad
    is installed, not only next to a checkout. Its files are plain files on disk in both cases."""
    try:
        return Path(str(importlib.resources.files("assets")))
    except ModuleNotFoundError:   # an editable install made before `assets` became a package
        return PROJECT_ROOT / "assets"


ASSETS_DIR = _assets_dir()
PRETRAINED_MODEL = ASSETS_DIR / "model.npz"
# Full MNIST where the developers keep it, beside the checkout: the default of the tests, the
# benchmarks and `make model` (the app and digitpad-train never look here).
DEV_MNIST_DIR = PROJECT_ROOT.parent / "shared" / "mnist"


def cache_dir() -> Path:
    """Folder for downloaded MNIST files."""
    override = os.environ.get("DIGITPAD_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir("digitpad"))


def user_data_dir() -> Path:
    """Folder for the user's own things: their handwriting samples."""
    override = os.environ.get("DIGITPAD_USER_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir("digitpad"))

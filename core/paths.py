"""Where digitpad keeps files: the bundled assets, the user's cache and data folders.

DIGITPAD_CACHE_DIR and DIGITPAD_USER_DIR override the platform folders (tests use them).
"""
import os
from pathlib import Path

import platformdirs

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = PROJECT_ROOT / "assets"
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

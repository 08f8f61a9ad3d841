"""core.paths: the bundled assets folder is the `assets` package's, wherever digitpad is installed."""
import importlib.resources
from pathlib import Path

import assets
from core import paths


def test_assets_are_found_through_the_package_not_beside_the_checkout(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "PROJECT_ROOT", tmp_path)  # as when installed: no checkout around
    found = paths._assets_dir()
    assert found == Path(assets.__file__).parent
    assert (found / "model.npz").is_file()


def test_an_install_without_the_assets_package_looks_beside_the_checkout(monkeypatch):
    def no_package(name):
        raise ModuleNotFoundError(f"No module named {name!r}")

    monkeypatch.setattr(importlib.resources, "files", no_package)
    checkout = Path(paths.__file__).resolve().parent.parent
    assert paths._assets_dir() == checkout / "assets"


def test_an_empty_override_means_the_platform_folders(monkeypatch):
    import platformdirs

    monkeypatch.setenv("DIGITPAD_USER_DIR", "")      # set but empty, e.g. `DIGITPAD_USER_DIR= digitpad`
    monkeypatch.setenv("DIGITPAD_CACHE_DIR", "")
    assert paths.user_data_dir() == Path(platformdirs.user_data_dir("digitpad"))
    assert paths.cache_dir() == Path(platformdirs.user_cache_dir("digitpad"))
    assert paths.user_data_dir() != paths.cache_dir()

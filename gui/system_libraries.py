"""Before Qt starts: are the system libraries its X11 (xcb) platform plugin needs installed?

Without them Qt aborts with a generic hint (it names libxcb-cursor0 even when others are the ones
missing). This module, free of Qt, tries to load each library the way the plugin would (dlopen by
its soname) and names the missing ones with the Debian/Ubuntu package that provides each.
"""
import ctypes
import os
import sys

# soname -> Debian/Ubuntu package, from `readelf -d` of PySide6 6.11's libQt6Gui, libQt6XcbQpa and
# plugins/platforms/libqxcb.so (the libraries that do not ship inside the PySide6 wheel).
QT_GUI_LIBRARIES = {
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11.so.6": "libx11-6",
}
XCB_PLUGIN_LIBRARIES = {
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}


def can_load(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def uses_xcb(environ) -> bool:
    """Whether Qt will start its X11 plugin: asked for, or left to choose outside a Wayland session."""
    platform = environ.get("QT_QPA_PLATFORM", "").strip()
    if platform:
        return platform.split(";")[0].split(":")[0] == "xcb"
    return not (environ.get("WAYLAND_DISPLAY") and environ.get("XDG_SESSION_TYPE") == "wayland")


def missing_libraries(environ=None, load=None) -> dict[str, str]:
    """{soname: package} of the libraries Qt needs here that cannot be loaded (Linux only)."""
    environ = os.environ if environ is None else environ
    load = can_load if load is None else load
    if not sys.platform.startswith("linux"):
        return {}
    needed = dict(QT_GUI_LIBRARIES)
    if uses_xcb(environ):
        needed.update(XCB_PLUGIN_LIBRARIES)
    return {soname: package for soname, package in needed.items() if not load(soname)}


def display_problem(environ=None) -> str | None:
    """Why Qt's X11 plugin would find no screen (no DISPLAY, no Wayland), or None."""
    environ = os.environ if environ is None else environ
    if not sys.platform.startswith("linux") or not uses_xcb(environ):
        return None
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    return ("digitpad cannot open its window: there is no display (DISPLAY is not set). Run it in a desktop "
            "session, or over ssh with X forwarding (ssh -X); QT_QPA_PLATFORM=offscreen runs it without a screen.")


def explain(missing: dict[str, str]) -> str:
    """What to tell the user: which files are missing and the command that installs them."""
    packages = sorted(set(missing.values()))
    renamed = ("On Ubuntu 24.04 and later, libglib2.0-0 is called libglib2.0-0t64. "
               if "libglib2.0-0" in packages else "")
    return (f"digitpad cannot start its window: Qt needs system libraries that are not installed "
            f"({', '.join(missing)}).\n"
            f"On Debian or Ubuntu install them with:\n\n    sudo apt-get install {' '.join(packages)}\n\n"
            f"{renamed}On other systems, install the packages that provide these files.")

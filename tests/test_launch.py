"""Starting the app: missing system libraries are named with their packages before Qt can abort."""
import os
import subprocess
import sys

import pytest

from gui import launch
from gui.system_libraries import (
    QT_GUI_LIBRARIES, XCB_PLUGIN_LIBRARIES, display_problem, explain, missing_libraries, uses_xcb,
)

X11_SESSION = {"DISPLAY": ":0"}


def loader_without(*absent):
    return lambda soname: soname not in absent


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the check is for Linux's X11 plugin")
def test_names_exactly_the_libraries_that_cannot_be_loaded():
    missing = missing_libraries(X11_SESSION, load=loader_without("libxcb-icccm.so.4", "libxcb-keysyms.so.1"))
    assert missing == {"libxcb-icccm.so.4": "libxcb-icccm4", "libxcb-keysyms.so.1": "libxcb-keysyms1"}
    message = explain(missing)
    assert "libxcb-icccm.so.4" in message and "libxcb-keysyms.so.1" in message
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1\n" in message
    assert "libxcb-cursor0" not in message


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the check is for Linux's X11 plugin")
def test_the_x11_libraries_matter_only_when_qt_uses_x11():
    nothing = loader_without(*QT_GUI_LIBRARIES, *XCB_PLUGIN_LIBRARIES)
    offscreen = missing_libraries({"QT_QPA_PLATFORM": "offscreen"}, load=nothing)
    assert set(offscreen) == set(QT_GUI_LIBRARIES)
    assert set(missing_libraries(X11_SESSION, load=nothing)) == set(QT_GUI_LIBRARIES) | set(XCB_PLUGIN_LIBRARIES)
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb"}) and uses_xcb({})
    assert not uses_xcb({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"})
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb:display=:1"})


def test_every_library_the_check_knows_is_installed_here():
    """This machine runs the GUI tests, so it has them all: the check must not cry wolf."""
    assert missing_libraries({"DISPLAY": ":0"}) == {}


def test_digitpad_stops_with_the_message_instead_of_starting_qt(monkeypatch, capsys):
    monkeypatch.setattr("gui.system_libraries.can_load", loader_without("libxcb-icccm.so.4"))
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    started = []
    monkeypatch.setattr("gui.app.main", lambda argv: started.append(argv) or 0)
    assert launch.main([]) == launch.EXIT_CANNOT_START
    assert started == []
    assert "sudo apt-get install libxcb-icccm4" in capsys.readouterr().err


def test_qt_arguments_pass_through_to_the_app(monkeypatch):
    started = []
    monkeypatch.setattr("gui.app.main", lambda argv: started.append(argv) or 0)
    assert launch.main(["-style", "fusion"]) == 0
    assert started[0][1:] == ["-style", "fusion"]


def test_the_launcher_does_not_import_qt():
    code = "import sys, gui.launch, gui.system_libraries; print(any(m.startswith('PySide6') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def apt_packages(text: str) -> set[str]:
    """The packages of the `apt-get install` command in a README or shell script."""
    command = text.split("apt-get install", 1)[1].replace("\\\n", " ").split("\n", 1)[0]
    return {word for word in command.split() if not word.startswith(("-", ">"))}


@pytest.mark.parametrize("document", ["README.md", ".ci/run"])
def test_the_install_commands_list_every_library_the_check_knows(document):
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / document).read_text()
    needed = set(QT_GUI_LIBRARIES.values()) | set(XCB_PLUGIN_LIBRARIES.values())
    assert needed <= apt_packages(text)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 and Wayland are Linux's")
def test_no_display_is_said_plainly():
    assert "DISPLAY is not set" in display_problem({})
    assert display_problem({"DISPLAY": ":0"}) is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}) is None
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}) is None


def test_digitpad_without_a_display_stops_with_one_message():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "-m", "gui"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == launch.EXIT_CANNOT_START
    assert "there is no display" in result.stderr and "Traceback" not in result.stderr


def test_the_ubuntu_rename_is_mentioned_only_when_glib_is_missing():
    assert "libglib2.0-0t64" not in explain({"libxcb-icccm.so.4": "libxcb-icccm4"})
    assert "libglib2.0-0t64" in explain({"libglib-2.0.so.0": "libglib2.0-0"})


def test_start_up_objects_are_frozen_out_of_the_collectors_full_passes():
    import gc

    from gui.app import freeze_startup_objects

    survivor = [["made before"]]                        # a start-up object: tracked until frozen
    assert gc.is_tracked(survivor)
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() > 1000
        assert not any(obj is survivor for obj in gc.get_objects())     # no generation walks it any more
    finally:
        gc.unfreeze()


def test_the_gui_process_does_its_numpy_work_on_one_blas_thread(qapp):
    from threadpoolctl import ThreadpoolController

    from gui.app import make_app

    controller = ThreadpoolController()
    if not controller.select(user_api="blas").lib_controllers:
        pytest.skip("NumPy here has no BLAS library threadpoolctl can see")
    with controller.limit(limits=2, user_api="blas"):          # as a 2-core machine starts; restored after
        make_app()
        assert [lib.num_threads for lib in ThreadpoolController().select(user_api="blas").lib_controllers] == \
            [1] * len(controller.select(user_api="blas").lib_controllers)

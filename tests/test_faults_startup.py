"""The app always starts: a hostile handwriting file, a damaged or absurd settings file, a settings
location that is a file, data and cache folders that cannot be used. The window opens, says
what happened once, works with defaults, and every file it could not use is kept (set aside by
renaming, never deleted).
"""
import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_faults_files import BAD_SAMPLE_ARCHIVES, write_zip

from core import userdata
from gui import settings as gui_settings
from gui.panels.training_panel import TrainingPanel
from gui.views.canvas import PEN_WIDTH_RANGE
from gui_fixtures import open_window, pretrained, warnings  # noqa: F401 (fixtures)
from simulate import DIGIT_THREE, drag_stroke

pytestmark = pytest.mark.faults


def settings_file() -> Path:
    return Path(os.environ["DIGITPAD_SETTINGS_DIR"]) / gui_settings.FILE_NAME


def user_file() -> Path:
    return Path(os.environ["DIGITPAD_USER_DIR"]) / userdata.FILE_NAME


def set_aside_copies(path: Path, marker: str):
    return sorted(path.parent.glob(f"{path.name}.{marker}-*"))


def assert_no_sideways_scrolling(qtbot, window):
    """The 300-character name is shown shortened: the tab's page still fits 1280 pixels across."""
    assert window.width() <= 1280
    page = window.tabs.currentWidget()
    qtbot.wait(50)                                        # let the layout settle
    assert not page.horizontalScrollBar().isVisible()


def still_works(qtbot, window):
    drag_stroke(window.canvas, DIGIT_THREE)
    assert window.prediction() is not None


# ---- the handwriting file ------------------------------------------------------------------------

@pytest.mark.keeps_data
@pytest.mark.parametrize("case", BAD_SAMPLE_ARCHIVES)
def test_the_window_opens_past_a_hostile_handwriting_file_and_keeps_it(qtbot, pretrained, warnings, case):
    members, words = BAD_SAMPLE_ARCHIVES[case]
    user_file().parent.mkdir(parents=True)
    path = write_zip(user_file(), members)
    before = path.read_bytes()
    window = open_window(qtbot)
    problem = window.teach_panel.problem
    assert not problem.isHidden() and words in problem.text() and str(path) in problem.text()
    still_works(qtbot, window)
    assert window.teach_panel.add_current(4)                  # the first sample sets the bad file aside
    kept = set_aside_copies(path, "corrupt")
    assert len(kept) == 1 and kept[0].read_bytes() == before
    assert userdata.PersonalDataset().labels.tolist() == [4]
    assert warnings == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_the_window_opens_when_the_handwriting_file_is_a_named_pipe(qtbot, pretrained, warnings):
    user_file().parent.mkdir(parents=True)
    os.mkfifo(user_file())
    window = open_window(qtbot)                               # a blocking open would hang here for ever
    assert "named pipe, not a file" in window.teach_panel.problem.text()
    still_works(qtbot, window)


def test_the_window_opens_when_the_handwriting_folder_name_is_too_long(qtbot, pretrained, warnings, monkeypatch,
                                                                       tmp_path):
    monkeypatch.setenv("DIGITPAD_USER_DIR", str(tmp_path / ("u" * 300)))
    window = open_window(qtbot)
    assert "longer than the system allows" in window.teach_panel.problem.text()
    window.tabs.setCurrentIndex(2)
    assert_no_sideways_scrolling(qtbot, window)
    still_works(qtbot, window)


# ---- settings ------------------------------------------------------------------------------------

ABSURD_VALUES = """[training]
epochs=99999999999999999999999999999999
batch_size=1e999
learning_rate=nan
train_size=-70000000000000000000
augment=@Variant(\\0\\0\\0\\x7f\\0\\0\\0\\x3junk)
source=\\xff\\xfe
[canvas]
pen_width=-9999999999999999999999
[teach]
mix_into_training=inf
[window]
geometry=@ByteArray(not a geometry)
main_splitter=12
[model]
folder=@Variant(\\0\\0\\0\\x7f)
"""


def test_absurd_setting_values_are_clamped_and_the_window_opens(qtbot, pretrained, warnings):
    settings_file().parent.mkdir(parents=True)
    settings_file().write_text(ABSURD_VALUES)
    window = open_window(qtbot)
    panel = window.training_panel
    assert panel.epochs_spin.value() == panel.epochs_spin.maximum()     # huge: clamped to the largest
    assert panel.batch_spin.value() == 64 and panel.lr_spin.value() == pytest.approx(0.02)   # unreadable: defaults
    assert panel.size_spin.value() == panel.size_spin.minimum()
    assert window.canvas.pen_width() == PEN_WIDTH_RANGE[0]
    assert panel.source() == "sample"
    still_works(qtbot, window)
    window.close()                                                     # and they are written back sane
    assert "99999" not in settings_file().read_text()


DAMAGED_SETTINGS = {
    "binary with NUL bytes": lambda path: path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10),
    "not UTF-8": lambda path: path.write_bytes(b"[training]\nepochs=\xff\xfe\xfd\n"),
    "far too large": lambda path: path.write_bytes(b"[training]\nepochs=3\n" + b"; padding\n" * 40_000),
    "a folder": lambda path: path.mkdir(),
}


@pytest.mark.keeps_data
@pytest.mark.parametrize("case", DAMAGED_SETTINGS)
def test_a_damaged_settings_file_is_set_aside_the_user_told_once_and_defaults_used(qtbot, pretrained, warnings,
                                                                                    case):
    path = settings_file()
    path.parent.mkdir(parents=True)
    DAMAGED_SETTINGS[case](path)
    before = path.read_bytes() if path.is_file() else None
    window = open_window(qtbot)
    message = window.statusBar().currentMessage()
    kept = set_aside_copies(path, "damaged")
    assert len(kept) == 1 and kept[0].name in message and str(path) in message and "default settings" in message
    assert before is None or kept[0].read_bytes() == before
    assert window.training_panel.epochs_spin.value() == 3
    still_works(qtbot, window)
    window.close()
    again = open_window(qtbot)                                         # told once: the next start is quiet
    assert "settings" not in again.statusBar().currentMessage()
    assert set_aside_copies(path, "damaged") == kept


@pytest.mark.keeps_data
def test_a_settings_location_that_is_a_file_is_set_aside(qtbot, pretrained, warnings):
    location = Path(os.environ["DIGITPAD_SETTINGS_DIR"])
    location.write_bytes(b"someone's file")
    window = open_window(qtbot)
    kept = set_aside_copies(location, "damaged")
    assert len(kept) == 1 and kept[0].read_bytes() == b"someone's file"
    assert "is a file, not a folder" in window.statusBar().currentMessage()
    window.close()
    assert settings_file().is_file()                                   # settings are kept again


def test_a_settings_folder_name_too_long_still_opens_the_window(qtbot, pretrained, warnings, monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITPAD_SETTINGS_DIR", str(tmp_path / ("s" * 300)))
    window = open_window(qtbot)
    assert "longer than the system allows" in window.statusBar().currentMessage()
    still_works(qtbot, window)
    window.close()


# ---- data and cache folders ----------------------------------------------------------------------

def test_a_cache_folder_name_too_long_still_opens_the_window_and_says_why(qtbot, pretrained, warnings, monkeypatch,
                                                                          tmp_path):
    monkeypatch.setenv("DIGITPAD_CACHE_DIR", str(tmp_path / ("c" * 300)))
    window = open_window(qtbot)
    assert "longer than the system allows" in window.training_panel.download_label.text()
    assert_no_sideways_scrolling(qtbot, window)
    still_works(qtbot, window)


def test_a_data_folder_that_cannot_be_entered_still_opens_the_window_and_says_why(qtbot, pretrained, warnings,
                                                                                  monkeypatch, tmp_path):
    """Tests run as root, who enters any folder: the refusal is the one os.stat would raise."""
    data = tmp_path / "mnist"
    data.mkdir()
    monkeypatch.setenv("DIGITPAD_DATA_DIR", str(data))
    real_stat = os.stat

    def denied(path, *args, **kwargs):
        if str(path).startswith(str(data) + os.sep):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr("core.safefile.os.stat", denied)
    window = open_window(qtbot)
    label = window.training_panel.download_label
    assert "permission denied" in label.text() and str(data) in label.text()     # the one line shown
    assert "DIGITPAD_DATA_DIR" in label.toolTip()                                # the remedy, on Details
    still_works(qtbot, window)


# ---- fuzzing the settings file -------------------------------------------------------------------

KEYS = ("training/epochs", "training/batch_size", "training/learning_rate", "training/train_size",
        "training/augment", "training/source", "canvas/pen_width", "teach/mix_into_training")


@pytest.fixture(scope="module")
def panel(qapp):
    """One panel for every example (building one takes a while); deleted while Qt still runs."""
    widget = TrainingPanel()
    yield widget
    widget.deleteLater()
    qapp.processEvents()


def load_everything(panel):
    """What the window reads at start-up, with the same readers; every value must land in range."""
    gui_settings.take_settings_notice()
    settings = gui_settings.make_settings()
    panel.load_settings(settings)
    for spin in (panel.epochs_spin, panel.batch_spin, panel.lr_spin, panel.size_spin):
        assert spin.minimum() <= spin.value() <= spin.maximum()
    pen = gui_settings.read_int(settings, "canvas/pen_width", 12)
    mix = gui_settings.read_int(settings, "teach/mix_into_training", 0)
    lr = gui_settings.read_float(settings, "training/learning_rate", 0.02)
    folder = gui_settings.read_str(settings, "model/folder", "")
    assert isinstance(pen, int) and isinstance(mix, int) and isinstance(folder, str)
    assert -2**31 <= pen < 2**31 and -2**31 <= mix < 2**31 and abs(lr) <= 1e300 and lr == lr


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.dictionaries(st.sampled_from(KEYS), st.text(max_size=40)))
def test_fuzz_any_setting_values_load_within_range(tmp_path, panel, values):
    path = tmp_path / "fuzz-values" / gui_settings.FILE_NAME
    path.parent.mkdir(exist_ok=True)
    sections = {}
    for key, value in values.items():
        section, name = key.split("/")
        sections.setdefault(section, []).append(f"{name}={value}")
    path.write_text("".join(f"[{s}]\n" + "\n".join(lines) + "\n" for s, lines in sections.items()),
                    encoding="utf-8", errors="surrogatepass")
    os.environ["DIGITPAD_SETTINGS_DIR"] = str(path.parent)
    load_everything(panel)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400))
def test_fuzz_arbitrary_settings_files_load_or_are_set_aside(tmp_path, panel, data):
    folder = tmp_path / "fuzz-bytes"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    (folder / gui_settings.FILE_NAME).write_bytes(data)
    os.environ["DIGITPAD_SETTINGS_DIR"] = str(folder)
    load_everything(panel)
    kept = [p for p in folder.iterdir() if p.name != gui_settings.FILE_NAME]
    assert all(p.read_bytes() == data for p in kept)                   # set aside, never lost


DEFAULT_LOCATION = """
from gui.app import make_app
app = make_app([])
from gui import settings
store = settings.make_settings()
print(store.fileName())
print(settings.take_settings_notice())
"""


@pytest.mark.keeps_data
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the default location tested is XDG's")
def test_the_default_settings_location_that_is_a_file_is_set_aside_too(tmp_path):
    """Without DIGITPAD_SETTINGS_DIR, Qt's own place (~/.config/digitpad/) gets the same care; a fresh
    process, as Qt remembers the configuration folder once it has looked it up."""
    (tmp_path / "digitpad").write_bytes(b"someone's file")
    env = {key: value for key, value in os.environ.items() if key != "DIGITPAD_SETTINGS_DIR"}
    env.update(XDG_CONFIG_HOME=str(tmp_path), PYTHONPATH=str(Path(__file__).resolve().parent.parent),
               QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-c", DEFAULT_LOCATION], capture_output=True, text=True, env=env,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    path, notice = done.stdout.splitlines()[:2]
    assert path == str(tmp_path / "digitpad" / "digitpad.conf")
    kept = set_aside_copies(tmp_path / "digitpad", "damaged")
    assert len(kept) == 1 and kept[0].read_bytes() == b"someone's file" and kept[0].name in notice

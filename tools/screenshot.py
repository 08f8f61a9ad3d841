"""Screenshots of digitpad's real window, one per tab and state: `make screenshot` (runs under xvfb-run).

    python tools/screenshot.py [--out-dir docs] [--size 1280x860 | --size min] [--only NAME ...]

Starts the app with private settings at the default window size, then runs SHOTS in order. Each
entry is (name, function): the function gets the Stage (window, app, helpers), sets the window
up and returns the widget to photograph, saved as OUT_DIR/NAME.png; a step with name None only
prepares what later shots show (e.g. a short training run). To add a shot, write a small function
and put it in SHOTS where the state it needs exists.
"""
import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))   # tests/simulate.py: synthetic mouse strokes
sys.path.insert(0, str(ROOT / "tools"))

from screenshot_why import WHY_SHOTS  # noqa: E402

DEFAULT_SIZE = (1280, 860)
EPOCHS = 2
TRAIN_TIMEOUT_MS = 120_000


class Stage:
    """What a shot function works with: the window, the app, and helpers to wait and draw."""

    def __init__(self, app, window):
        self.app, self.window = app, window

    def pause(self, ms: int) -> None:
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait_for(self, signal, timeout_ms: int) -> None:
        """Run the event loop until `signal` fires (or the timeout passes)."""
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        signal.connect(loop.quit)
        QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()

    def draw(self, points, steps_per_segment: int = 6) -> None:
        """A stroke on the pad with synthetic mouse events, as a hand would draw it."""
        from simulate import drag_stroke

        drag_stroke(self.window.canvas, points, steps_per_segment=steps_per_segment)
        self.pause(150)

    def show_tab(self, index: int) -> None:
        self.window.tabs.setCurrentIndex(index)
        self.pause(150)


# ---- the shots --------------------------------------------------------------------------------
def first_start(stage):
    """What a new user sees: the pretrained model, an empty pad, curves waiting for a run."""
    stage.show_tab(0)
    return stage.window


def train_briefly(stage):
    """A fresh network trained for EPOCHS on the bundled sample, so curves and results have content."""
    window = stage.window
    window.new_model()
    window.training_panel.epochs_spin.setValue(EPOCHS)
    window.training_panel.source_combo.setCurrentIndex(0)
    window.training_panel.train_action.trigger()
    stage.wait_for(window.training.finished, TRAIN_TIMEOUT_MS)


def overview(stage):
    """The Training tab after a run, with a drawn 3 read by the network (the README's picture)."""
    from simulate import DIGIT_THREE

    stage.window.canvas.clear()
    stage.draw(DIGIT_THREE)
    stage.show_tab(0)
    return stage.window


def results(stage):
    stage.show_tab(1)
    return stage.window


def teach(stage):
    """A few drawings stored in the personal handwriting set."""
    from simulate import DIGIT_THREE

    window = stage.window
    for stroke, digit in (([(0.5, 0.15), (0.5, 0.85)], 1), ([(0.3, 0.2), (0.7, 0.2), (0.4, 0.85)], 7),
                          (DIGIT_THREE, 3)):
        window.canvas.clear()
        stage.draw(stroke)
        window.teach_panel.add_current(digit)
    stage.draw(DIGIT_THREE)
    stage.show_tab(2)
    return stage.window


def shortcuts(stage):
    """The F1 list, as its own dialog."""
    dialog = stage.window.shortcuts_dialog()
    dialog.show()
    stage.pause(150)
    stage._dialog = dialog      # keep it alive until grabbed
    return dialog


# ---- watch it learn ----------------------------------------------------------------------------
WATCH_EPOCHS = 3
WATCH_EARLY_STEP = 12          # the scrubbed shot shows the network this many steps into its run


def watch_midway(stage):
    """Mid-way through a from-scratch run (New network, seed 0), paused with a drawn 3 on the pad."""
    from gui.panels.watch_controls import NEW
    from simulate import DIGIT_THREE

    window = stage.window
    window.session.unsaved = False        # the earlier demo run's weights: no "discard?" question
    window.canvas.clear()
    stage.draw(DIGIT_THREE)
    stage.show_tab(0)
    window.start_choice.set_start(NEW)
    window.start_choice.seed_spin.setValue(0)
    window.pace.set_steps_per_s(None)
    window.training_panel.epochs_spin.setValue(WATCH_EPOCHS)
    window.training_panel.source_combo.setCurrentIndex(0)
    halfway = []
    window.training.progressed.connect(lambda p: halfway.append(p) if p.fraction >= 0.45 else None)
    window.training_panel.train_action.trigger()
    while not halfway and window.training.is_busy():
        stage.pause(20)
    window.training.pause()
    stage.wait_for(window.training.paramsUpdated, 5000)    # the paused weights arrive
    stage.pause(400)                                        # and the drawing's chart is recomputed
    return window


def watch_scrubbed(stage):
    """The same run finished, the time machine scrubbed back to an early step."""
    window = stage.window
    if window.training.is_busy():
        window.training.resume()
        stage.wait_for(window.training.finished, TRAIN_TIMEOUT_MS)
    history = window.watch.history
    window.time_bar.scrub_to(history.index_near(WATCH_EARLY_STEP))
    stage.pause(400)
    return window


SHOTS = [
    ("screenshot-start", first_start),
    (None, train_briefly),
    ("screenshot", overview),
    ("screenshot-results", results),
    ("screenshot-teach", teach),
    ("screenshot-shortcuts", shortcuts),
    *WHY_SHOTS,                      # tools/screenshot_why.py: one per See why view
    ("watch-midway", watch_midway),
    ("watch-scrubbed", watch_scrubbed),
]


# ---- running them -----------------------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs")
    parser.add_argument("--size", default="x".join(map(str, DEFAULT_SIZE)),
                        help="window size WxH, or 'min' for the window's minimum size (default %(default)s)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="save only these shots (steps still run)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    private = Path(tempfile.mkdtemp(prefix="digitpad-screenshot-"))
    os.environ["DIGITPAD_SETTINGS_DIR"] = str(private / "settings")   # a clean, reproducible window
    os.environ["DIGITPAD_USER_DIR"] = str(private / "user")
    os.environ["DIGITPAD_CACHE_DIR"] = str(private / "cache")          # full MNIST "not downloaded yet"

    from gui.app import make_app
    app = make_app([sys.argv[0]])
    from gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    if args.size == "min":
        window.resize(window.minimumSizeHint().expandedTo(window.minimumSize()))
    else:
        window.resize(*(int(v) for v in args.size.split("x")))
    stage = Stage(app, window)
    stage.pause(300)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    failed = False
    for name, function in SHOTS:
        widget = function(stage)
        if name is None or (args.only and name not in args.only):
            continue
        stage.pause(100)
        path = args.out_dir / f"{name}.png"
        if widget.grab().save(str(path)):
            print(f"Saved {path} ({widget.width()}x{widget.height()})")
        else:
            print(f"Could not write {path}", file=sys.stderr)
            failed = True
    window.session.unsaved = False     # the demo run's weights are not kept: close without the Save question
    window.close()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

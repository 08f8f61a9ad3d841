"""Save a screenshot of digitpad in action: `make screenshot` (runs under xvfb-run).

    python tools/screenshot.py [docs/screenshot.png]

Starts the app in a real window with private settings, trains a fresh network briefly on the
bundled MNIST sample so the curves, filters and results have something to show, draws a "3" with
synthetic mouse events and saves the window as a PNG.
"""
import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))   # tests/simulate.py: synthetic mouse strokes

WINDOW_SIZE = (1600, 1000)
EPOCHS = 2
TRAIN_TIMEOUT_MS = 120_000


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", default=str(ROOT / "docs" / "screenshot.png"))
    return parser.parse_args(argv)


def wait_for(app, signal, timeout_ms: int) -> None:
    """Run the event loop until `signal` fires (or the timeout passes)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def pause(app, ms: int) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def main(argv=None) -> int:
    args = parse_args(argv)
    private = Path(tempfile.mkdtemp(prefix="digitpad-screenshot-"))
    os.environ["DIGITPAD_SETTINGS_DIR"] = str(private / "settings")   # a clean, reproducible window
    os.environ["DIGITPAD_USER_DIR"] = str(private / "user")

    from gui.app import make_app
    app = make_app([sys.argv[0]])
    from gui.main_window import MainWindow
    from simulate import DIGIT_THREE, drag_stroke

    window = MainWindow()
    window.resize(*WINDOW_SIZE)
    window.show()
    pause(app, 200)

    window.new_model()  # random weights, so the curves show a network learning from scratch
    panel = window.training_panel
    panel.epochs_spin.setValue(EPOCHS)
    panel.train_action.trigger()
    wait_for(app, window.training.finished, TRAIN_TIMEOUT_MS)

    drag_stroke(window.canvas, DIGIT_THREE, steps_per_segment=6)
    pause(app, 300)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(output)):
        print(f"Could not write {output}", file=sys.stderr)
        return 1
    print(f"Saved {output} ({window.width()}x{window.height()}); prediction: {window.prediction()[0]}")
    from screenshot_why import save_all      # one screenshot per See why view, at 1280x860
    if not save_all(window, output.parent):
        return 1
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

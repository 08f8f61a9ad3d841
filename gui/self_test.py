"""`digitpad --self-test`: open the real window, check it works, close it, exit 0 or 1.

Made for an installed copy (CI runs it on the wheel in a fresh virtual environment, offscreen):
it proves the window starts with the pretrained model that ships inside the package and that the
model reads the bundled sample's test digits, both through the window's own drawing pad and in a
batch. Settings and handwriting go to a temporary folder, so the user's are never touched.
"""
import hashlib
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

PAD_DIGITS = 20          # sample test digits put on the pad one by one
BATCH_DIGITS = 500       # sample test digits read in one batch
MIN_ACCURACY = 0.90      # the shipped model reads ~98% of MNIST; a random one ~10%


def file_sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def same_weights(model, other) -> bool:
    return model.params.keys() == other.params.keys() and all(
        np.array_equal(model.params[key], other.params[key]) for key in model.params)


def run(qt_argv) -> int:
    private = Path(tempfile.mkdtemp(prefix="digitpad-self-test-"))
    os.environ["DIGITPAD_SETTINGS_DIR"] = str(private / "settings")
    os.environ["DIGITPAD_USER_DIR"] = str(private / "user")

    from core import paths
    from core.data import load_sample
    from core.errors import DataError
    from core.network import CNN
    from gui.app import make_app

    app = make_app(qt_argv)
    from gui.main_window import MainWindow   # after the QApplication exists

    window = MainWindow()
    window.show()
    app.processEvents()
    results = []

    def check(passed: bool, text: str) -> None:
        results.append(passed)
        print(f"{'ok  ' if passed else 'FAIL'}  {text}")

    print(f"digitpad self-test: {Path(sys.modules['core'].__file__).parent.parent} "
          f"(Qt platform: {app.platformName()})")
    model_file = paths.PRETRAINED_MODEL
    shipped = model_file.is_file()
    check(shipped, f"pretrained model {model_file} "
                   f"(sha256 {file_sha256(model_file) if shipped else 'missing'})")
    check(shipped and window.session.description.startswith("pretrained")
          and same_weights(window.model, CNN.load(model_file)),
          f"the window opened with it: {window.model_label.text()!r}")

    try:
        images, labels = load_sample("test")                              # (2000, 28, 28), (2000,)
    except DataError as error:
        check(False, f"the bundled MNIST sample: {error}")
        window.close()
        return 1
    read_on_pad = 0
    for image, label in zip(images[:PAD_DIGITS], labels[:PAD_DIGITS]):
        window.canvas.set_image(image)
        answer = window.prediction()
        read_on_pad += answer is not None and answer[0] == label
    check(read_on_pad >= MIN_ACCURACY * PAD_DIGITS,
          f"drawing pad: {read_on_pad}/{PAD_DIGITS} sample test digits read correctly")
    accuracy = float(np.mean(window.model.predict(images[:BATCH_DIGITS]) == labels[:BATCH_DIGITS]))
    check(accuracy >= MIN_ACCURACY, f"batch: {accuracy:.1%} of {BATCH_DIGITS} sample test digits read correctly")

    window.close()
    passed = all(results)
    print("self-test passed" if passed else "self-test FAILED")
    return 0 if passed else 1

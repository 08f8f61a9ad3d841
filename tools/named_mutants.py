"""The slips issue 13 found the suite missed, applied one at a time: each must fail its test.

    python tools/named_mutants.py [-k WORD]

mutmut (`make mutate`) changes one operator or constant at a time; these are the larger slips a
tired developer makes (a line moved out of a loop, a condition dropped, two branches swapped), so
they are checked here by hand-written edits. Each edit is made in a throw-away copy of the tree
(the working tree is never touched) without full MNIST, and the test named beside it is run there.
Prints one line per slip and exits 1 if any survives or no longer applies.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("core", "gui", "tests", "assets", "pyproject.toml")


@dataclass(frozen=True)
class Slip:
    name: str
    path: str
    old: str
    new: str
    test: str          # pytest node id (or file::test) that must fail on the slip


SLIPS = (
    Slip("shuffle once, reuse the order every epoch", "core/batches.py",
         "    for _ in range(config.epochs):\n        order = rng.permutation(n)  # (N,) a fresh order every epoch\n",
         "    order = rng.permutation(n)\n    for _ in range(config.epochs):\n",
         "tests/test_train_loop.py::test_every_epoch_shows_every_image_once_in_a_fresh_order"),
    Slip("cosine schedule restarting each epoch", "core/train.py",
         "optimizer.lr = learning_rate(global_step, total_steps)",
         "optimizer.lr = learning_rate(step - 1, steps_per_epoch)",
         "tests/test_train_loop.py::test_the_cosine_schedule_decays_once_over_the_whole_run"),
    Slip("epoch-end progress throttled away", "gui/training/process.py",
         'if progress.kind == "epoch" or every_step or now - last_progress >= PROGRESS_INTERVAL_S:',
         "if every_step or now - last_progress >= PROGRESS_INTERVAL_S:",
         "tests/test_training_process.py::test_every_epoch_end_is_reported_even_when_the_throttle_holds_the_rest"),
    Slip("CNN.copy() ignoring the filter count", "core/network.py",
         "twin = CNN(self.num_filters, dtype=self.dtype, deskew=self.deskew)",
         "twin = CNN(dtype=self.dtype, deskew=self.deskew)",
         "tests/test_network.py::test_copy_keeps_the_filter_count_dtype_and_every_weight"),
    Slip("20 px fit scaling by height only", "core/preprocess.py",
         "scale = BOX / max(r1 - r0, c1 - c0)", "scale = BOX / (r1 - r0)",
         "tests/test_preprocess.py::test_a_wide_drawing_is_fitted_by_its_width"),
    Slip("verified-file cache keyed without the mtime", "core/download.py",
         "key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, SHA256[name])",
         "key = (str(path.resolve()), stat.st_size, SHA256[name])",
         "tests/test_download.py::test_a_file_replaced_by_same_size_different_content_is_verified_afresh"),
    Slip("saved model files keep mkstemp's 0600", "core/modelfile.py",
         "        return 0o644\n", "        return None\n",
         "tests/test_network.py::test_a_saved_model_is_readable_by_others_and_a_replaced_one_keeps_its_mode"),
    Slip("a replaced model file loses its mode", "core/modelfile.py",
         "        return path.stat().st_mode & 0o777\n", "        return 0o644\n",
         "tests/test_network.py::test_a_saved_model_is_readable_by_others_and_a_replaced_one_keeps_its_mode"),
    Slip("undo removing the picture before the strokes on it", "gui/views/canvas.py",
         "        if self._strokes:\n            self._strokes.pop()\n"
         "        elif self._background is not None:\n            self._background = self._background_shown = None\n",
         "        if self._background is not None:\n            self._background = self._background_shown = None\n"
         "        elif self._strokes:\n            self._strokes.pop()\n",
         "tests/test_gui_canvas.py::test_undo_takes_the_strokes_drawn_on_a_picture_before_the_picture"),
    Slip("live prediction's throttle turned into a debounce", "gui/live_prediction.py",
         "        if not self._timer.isActive():\n            self._timer.start()\n",
         "        self._timer.start()\n",
         "tests/test_gui_live_prediction.py::test_predictions_arrive_while_the_pen_keeps_moving"),
    Slip("prediction() not flushing a pending update", "gui/live_prediction.py",
         "        if self._timer.isActive():\n            self.update_now()\n        return self._latest\n",
         "        return self._latest\n",
         "tests/test_gui_shipped_model.py::test_the_answer_is_current_the_moment_the_pen_lifts"),
    Slip("New/Revert/Open discarding unsaved training without asking", "gui/main_window.py",
         "        if not self.session.unsaved:\n            return True\n",
         "        return True\n",
         "tests/test_gui_unsaved.py::test_cancel_keeps_the_trained_weights"),
    Slip("Open alone not asking", "gui/main_window.py",
         'if path and self._discard_unsaved_ok("open another model"):', "if path:",
         "tests/test_gui_unsaved.py::test_cancel_keeps_the_trained_weights"),
    Slip("lost momentum term (training loop)", "core/train.py",
         "optimizer = SGD(model.params, config.learning_rate, config.momentum)",
         "optimizer = SGD(model.params, config.learning_rate)",
         "tests/test_train_loop.py::test_a_few_real_steps_match_the_update_written_out_by_hand"),
    Slip("lost momentum term (optimizer)", "core/optim.py",
         "                velocity *= self.momentum\n", "",
         "tests/test_optim.py::test_momentum_accumulates_velocity_over_steps"),
    Slip(".part file registered for clean-up after it exists", "core/download.py",
         "    _in_flight.add(claim)\n    try:\n"
         "        fd, temp = tempfile.mkstemp(suffix=TEMP_SUFFIX, prefix=claim[1], dir=target.parent)\n",
         "    try:\n"
         "        fd, temp = tempfile.mkstemp(suffix=TEMP_SUFFIX, prefix=claim[1], dir=target.parent)\n"
         "        _in_flight.add(claim)\n",
         "tests/test_download.py::test_a_program_ending_as_the_partial_file_is_created_leaves_nothing"),
    Slip("the GUI's live answer from the wrong class", "gui/live_prediction.py",
         "return int(np.argmax(self.probabilities))", "return int(np.argmax(self.probabilities[::-1]))",
         "tests/test_gui_shipped_model.py::test_a_drawn_digit_is_read_right_and_shown"),
)


def copy_tree(into: Path) -> None:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, into / name)


def survives(slip: Slip, tree: Path) -> str:
    """'killed', 'SURVIVED' or 'NOT APPLIED' (the code changed: update the slip)."""
    target = tree / slip.path
    original = target.read_text()
    if original.count(slip.old) != 1:
        return "NOT APPLIED"
    target.write_text(original.replace(slip.old, slip.new))
    try:
        result = _pytest(tree, [slip.test])
    finally:
        target.write_text(original)
    return "killed" if result.returncode == 1 else "SURVIVED"


def _pytest(tree: Path, tests: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
                          cwd=tree, capture_output=True, text=True, env=_environment(tree))


def _environment(tree: Path) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DIGITPAD_TEST_MNIST=str(tree / "no-mnist"))
    env.pop("PYTHONPATH", None)
    return env


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="only slips whose name contains this")
    args = parser.parse_args(argv)
    slips = [slip for slip in SLIPS if args.k in slip.name]
    bad = 0
    with tempfile.TemporaryDirectory(prefix="digitpad-slips-") as folder:
        tree = Path(folder)
        copy_tree(tree)
        clean = _pytest(tree, sorted({slip.test for slip in slips}))
        if clean.returncode != 0:
            print(clean.stdout[-3000:])
            print("the named tests fail on the unchanged code: fix that first")
            return 1
        for slip in slips:
            verdict = survives(slip, tree)
            bad += verdict != "killed"
            print(f"{verdict:<12}{slip.name}  <- {slip.test.split('::')[-1]}", flush=True)
    print(f"{len(slips) - bad} of {len(slips)} named slips killed")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())

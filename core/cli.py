"""`digitpad-train` (also `python -m core.cli`): train the CNN from the terminal.

Ends, as the tutorial does, by printing `Test Loss: ...` and `Test Accuracy: 0.xxxx`.
Errors a user can fix are one line on stderr and exit status 1 (a flag out of range: argparse's
usage line and error, status 2), all found before training where they can be: every flag's
range, the --init model, and the --save destination (a file that can be created, temporary
name included). Ctrl+C stops after the current batch and keeps the work done so far in a
separate file; before training starts (e.g. during a download) it ends the program at once with
one line and status 130; while the model is being written it is noted and the write finishes.
If the model still cannot be written at the end, it goes to a fallback file whose path is
printed. Output to a closed pipe (`digitpad-train | head`) ends the program quietly.

Only the standard library is imported at first, so that Ctrl+C in the first instant (while
NumPy loads) is already the one-line interruption, not a traceback.
"""
import argparse
import contextlib
import logging
import os
import signal
import sys
import time
from pathlib import Path

EXIT_ERROR, EXIT_INTERRUPTED, EXIT_CLOSED_PIPE = 1, 130, 141   # 141: as a program ended by SIGPIPE
MAX_EPOCHS = 10_000
MAX_BATCH_SIZE = 4096      # feature maps take 26*26*F*4 bytes an image: 4096 images, 8 filters: 89 MB
MAX_SEED = 2**63 - 1
INTERRUPTED = "digitpad-train: interrupted; no model file was written."


def build_parser():
    from core.train import TrainConfig

    default = TrainConfig()
    parser = argparse.ArgumentParser(
        prog="digitpad-train",
        description="Train digitpad's CNN (3x3 conv, 2x2 max pool, softmax) on MNIST.",
        epilog="Without --data-dir or DIGITPAD_DATA_DIR, full MNIST is read from (or downloaded into) the "
               "user's cache folder; with no network, the bundled 10,000-image sample is used.",
    )
    parser.add_argument("--epochs", type=int, default=default.epochs, help="passes over the training set (%(default)s)")
    parser.add_argument("--batch-size", type=int, default=default.batch_size, help="images per step (%(default)s)")
    parser.add_argument("--lr", type=float, default=default.learning_rate, help="learning rate (%(default)s)")
    parser.add_argument("--schedule", choices=("cosine", "constant"), default=default.lr_schedule,
                        help="learning-rate schedule (%(default)s)")
    parser.add_argument("--momentum", type=float, default=default.momentum, help="SGD momentum (%(default)s)")
    parser.add_argument("--train-size", type=int, default=None, help="use the first N training images (default: all)")
    parser.add_argument("--test-size", type=int, default=None, help="use the first N test images (default: all)")
    parser.add_argument("--no-augment", dest="augment", action="store_false",
                        help="train on the images as they are, without random distortions")
    parser.add_argument("--seed", type=int, default=default.seed, help="seed for shuffling, augmentation and weights (%(default)s)")
    parser.add_argument("--no-deskew", dest="deskew", action="store_false",
                        help="a network that reads digits as drawn, without deskewing them first (core/deskew.py)")
    parser.add_argument("--filters", type=int, default=8, help="number of 3x3 conv filters (%(default)s)")
    parser.add_argument("--init", type=Path, help="start from this model file instead of random weights")
    parser.add_argument("--save", type=Path, default=Path("model.npz"), help="where to write the trained model (%(default)s)")
    parser.add_argument("--dataset", choices=("auto", "mnist", "sample"), default="auto",
                        help="auto: full MNIST (local or downloaded), else the bundled sample (%(default)s)")
    parser.add_argument("--data-dir", type=Path,
                        help="folder holding the four MNIST .gz files (also: DIGITPAD_DATA_DIR)")
    parser.add_argument("--no-download", dest="download", action="store_false",
                        help="never download; fall back to the bundled sample")
    parser.add_argument("--require-full-mnist", action="store_true",
                        help="train on full MNIST or not at all: refuse when its four files are missing or "
                             "damaged instead of falling back to the sample (`make model` uses this)")
    parser.add_argument("--tutorial", action="store_true",
                        help="the tutorial's run: first 1,000 images, 3 epochs, batch 1, lr 0.005, plain SGD")
    return parser


def config_from(args):
    from core.train import TUTORIAL, TrainConfig

    check_ranges(args)
    if args.tutorial:
        return TUTORIAL
    config = TrainConfig(
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr, lr_schedule=args.schedule,
        momentum=args.momentum, augment=args.augment, seed=args.seed,
    )
    config.validate()
    return config


def choice_from(args):
    """The images to train and test on (the tutorial's: its first TUTORIAL_IMAGES of each)."""
    from core.dataset_choice import TUTORIAL_IMAGES, DatasetChoice

    sizes = (TUTORIAL_IMAGES, TUTORIAL_IMAGES) if args.tutorial else (args.train_size, args.test_size)
    choice = DatasetChoice(args.dataset, *sizes, data_dir=args.data_dir)
    choice.validate()
    return choice


def check_ranges(args):
    """ValueError naming the first flag whose value digitpad cannot use (TrainConfig checks the rest)."""
    from core.checks import first_failed
    from core.modelfile import MAX_FILTERS   # a model with more filters is never loaded

    checks = (
        (1 <= args.filters <= MAX_FILTERS, f"--filters must be from 1 to {MAX_FILTERS} (digitpad refuses other models)"),
        (0 <= args.seed <= MAX_SEED, f"--seed must be 0 or a positive whole number up to {MAX_SEED:,}"),
        (args.epochs <= MAX_EPOCHS, f"--epochs must be at most {MAX_EPOCHS:,}"),
        (args.batch_size <= MAX_BATCH_SIZE, f"--batch-size must be at most {MAX_BATCH_SIZE:,}"),
    )
    first_failed(checks)


def main(argv=None):
    global _stdout_closed
    interrupted = []

    def interrupt(signum, frame):
        interrupted.append(signum)
        raise KeyboardInterrupt

    try:
        with _sigint_handled_by(interrupt):
            _stdout_closed = False
            safe_output_streams()
            status = _main(argv)
            sys.stdout.flush()     # a closed pipe shows here, not in the interpreter's last flush
        return EXIT_CLOSED_PIPE if status == 0 and _stdout_closed else status
    except KeyboardInterrupt:  # outside training (loading, download, second Ctrl+C): nothing half-written stays
        _print_quietly(INTERRUPTED)
        return EXIT_INTERRUPTED
    except BrokenPipeError:    # stdout went to a reader that closed it (| head): end quietly
        _silence_stdout()
        return EXIT_CLOSED_PIPE
    except Exception:
        if interrupted:        # Ctrl+C inside an extension's import surfaces as an ImportError
            _print_quietly(INTERRUPTED)
            return EXIT_INTERRUPTED
        raise


@contextlib.contextmanager
def _sigint_handled_by(handler):
    """While inside, Ctrl+C (SIGINT) calls handler(signum, frame); the previous handler comes back after."""
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _main(argv):
    from core.errors import DigitpadError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config, choice = config_from(args), choice_from(args)
    except ValueError as err:
        parser.error(str(err))
    try:
        return run(args, config, choice)
    except DigitpadError as err:
        print(f"digitpad-train: error: {one_line(str(err))}", file=sys.stderr)
        return EXIT_ERROR


def safe_output_streams():
    """A folder name that is not valid UTF-8 (or not in the terminal's encoding) prints escaped, never fails."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.reconfigure(errors="backslashreplace")


_stdout_closed = False     # the reader of our output went away (| head); the run goes on, unseen


def say(text, write=print):
    """Print a line of results; if the reader has closed the pipe, go on without output."""
    global _stdout_closed
    try:
        write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        _stdout_closed = True
        _silence_stdout()


def _print_quietly(line):
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr)


def _silence_stdout():
    """Point stdout at the null device, so the interpreter's last flush finds no closed pipe."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, sys.stdout.fileno())
        finally:
            os.close(null)                 # also when stdout has no usable descriptor


def one_line(message):
    """A multi-line message (e.g. one line per failed mirror) as one line for stderr."""
    parts = [line.strip() for line in message.splitlines() if line.strip()]
    joined = parts[0] if parts else ""
    for part in parts[1:]:
        joined += (" " if joined.endswith((":", ".", "!", "?")) else "; ") + part
    return joined


def check_save_target(path):
    """Fail before training, not after it, when the model could not be saved where asked."""
    from core import atomic
    from core.errors import ModelFileError
    from core.safefile import os_reason

    folder = path.parent  # Path("model.npz").parent is Path(".")
    problem = None
    try:
        if path.is_dir():
            problem = "it is a folder; give a file name, such as " + str(path / "model.npz")
        elif path.exists() and not path.is_file():
            problem = "it is not a regular file"
        elif not folder.is_dir():
            problem = f"the folder {folder} does not exist. Create it or choose another --save path"
        else:
            atomic.check_writable(path)    # the very temporary file a save makes, created and removed
    except OSError as err:
        problem = f"{os_reason(err)}. Choose another --save path"
    if problem:
        raise ModelFileError(f"Cannot save the model to {path}: {problem}.")


def run(args, config, choice):
    from core.network import CNN
    from core.train import evaluate

    check_save_target(args.save)
    if args.require_full_mnist:
        choice = full_mnist_only(choice)
    model = CNN.load(args.init) if args.init else CNN(num_filters=args.filters, seed=config.seed,
                                                                        deskew=args.deskew and not args.tutorial)
    train_set, test_set, description = load_data(args, choice)
    say(f"Data: {description}")
    stop = StopFlag()
    with stop.on_interrupt():
        if args.tutorial:
            last_epoch = run_tutorial(model, config, train_set, test_set, stop)
        else:
            last_epoch = run_with_bar(model, config, train_set, test_set, stop)
        completed = not stop.requested           # a Ctrl+C from here on keeps the finished run
        if last_epoch is not None and last_epoch.epoch == config.epochs and completed:
            loss, accuracy = last_epoch.test_loss, last_epoch.test_accuracy  # already measured: the final weights
        else:
            loss, accuracy = evaluate(model, *test_set)
    target = args.save if completed else args.save.with_name(
        f"{args.save.stem}-interrupted{args.save.suffix or '.npz'}")
    with stop.deferred():                        # Ctrl+C while writing: noted, the write finishes
        saved, error = save_with_fallback(model, target)
    if not completed:
        print(f"Interrupted: the model as trained so far is in {saved} ({args.save} was not touched).",
              file=sys.stderr)
    elif error is None:
        say(f"Model saved to {saved}")
    say(f"Test Loss: {loss:.4f}")
    say(f"Test Accuracy: {accuracy:.4f}")
    if error is not None:
        print(f"digitpad-train: error: {one_line(str(error))} The trained model was written to {saved} instead.",
              file=sys.stderr)
        return EXIT_ERROR
    if completed and stop.requested:
        print(f"Interrupted after training had finished: the model was saved to {saved}.", file=sys.stderr)
    return EXIT_INTERRUPTED if stop.requested else 0


def save_with_fallback(model, target):
    """(path written, None), or when `target` fails (fallback path, the error); raises if all fail."""
    from core.errors import ModelFileError

    try:
        model.save(target)
        return target, None
    except ModelFileError as error:
        for fallback in fallback_paths(target):
            try:
                fallback.parent.mkdir(parents=True, exist_ok=True)
                model.save(fallback)
                return fallback, error
            except (OSError, ModelFileError):
                continue
        raise


def fallback_paths(target):
    """Where the trained weights go when `target` cannot be written: the user's data folder, then the temp folder."""
    import tempfile

    from core.paths import user_data_dir

    name = f"digitpad-unsaved-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.npz"
    return [user_data_dir() / name, Path(tempfile.gettempdir()) / name]


def full_mnist_only(choice):
    """For the shipped model: full MNIST, verified, or no training at all (never the sample)."""
    from dataclasses import replace

    from core.data import mnist_problem
    from core.errors import DataError

    problem = "--dataset sample was asked for." if choice.source == "sample" else mnist_problem(choice.data_dir)
    if problem:
        raise DataError(f"Not training: --require-full-mnist (used by `make model`) accepts full MNIST only. "
                        f"{problem} (`make model MNIST=DIR` reads them from another folder.)")
    return replace(choice, source="mnist")   # from here on, no fallback to the sample


def report_download_attempts():
    """Say which mirror a download is trying and how long it waits, so a stalled mirror is not silence."""
    logger = logging.getLogger("core.download")
    if not any(isinstance(handler, StderrLines) for handler in logger.handlers):
        logger.addHandler(StderrLines())
        logger.setLevel(logging.INFO)
        logger.propagate = False


class StderrLines(logging.Handler):
    """Each log message as one line on the current sys.stderr (looked up per message, not kept)."""

    def emit(self, record):
        _print_quietly(record.getMessage())


def load_data(args, choice):
    report_download_attempts()
    with DownloadBar() as bar:
        return choice.load(allow_download=args.download, progress=bar.update,
                           log=lambda message: print(one_line(message), file=sys.stderr))


def run_with_bar(model, config, train_set, test_set, stop):
    """Train under a tqdm bar; returns the last epoch's Progress (with its test figures), or None."""
    from core.train import train

    tqdm = _tqdm()

    last_epoch = None
    total = len(train_set[0]) * config.epochs
    with tqdm(total=total, unit="img", unit_scale=True, dynamic_ncols=True, desc="Training") as bar:
        for progress in train(model, config, train_set, test_set, should_stop=stop):
            if progress.kind == "batch":
                bar.update(progress.images_seen - bar.n)
                if progress.step % 20 == 0 or progress.step == progress.steps_per_epoch:
                    bar.set_postfix(epoch=f"{progress.epoch}/{progress.epochs}", loss=f"{progress.loss:.3f}",
                                    acc=f"{progress.accuracy:.1%}", refresh=False)
            else:
                last_epoch = progress
                say(f"Epoch {progress.epoch}/{progress.epochs}: test loss {progress.test_loss:.4f}, "
                    f"test accuracy {progress.test_accuracy:.2%}", bar.write)
    return last_epoch


def run_tutorial(model, config, train_set, test_set, stop):
    """Print the tutorial's own progress lines instead of a bar; it tests once, at the end (None here)."""
    from core.train import train

    epoch = 0
    for progress in train(model, config, train_set, None, should_stop=stop):
        if progress.epoch != epoch:
            epoch = progress.epoch
            say(f"--- Epoch {epoch} ---")
        if progress.step % 100 == 0:
            say(f"[Step {progress.step}] Past 100 steps: Average Loss {progress.loss:.3f} | "
                f"Accuracy: {round(progress.accuracy * 100)}%")
    return None


class StopFlag:
    """Callable flag for train(should_stop=...), raised by the first Ctrl+C."""

    def __init__(self):
        self.requested = False

    def __call__(self):
        return self.requested

    @contextlib.contextmanager
    def on_interrupt(self):
        """While inside, the first Ctrl+C raises the flag; a second one aborts at once."""

        def handle(signum, frame):
            if self.requested:
                raise KeyboardInterrupt
            self.requested = True
            _print_quietly("\nStopping after this batch (Ctrl+C again to abort)...")

        with _sigint_handled_by(handle):
            yield self

    @contextlib.contextmanager
    def deferred(self):
        """While inside, Ctrl+C only raises the flag: a model file being written is finished, never cut."""

        def note(signum, frame):
            self.requested = True

        with _sigint_handled_by(note):
            yield self


def _tqdm():
    """tqdm's bar class, set never to start its monitor thread: training forks a batch worker
    (core.prefetch), which is safe only from a process with a single thread."""
    from tqdm import tqdm

    tqdm.monitor_interval = 0
    return tqdm


class DownloadBar:
    """A tqdm bar per downloaded file, fed by core.data's progress(done, total, name) callback."""

    def __init__(self):
        self.bar, self.name = None, None

    def update(self, done, total, name):
        if name != self.name:
            self.close()
            self.name = name
            self.bar = _tqdm()(total=total or None, unit="B", unit_scale=True, desc=f"Downloading {name}")
        self.bar.update(done - self.bar.n)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


if __name__ == "__main__":
    raise SystemExit(main())

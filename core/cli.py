"""`digitpad-train` (also `python -m core.cli`): train the CNN from the terminal.

Ends, as the tutorial does, by printing `Test Loss: ...` and `Test Accuracy: 0.xxxx`.
Errors a user can fix are one line on stderr and exit status 1; Ctrl+C stops after the
current batch and keeps the work done so far in a separate file (before training starts,
e.g. during a download, it ends the program at once with one line and status 130).
"""
import argparse
import contextlib
import signal
import sys
from pathlib import Path

from tqdm import tqdm

from core.dataset_choice import TUTORIAL_IMAGES, DatasetChoice
from core.errors import DigitpadError, ModelFileError
from core.network import CNN
from core.train import TUTORIAL, TrainConfig, evaluate, train

EXIT_ERROR, EXIT_INTERRUPTED = 1, 130


def build_parser():
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
    parser.add_argument("--filters", type=int, default=8, help="number of 3x3 conv filters (%(default)s)")
    parser.add_argument("--init", type=Path, help="start from this model file instead of random weights")
    parser.add_argument("--save", type=Path, default=Path("model.npz"), help="where to write the trained model (%(default)s)")
    parser.add_argument("--dataset", choices=("auto", "mnist", "sample"), default="auto",
                        help="auto: full MNIST (local or downloaded), else the bundled sample (%(default)s)")
    parser.add_argument("--data-dir", type=Path,
                        help="folder holding the four MNIST .gz files (also: DIGITPAD_DATA_DIR)")
    parser.add_argument("--no-download", dest="download", action="store_false",
                        help="never download; fall back to the bundled sample")
    parser.add_argument("--tutorial", action="store_true",
                        help="the tutorial's run: first 1,000 images, 3 epochs, batch 1, lr 0.005, plain SGD")
    return parser


def config_from(args):
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
    sizes = (TUTORIAL_IMAGES, TUTORIAL_IMAGES) if args.tutorial else (args.train_size, args.test_size)
    choice = DatasetChoice(args.dataset, *sizes, data_dir=args.data_dir)
    choice.validate()
    return choice


def main(argv=None):
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
    except KeyboardInterrupt:  # outside training (download, second Ctrl+C): nothing half-written stays
        print("digitpad-train: interrupted; no model file was written.", file=sys.stderr)
        return EXIT_INTERRUPTED


def one_line(message):
    """A multi-line message (e.g. one line per failed mirror) as one line for stderr."""
    parts = [line.strip() for line in message.splitlines() if line.strip()]
    joined = parts[0] if parts else ""
    for part in parts[1:]:
        joined += (" " if joined.endswith((":", ".", "!", "?")) else "; ") + part
    return joined


def check_save_folder(path):
    """Fail before training, not after it, when the model could not be saved where asked."""
    folder = path.parent  # Path("model.npz").parent is Path(".")
    if not folder.is_dir():
        raise ModelFileError(f"Cannot save the model to {path}: the folder {folder} does not exist. "
                             "Create it or choose another --save path.")


def run(args, config, choice):
    check_save_folder(args.save)
    train_set, test_set, description = load_data(args, choice)
    print(f"Data: {description}")
    model = CNN.load(args.init) if args.init else CNN(num_filters=args.filters, seed=config.seed)
    stop = StopFlag()
    with stop.on_interrupt():
        if args.tutorial:
            last_epoch = run_tutorial(model, config, train_set, test_set, stop)
        else:
            last_epoch = run_with_bar(model, config, train_set, test_set, stop)
    if last_epoch is not None and last_epoch.epoch == config.epochs and not stop.requested:
        loss, accuracy = last_epoch.test_loss, last_epoch.test_accuracy  # already measured: the final weights
    else:
        loss, accuracy = evaluate(model, *test_set)
    if stop.requested:
        saved = args.save.with_name(f"{args.save.stem}-interrupted{args.save.suffix or '.npz'}")
        model.save(saved)
        print(f"Interrupted: the model as trained so far is in {saved} ({args.save} was not touched).",
              file=sys.stderr)
    else:
        model.save(args.save)
        print(f"Model saved to {args.save}")
    print(f"Test Loss: {loss:.4f}")
    print(f"Test Accuracy: {accuracy:.4f}")
    return EXIT_INTERRUPTED if stop.requested else 0


def load_data(args, choice):
    with DownloadBar() as bar:
        return choice.load(allow_download=args.download, progress=bar.update,
                           log=lambda message: print(one_line(message), file=sys.stderr))


def run_with_bar(model, config, train_set, test_set, stop):
    """Train under a tqdm bar; returns the last epoch's Progress (with its test figures), or None."""
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
                bar.write(f"Epoch {progress.epoch}/{progress.epochs}: test loss {progress.test_loss:.4f}, "
                          f"test accuracy {progress.test_accuracy:.2%}")
    return last_epoch


def run_tutorial(model, config, train_set, test_set, stop):
    """Print the tutorial's own progress lines instead of a bar; it tests once, at the end (None here)."""
    epoch = 0
    for progress in train(model, config, train_set, None, should_stop=stop):
        if progress.epoch != epoch:
            epoch = progress.epoch
            print(f"--- Epoch {epoch} ---")
        if progress.step % 100 == 0:
            print(f"[Step {progress.step}] Past 100 steps: Average Loss {progress.loss:.3f} | "
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
            print("\nStopping after this batch (Ctrl+C again to abort)...", file=sys.stderr)

        previous = signal.signal(signal.SIGINT, handle)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)


class DownloadBar:
    """A tqdm bar per downloaded file, fed by core.data's progress(done, total, name) callback."""

    def __init__(self):
        self.bar, self.name = None, None

    def update(self, done, total, name):
        if name != self.name:
            self.close()
            self.name = name
            self.bar = tqdm(total=total or None, unit="B", unit_scale=True, desc=f"Downloading {name}")
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

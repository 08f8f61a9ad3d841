"""How well does the model read digits drawn on the pad? MNIST test digits, redrawn like people draw.

Each chosen test digit is redrawn (core.drawn) on a square canvas with a random mix of:
  canvas   140, 280 (the pad's size) or 560 pixels square
  size     the drawing's longer side: small 15-35%, medium 35-65%, large 65-95% of the canvas
  position centred, off-centre (anywhere it fits) or in a corner
  pen      round pen, diameter relative to the drawing: thin 2-5%, medium 5-12%, thick 12-22%
  slant    upright (shear within +-0.15) or slanted (0.15-0.45 either way), plus rotation +-10 deg
  ink      hard (0/255) or antialiased
then read (a) through core.preprocess.prepare_canvas and (b) by a naive shrink of the whole
canvas to 28x28 (area average), which is what a pad without preprocessing would do. Either is
then read by the model as the app reads a drawing: through its input stage, which deskews the
image (core.deskew) when the model file says so.

Prints overall and per-condition accuracy beside clean MNIST test accuracy, and the time taken
by prepare_canvas (280x280 canvas) and core.augment.augment (batch of 64). Seeded: the same
--seed and --count give the same drawings.

    python bench/drawn_digits.py [--model assets/model.npz] [--data-dir ../shared/mnist]
                                 [--count 2000] [--seed 0]
"""
import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from core.augment import augment
from core.data import load_mnist
from core.drawn import Drawing, draw
from core.errors import DigitpadError
from core.network import CNN
from core.mnist_format import IMAGE_SIDE
from core.paths import DEV_MNIST_DIR, PRETRAINED_MODEL
from core.preprocess import prepare_canvas

CANVASES = {"140": 140, "280": 280, "560": 560}
CANVAS_ODDS = (0.25, 0.5, 0.25)
SIZES = {"small": (0.15, 0.35), "medium": (0.35, 0.65), "large": (0.65, 0.95)}  # share of canvas
PENS = {"thin": (0.02, 0.05), "medium": (0.05, 0.12), "thick": (0.12, 0.22)}  # share of drawing size
POSITIONS = ("centred", "off-centre", "corner")
SLANTS = {"upright": (0.0, 0.15), "slanted": (0.15, 0.45)}  # |shear|
INKS = ("hard", "antialiased")
MAX_ROTATION = 10.0
CONDITIONS = ("canvas", "size", "position", "pen", "slant", "ink")


def random_drawing(rng):
    """-> (Drawing, {condition: value}) with every condition drawn at random."""
    kind = {
        "canvas": rng.choice(list(CANVASES), p=CANVAS_ODDS),
        "size": rng.choice(list(SIZES)),
        "position": rng.choice(POSITIONS),
        "pen": rng.choice(list(PENS)),
        "slant": rng.choice(list(SLANTS)),
        "ink": rng.choice(INKS),
    }
    canvas = CANVASES[kind["canvas"]]
    size = int(round(rng.uniform(*SIZES[kind["size"]]) * canvas))
    pen = max(rng.uniform(*PENS[kind["pen"]]) * size, 1.5)
    shear = rng.uniform(*SLANTS[kind["slant"]]) * rng.choice((-1, 1))
    drawing = Drawing(
        canvas=canvas, size=size, centre=_centre(kind["position"], canvas, size, rng), pen=pen,
        shear=shear, rotation=rng.uniform(-MAX_ROTATION, MAX_ROTATION),
        antialiased=kind["ink"] == "antialiased",
    )
    return drawing, kind


def _centre(position, canvas, size, rng):
    """(row, col) for the centre of a size x size box that stays on the canvas."""
    low, high = size / 2, canvas - size / 2  # where the centre can go
    if position == "centred":
        return tuple(np.clip(canvas / 2 + rng.normal(0, 0.02 * canvas, 2), low, high))
    if position == "corner":
        inset = rng.uniform(0, 0.04 * canvas, 2)
        side = rng.integers(0, 2, 2)  # 0: top / left, 1: bottom / right
        return tuple(np.where(side == 0, low + inset, high - inset))
    return tuple(rng.uniform(low, high, 2))


def drawn_set(images, labels, count, seed):
    """Redraw `count` random test digits -> (canvases list, labels (count,), conditions list)."""
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(images), size=count, replace=False)
    canvases, kinds = [], []
    for index in chosen:
        drawing, kind = random_drawing(rng)
        canvases.append(draw(images[index], drawing))
        kinds.append(kind)
    return canvases, labels[chosen], kinds, chosen


def naive_shrink(canvas):
    """Area-average a square canvas whose side is a multiple of 28 down to (28, 28), 0..255."""
    block = canvas.shape[0] // IMAGE_SIDE
    return canvas.reshape(IMAGE_SIDE, block, IMAGE_SIDE, block).mean(axis=(1, 3))


def read_canvases(model, canvases):
    """Predictions (N,) through prepare_canvas, -1 where it saw no digit; and through naive shrink."""
    prepared = [prepare_canvas(canvas) for canvas in canvases]
    seen = [i for i, image in enumerate(prepared) if image is not None]
    predicted = np.full(len(canvases), -1)
    if seen:
        predicted[seen] = model.predict(np.stack([prepared[i] for i in seen]))
    naive = model.predict(np.stack([naive_shrink(canvas) for canvas in canvases]))
    return predicted, naive


def condition_table(kinds, correct, naive_correct):
    """Rows (condition, value, count, accuracy %, naive accuracy %) for every condition value."""
    groups = defaultdict(list)
    for i, kind in enumerate(kinds):
        for condition in CONDITIONS:
            groups[(condition, kind[condition])].append(i)
    rows = []
    for condition in CONDITIONS:
        values = [value for value in _values(condition) if (condition, value) in groups]
        for value in values:
            members = groups[(condition, value)]
            rows.append((condition, value, len(members),
                         100 * correct[members].mean(), 100 * naive_correct[members].mean()))
    return rows


def _values(condition):
    """The values a condition can take, in table order."""
    return list({"canvas": CANVASES, "size": SIZES, "position": POSITIONS, "pen": PENS,
                 "slant": SLANTS, "ink": INKS}[condition])


def median_ms(function, repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return 1e3 * float(np.median(times))


def timings(canvases, kinds, images):
    """(ms per prepare_canvas on a 280x280 drawing, ms per augment of 64 images)."""
    at_280 = [c for c, kind in zip(canvases, kinds) if kind["canvas"] == "280"][:50] or [canvases[0]]
    prepare = np.mean([median_ms(lambda c=c: prepare_canvas(c), 20) for c in at_280])
    rng = np.random.default_rng(0)
    batch = images[:64]
    return prepare, median_ms(lambda: augment(batch, rng), 200)


def report(model_path, data_dir, count, seed):
    model = CNN.load(model_path)
    images, labels = load_mnist("test", data_dir, allow_download=False)
    started = time.perf_counter()
    canvases, truth, kinds, chosen = drawn_set(images, labels, count, seed)
    drawing_s = time.perf_counter() - started
    predicted, naive = read_canvases(model, canvases)
    correct, naive_correct = predicted == truth, naive == truth
    clean_all = 100 * (model.predict(images) == labels).mean()
    clean_chosen = 100 * (model.predict(images[chosen]) == truth).mean()
    prepare_ms, augment_ms = timings(canvases, kinds, images)

    print(f"model {model_path} ({'deskews its input' if model.deskew else 'reads digits as drawn'}); "
          f"{count} MNIST test digits redrawn (seed {seed}) in {drawing_s:.1f} s")
    print(f"clean MNIST test accuracy: {clean_all:6.2f}%  (all {len(images)}), "
          f"{clean_chosen:6.2f}% (the {count} chosen)")
    print(f"drawn, prepare_canvas:     {100 * correct.mean():6.2f}%  "
          f"({int((predicted == -1).sum())} of {count} taken as blank)")
    print(f"drawn, naive shrink:       {100 * naive_correct.mean():6.2f}%")
    print()
    print(f"{'condition':<10}{'value':<13}{'count':>6}{'prepared':>10}{'naive':>8}")
    last = None
    for condition, value, n, accuracy, naive_accuracy in condition_table(kinds, correct, naive_correct):
        print(f"{condition if condition != last else '':<10}{value:<13}{n:>6}{accuracy:>9.1f}%{naive_accuracy:>7.1f}%")
        last = condition
    print()
    print(f"prepare_canvas, 280x280 drawing: {prepare_ms:.3f} ms (median)")
    print(f"augment, batch of 64:            {augment_ms:.3f} ms (median)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=PRETRAINED_MODEL, help="model file (.npz)")
    parser.add_argument("--data-dir", type=Path, default=DEV_MNIST_DIR,
                        help="folder with the four MNIST .gz files (default: %(default)s)")
    parser.add_argument("--count", type=int, default=2000, help="how many test digits to redraw")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not 1 <= args.count <= 10000:
        parser.error("--count must be between 1 and 10000")
    try:
        report(args.model, args.data_dir, args.count, args.seed)
    except DigitpadError as err:
        print(f"drawn_digits: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

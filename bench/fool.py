"""How well "Make it read as N" works: core.explain.fool on correctly read test digits.

    python bench/fool.py [--count 200] [--data-dir ../shared/mnist]

Takes `count` test digits the shipped model reads correctly (the bundled sample's, or full
MNIST's with --data-dir), asks fool() to make each read as a random other digit, and prints the
success rate, the pixels changed and the time per digit.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import explain  # noqa: E402
from core.data import load_mnist, load_sample  # noqa: E402
from core.network import CNN  # noqa: E402
from core.paths import PRETRAINED_MODEL  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--data-dir", help="full MNIST folder (default: the bundled sample)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    net = CNN.load(PRETRAINED_MODEL)
    images, labels = (load_mnist("test", args.data_dir, allow_download=False) if args.data_dir
                      else load_sample("test"))
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(images))
    correct = order[net.predict(images[order]) == labels[order]][:args.count]
    successes, changed, seconds = 0, [], []
    for i in correct:
        target = (int(labels[i]) + 1 + int(rng.integers(9))) % 10
        start = time.perf_counter()
        fooled = explain.fool(net, images[i], target)
        seconds.append(time.perf_counter() - start)
        if net.predict(fooled)[0] == target:
            successes += 1
            changed.append(int(np.count_nonzero(fooled != images[i])))
    print(f"fool() on {len(correct)} correctly read test digits, each pushed to a random other digit:")
    print(f"  success: {successes / len(correct):.1%}")
    print(f"  pixels changed (of 784): median {statistics.median(changed):.0f}, "
          f"90th percentile {np.percentile(changed, 90):.0f}, most {max(changed)}")
    print(f"  time per digit: median {1000 * statistics.median(seconds):.1f} ms, "
          f"worst {1000 * max(seconds):.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Build assets/mnist-sample/: a small, class-balanced, reproducible subset of MNIST.

Usage:  python tools/make_sample.py PATH/TO/FULL/MNIST [--out assets/mnist-sample] [--seed 0]

The folder argument holds the four standard MNIST .gz files. The output uses the same file
names and IDX .gz format, so core.data reads it with the same loader; gzip's timestamp is
fixed, so the same input and seed always give byte-identical files.
"""
import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.data import SAMPLE_DIR, SAMPLE_FILES  # noqa: E402
from core.idx import encode_idx_gz, read_images, read_labels  # noqa: E402
from core.mnist_format import NUM_CLASSES, SPLIT_FILES  # noqa: E402

SAMPLE_SIZES = {"train": 10_000, "test": 2_000}
DEFAULT_SEED = 0


def balanced_indices(labels: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """`size` indices into labels, size / 10 of each digit, in a shuffled order."""
    per_class, leftover = divmod(size, NUM_CLASSES)
    if leftover:
        raise ValueError(f"sample size {size} is not a multiple of {NUM_CLASSES}")
    picked = []
    for digit in range(NUM_CLASSES):
        candidates = np.flatnonzero(labels == digit)
        if len(candidates) < per_class:
            raise ValueError(f"only {len(candidates)} images of digit {digit}; {per_class} needed")
        picked.append(rng.choice(candidates, size=per_class, replace=False))
    return rng.permutation(np.concatenate(picked))


def build_sample(source: Path, out: Path, seed: int = DEFAULT_SEED, sizes=None) -> list[Path]:
    """Write the sample's four files into `out`; returns their paths."""
    sizes = sizes or SAMPLE_SIZES
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for split, (images_name, labels_name) in SPLIT_FILES.items():
        images = read_images(source / images_name)  # (N, 28, 28) uint8
        labels = read_labels(source / labels_name)  # (N,) uint8
        chosen = balanced_indices(labels, sizes[split], rng)
        sample_names = SAMPLE_FILES[split]
        for name, array in ((sample_names[0], images[chosen]), (sample_names[1], labels[chosen])):
            path = out / name
            path.write_bytes(encode_idx_gz(array))
            written.append(path)
    return written


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder holding the four full-MNIST .gz files")
    parser.add_argument("--out", type=Path, default=SAMPLE_DIR, help="output folder (default: assets/mnist-sample)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default: 0)")
    args = parser.parse_args(argv)
    for path in build_sample(args.source, args.out, args.seed):
        print(f"{path}  {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()

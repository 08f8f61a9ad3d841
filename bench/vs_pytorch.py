"""digitpad's engine beside PyTorch on the same network, interleaved in one run. Asserts nothing.

    pip install -e ".[bench]"        # PyTorch, CPU build; never a runtime dependency
    python bench/vs_pytorch.py [--data-dir ../shared/mnist] [--rounds 7] [--seconds 0.4]

Both sides run Conv 3x3 (8 filters, no bias) -> max-pool 2x2 -> dense 1352 -> 10, on one thread
(torch.set_num_threads(1), NumPy's BLAS held to one thread as core.train does). A training step
is the whole step from a uint8 batch: normalise x / 255 - 0.5, forward, cross-entropy, backward,
SGD with momentum 0.9. Inference is logits -> probabilities for batches of 1,000.

The two engines take turns: each round times digitpad for about --seconds, then PyTorch, and the
order flips every round, so both see the same machine load. The table shows the median over
rounds of each side's images/s, and the ratio of the medians. Without full MNIST, random images.
"""
import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.data import load_mnist  # noqa: E402
from core.errors import DigitpadError  # noqa: E402
from core.network import CNN  # noqa: E402
from core.optim import SGD  # noqa: E402

try:
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    sys.exit('vs_pytorch: PyTorch is not installed; run: pip install -e ".[bench]"')

TRAIN_BATCHES = (1, 32, 64, 128)
INFERENCE_BATCH = 1000
LR, MOMENTUM = 0.001, 0.9  # small enough never to diverge


def cpu_name():
    """The model name `lscpu` shows (from /proc/cpuinfo), or the platform's guess."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


class Digitpad:
    name = "digitpad"

    def __init__(self):
        self.model = CNN(num_filters=8, seed=0)
        self.optimizer = SGD(self.model.params, lr=LR, momentum=MOMENTUM)

    def train_step(self, images, labels):  # images (B, 28, 28) uint8
        _, grads, _ = self.model.forward_backward(images, labels)
        self.optimizer.step(grads)

    def infer(self, images):
        return self.model.predict_proba(images)


class Torch:
    name = "PyTorch"

    def __init__(self):
        torch.manual_seed(0)
        self.model = torch.nn.Sequential(
            torch.nn.Conv2d(1, 8, 3, bias=False),  # (B, 8, 26, 26)
            torch.nn.MaxPool2d(2),  # (B, 8, 13, 13)
            torch.nn.Flatten(),  # (B, 1352)
            torch.nn.Linear(13 * 13 * 8, 10),  # (B, 10)
        )
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM)
        self.loss = torch.nn.CrossEntropyLoss()

    @staticmethod
    def _inputs(images):
        x = torch.from_numpy(images).unsqueeze(1)  # (B, 1, 28, 28) uint8, no copy
        return x.float().div_(255).sub_(0.5)

    def train_step(self, images, labels):
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss(self.model(self._inputs(images)), torch.from_numpy(labels))
        loss.backward()
        self.optimizer.step()

    def infer(self, images):
        with torch.inference_mode():
            return torch.softmax(self.model(self._inputs(images)), dim=1)


def rate(work, batches, batch_size, seconds):
    """Images per second running work(images, labels) over `batches` for about `seconds`."""
    count, started = 0, time.perf_counter()
    while True:
        for images, labels in batches:
            work(images, labels)
        count += len(batches) * batch_size
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return count / elapsed


def batches_of(images, labels, batch_size, count=16):
    rng = np.random.default_rng(batch_size)
    picks = [rng.choice(len(images), batch_size, replace=False) for _ in range(count)]
    return [(np.ascontiguousarray(images[p]), labels[p].astype(np.int64)) for p in picks]


def compare(engines, measure, rounds):
    """{engine name: [images/s per round]}, the engines alternating and swapping order each round."""
    rates = {engine.name: [] for engine in engines}
    for round_ in range(rounds):
        for engine in engines if round_ % 2 == 0 else engines[::-1]:
            rates[engine.name].append(measure(engine))
    return rates


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "mnist")
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds per figure")
    parser.add_argument("--seconds", type=float, default=0.4, help="timed seconds per round and engine")
    args = parser.parse_args(argv)
    try:
        images, labels = load_mnist("train", args.data_dir, allow_download=False)
        source = f"{len(images):,} MNIST training images"
    except DigitpadError:
        rng = np.random.default_rng(0)
        images, labels = rng.integers(0, 256, (10_000, 28, 28), np.uint8), rng.integers(0, 10, 10_000)
        source = "random images (no MNIST found)"

    torch.set_num_threads(1)
    with threadpool_limits(limits=1, user_api="blas"):
        blas = [(i["internal_api"], i.get("architecture"), i["num_threads"])
                for i in threadpool_info() if i["user_api"] == "blas"]
        print(f"CPU: {cpu_name()}, {os.cpu_count()} logical cores")
        print(f"Python {platform.python_version()}, NumPy {np.__version__} (BLAS {blas}), "
              f"PyTorch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()}, "
              f"{torch.get_num_threads()} thread)")
        print("OPENBLAS_CORETYPE={}, OPENBLAS_L2_SIZE={}".format(
            os.environ.get("OPENBLAS_CORETYPE", "(unset)"), os.environ.get("OPENBLAS_L2_SIZE", "(unset)")))
        print(f"{source}; {args.rounds} alternating rounds of {args.seconds} s per engine; "
              "medians over rounds\n")
        engines = [Digitpad(), Torch()]
        rows = []
        for batch_size in TRAIN_BATCHES:
            data = batches_of(images, labels, batch_size)
            for engine in engines:  # warm-up: first calls allocate and pick kernels
                rate(engine.train_step, data, batch_size, 0.05)
            rates = compare(engines, lambda e: rate(e.train_step, data, batch_size, args.seconds), args.rounds)
            rows.append((f"train step, batch {batch_size}", rates))
        data = batches_of(images, labels, INFERENCE_BATCH, count=2)
        infer = lambda e: rate(lambda x, y: e.infer(x), data, INFERENCE_BATCH, args.seconds)
        for engine in engines:
            infer(engine)
        rows.append((f"inference, batches of {INFERENCE_BATCH:,}", compare(engines, infer, args.rounds)))

    width = max(len(name) for name, _ in rows)
    print(f"{'images/s':<{width}}  {'digitpad':>10}  {'PyTorch':>10}  {'ratio':>6}")
    for name, rates in rows:
        ours, theirs = statistics.median(rates["digitpad"]), statistics.median(rates["PyTorch"])
        print(f"{name:<{width}}  {ours:>10,.0f}  {theirs:>10,.0f}  {ours / theirs:>5.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

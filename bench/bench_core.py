"""Speed and memory of the core engine on full MNIST. Prints a table; asserts nothing.

    python bench/bench_core.py [--data-dir ../shared/mnist] [--quick]

Figures: training images/s at batch sizes 1, 32, 64 and 128 (one forward + backward +
SGD step, augmentation off and, at batch 64, on), the time augmentation takes beside the step it
feeds (timed step by step, so both see the same load), the same with BLAS allowed 2 threads
(idle, and with the other core kept busy by another process),
inference images/s, single-image predict latency, the per-sample reference's speed, and
the peak resident memory of a real `digitpad-train` epoch on all 60,000 images.
"""
import argparse
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import reference  # noqa: E402
from core.augment import augment  # noqa: E402
from core.data import load_mnist  # noqa: E402
from core.network import CNN  # noqa: E402
from core.optim import SGD  # noqa: E402
from core.paths import DEV_MNIST_DIR  # noqa: E402

TARGETS = {"train64": 15_000, "latency_ms": 0.5, "peak_mb": 400}


def train_rate(images, labels, batch_size, seconds, with_augment=False):
    """Training images per second over about `seconds` of steps (after a warm-up)."""
    model = CNN(seed=0)
    optimizer = SGD(model.params, lr=0.001, momentum=0.9)  # small enough never to diverge
    rng = np.random.default_rng(0)
    order = rng.permutation(len(images))
    step, done, started = 0, 0, None
    while True:
        batch = order[(step * batch_size) % (len(images) - batch_size):][:batch_size]
        x = images[batch]
        if with_augment:
            x = augment(x, rng)
        _, grads, _ = model.forward_backward(x, labels[batch])
        optimizer.step(grads)
        step += 1
        if step == 20:  # warm-up done
            started, done = time.perf_counter(), 0
        elif started is not None:
            done += batch_size
            if time.perf_counter() - started > seconds:
                return done / (time.perf_counter() - started)


def augment_share(images, labels, steps=400, batch_size=64):
    """(median ms of augment, median ms of a training step, their ratio) over the same steps.

    Each step times augment() and the step it feeds separately, so both see the same load.
    """
    model = CNN(seed=0)
    optimizer = SGD(model.params, lr=0.001, momentum=0.9)
    rng = np.random.default_rng(1)
    augment_s, step_s = [], []
    for step in range(steps + 20):
        batch = rng.integers(0, len(images), batch_size)
        started = time.perf_counter()
        x = augment(images[batch], rng)
        augmented = time.perf_counter()
        _, grads, _ = model.forward_backward(x, labels[batch])
        optimizer.step(grads)
        if step >= 20:  # after a warm-up
            augment_s.append(augmented - started)
            step_s.append(time.perf_counter() - augmented)
    augment_ms, step_ms = 1e3 * statistics.median(augment_s), 1e3 * statistics.median(step_s)
    return augment_ms, step_ms, augment_ms / step_ms


def inference_rate(images, seconds):
    model = CNN(seed=0)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        model.predict_proba(images[:1000])
        count += 1000
    return count / (time.perf_counter() - started)


def single_latency_ms(images, repeats=2000):
    model = CNN(seed=0)
    times = []
    for i in range(repeats):
        started = time.perf_counter()
        model.predict_proba(images[i])
        times.append(time.perf_counter() - started)
    return 1e3 * statistics.median(times), 1e3 * float(np.percentile(times, 99))


def reference_rate(images, labels, count):
    params = CNN(seed=0, dtype=np.float64).params
    started = time.perf_counter()
    for i in range(count):
        reference.sample_loss_and_grads(params, images[i], int(labels[i]))
    return count / (time.perf_counter() - started)


class OtherCoreBusy:
    """Keep one core busy with another process (as the GUI or a browser would) while inside."""

    def __enter__(self):
        self.process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.2)

    def __exit__(self, *exc):
        self.process.kill()
        self.process.wait()


def peak_training_memory_mb(data_dir):
    """Peak RSS of a real one-epoch `digitpad-train` run on all 60,000 images, in a child process."""
    out = Path("/tmp") / f"digitpad-bench-{time.time_ns()}.npz"
    command = [sys.executable, "-m", "core.cli", "--data-dir", str(data_dir), "--epochs", "1",
               "--save", str(out)]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    out.unlink(missing_ok=True)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux: kB -> MB


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEV_MNIST_DIR)
    parser.add_argument("--quick", action="store_true", help="shorter timings (noisier)")
    args = parser.parse_args()
    seconds = 1.0 if args.quick else 3.0
    images, labels = load_mnist("train", args.data_dir, allow_download=False)
    blas = [(i["internal_api"], i.get("architecture"), i["num_threads"]) for i in threadpool_info()]
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, BLAS {blas}, "
          f"{len(images):,} training images from {args.data_dir}")

    rows = []
    with threadpool_limits(limits=1, user_api="blas"):  # what core.train uses
        for batch_size in (1, 32, 64, 128):
            rows.append((f"train, batch {batch_size}", train_rate(images, labels, batch_size, seconds), "img/s"))
        rows.append(("train, batch 64, with augmentation", train_rate(images, labels, 64, seconds, True), "img/s"))
        augment_ms, step_ms, share = augment_share(images, labels, 150 if args.quick else 400)
        rows.append(("augment, batch of 64 (median)", augment_ms, "ms"))
        rows.append(("training step it feeds, batch 64 (median)", step_ms, "ms"))
        rows.append(("augmentation's cost, share of that step", 100 * share, "%"))
        rows.append(("inference, batches of 1,000", inference_rate(images, seconds), "img/s"))
        median, p99 = single_latency_ms(images)
        rows.append(("single-image predict, median", median, "ms"))
        rows.append(("single-image predict, 99th percentile", p99, "ms"))
    with threadpool_limits(limits=2, user_api="blas"):
        rows.append(("train, batch 64, BLAS on 2 threads", train_rate(images, labels, 64, seconds), "img/s"))
    for threads in (1, 2):  # why core.train holds BLAS to one thread
        with threadpool_limits(limits=threads, user_api="blas"), OtherCoreBusy():
            rows.append((f"train, batch 64, BLAS on {threads} thread(s), other core busy",
                         train_rate(images, labels, 64, seconds), "img/s"))
    ref = reference_rate(images, labels, 10 if args.quick else 30)
    rows.append(("per-sample reference (loops), batch 1", ref, "img/s"))
    fast64 = rows[2][1]
    rows.append(("speed-up of batch 64 over the reference", fast64 / ref, "x"))
    rows.append(("peak memory, `digitpad-train --epochs 1` on 60,000", peak_training_memory_mb(args.data_dir), "MB"))

    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure':<{width}}  {'value':>12}  unit")
    for name, value, unit in rows:
        print(f"{name:<{width}}  {value:>12,.3f}  {unit}" if value < 100 else f"{name:<{width}}  {value:>12,.0f}  {unit}")
    print(f"\ntargets: train batch 64 >= {TARGETS['train64']:,} img/s, single predict <= {TARGETS['latency_ms']} ms, "
          f"peak memory <= {TARGETS['peak_mb']} MB")


if __name__ == "__main__":
    main()

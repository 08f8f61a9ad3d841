"""Speed and memory of the core engine on full MNIST. Prints a table; asserts nothing.

    python bench/bench_core.py [--data-dir ../shared/mnist] [--quick]

Figures: training images/s at batch sizes 1, 32, 64 and 128 (one forward + backward +
SGD step); what augmentation adds to a step of the real training loop (core.train.train, batch
64), made in line and by the batch worker (core.prefetch), the loops interleaved so that they
share the load, and again with the other core kept busy by another process; one augment()'s
time; training with BLAS allowed 2 threads (idle, and with the other core busy); inference
images/s, single-image predict latency, the per-sample reference's speed; the peak resident
memory of a real `digitpad-train` epoch on all 60,000 images and the batch worker's own memory.
"""
import argparse
import os
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
from core.train import TrainConfig, train  # noqa: E402

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


def augment_ms(images, steps=400, batch_size=64):
    """Median ms of one augment() of a random batch: the work the batch worker does per step."""
    rng = np.random.default_rng(1)
    times = []
    for _ in range(steps):
        batch = images[rng.integers(0, len(images), batch_size)]
        started = time.perf_counter()
        augment(batch, rng)
        times.append(time.perf_counter() - started)
    return 1e3 * statistics.median(times)


LOOPS = {  # the real training loop, three ways: what augmentation adds to it is the difference
    "no augmentation": {"augment": False, "prefetch": False},
    "augmented in line": {"augment": True, "prefetch": False},
    "augmented by the batch worker": {"augment": True, "prefetch": True},
}


def loop_ms_per_step(images, labels, steps=600, rounds=5, batch_size=64):
    """{LOOPS name: median over rounds of ms per step of core.train.train}, one epoch of `steps`
    steps per round, the three loops interleaved round by round so that they share the load."""
    subset = (images[:steps * batch_size], labels[:steps * batch_size])
    times = {name: [] for name in LOOPS}
    for _ in range(rounds):
        for name, how in LOOPS.items():
            config = TrainConfig(epochs=1, batch_size=batch_size, learning_rate=0.001, augment=how["augment"])
            started = time.perf_counter()
            for _ in train(CNN(seed=0), config, subset, prefetch=how["prefetch"]):
                pass
            times[name].append(1e3 * (time.perf_counter() - started) / steps)
    return {name: statistics.median(values) for name, values in times.items()}


def batch_worker_private_mb(images, labels):
    """Memory the batch worker holds that is not shared with the training process (Private_* of
    its smaps_rollup), read after 200 steps of a real run."""
    config = TrainConfig(epochs=1, batch_size=64, learning_rate=0.001)
    run = train(CNN(seed=0), config, (images, labels), prefetch=True)
    for _ in range(200):
        next(run)
    [worker] = [stat.parent for stat in Path("/proc").glob("[0-9]*/stat") if _parent_pid(stat) == os.getpid()]
    fields = dict(line.split(":") for line in (worker / "smaps_rollup").read_text().splitlines()[1:])
    private_kb = sum(int(fields[name].split()[0]) for name in ("Private_Clean", "Private_Dirty"))
    run.close()
    return private_kb / 1024


def _parent_pid(stat):
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ProcessLookupError):  # a process that ended meanwhile
        return None


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
        per_step = loop_ms_per_step(images, labels, 300 if args.quick else 600)
        plain = per_step["no augmentation"]
        for name, ms in per_step.items():
            rows.append((f"train() loop, batch 64, {name}", ms, "ms/step"))
        for name in ("augmented in line", "augmented by the batch worker"):
            rows.append((f"augmentation's cost, {name.split(' ', 1)[1]}: share of a step",
                         100 * (per_step[name] - plain) / plain, "%"))
        rows.append(("train() loop, batch 64, augmented by the batch worker", 64e3 / per_step[
            "augmented by the batch worker"], "img/s"))
        rows.append(("augment, batch of 64 (median, the worker's work per step)", augment_ms(images), "ms"))
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
    with threadpool_limits(limits=1, user_api="blas"), OtherCoreBusy():  # the worker now shares a core
        busy = loop_ms_per_step(images, labels, 300)
    rows.append(("augmentation's cost by the batch worker, other core busy", 100 * (
        busy["augmented by the batch worker"] - busy["no augmentation"]) / busy["no augmentation"], "%"))
    rows.append(("peak memory, `digitpad-train --epochs 1` on 60,000", peak_training_memory_mb(args.data_dir), "MB"))
    rows.append(("batch worker's private memory (beside that)", batch_worker_private_mb(images, labels), "MB"))

    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure':<{width}}  {'value':>12}  unit")
    for name, value, unit in rows:
        print(f"{name:<{width}}  {value:>12,.3f}  {unit}" if value < 100 else f"{name:<{width}}  {value:>12,.0f}  {unit}")
    print(f"\ntargets: train batch 64 >= {TARGETS['train64']:,} img/s, single predict <= {TARGETS['latency_ms']} ms, "
          f"peak memory <= {TARGETS['peak_mb']} MB")


if __name__ == "__main__":
    main()

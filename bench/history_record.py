"""How long History.record takes for the 8-filter model: 20,000 records into the 64 MB budget.

    .venv/bin/python bench/history_record.py [--records 20000] [--budget-mb 64]
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.history import History  # noqa: E402
from core.network import CNN  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--budget-mb", type=float, default=64)
    args = parser.parse_args()
    model = CNN(seed=0)
    history = History(int(args.budget_mb * 2**20))
    started = time.perf_counter()
    for step in range(args.records):
        model.params["conv.filters"][0, 0, 0] = step          # the live weights keep changing
        history.record(step, model.params, epoch=1, loss=0.5, accuracy=0.9, learning_rate=0.02)
    elapsed = time.perf_counter() - started
    print(f"{args.records:,} records in {elapsed:.2f} s ({1e6 * elapsed / args.records:.0f} µs each); "
          f"kept {len(history):,} snapshots, stride {history.stride}, "
          f"{history.nbytes / 2**20:.1f} MB of {args.budget_mb:g} MB")


if __name__ == "__main__":
    main()

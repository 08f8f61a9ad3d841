"""A training run's history within a fixed memory budget: the time machine's record.

    history = History(64 * 2**20)
    history.record(step, model.params, loss=0.31, accuracy=0.9)   # after every step
    snapshot = history.at(0)      # .step, .params (copies, keys of CNN.params), .metrics

Thinning rule. The snapshots kept are those whose step lies on a grid: first step + k * stride,
plus the latest one (wherever it lies). The stride starts at 1; when the next record would not
fit, the stride doubles until the grid points already held fit with one slot to spare, and the
snapshots off the new grid are dropped. So the kept steps are always evenly spaced (every
`stride` steps, when every step is recorded), the first step is always kept (it is on every
grid), and the latest is always kept. Doubling halves the count at most once per fill, so a
long run still keeps between half and all of the budget's slots.

Storage: one preallocated array per parameter, (capacity, *shape), so the whole history of a
parameter is a single array that vectorised code can read (`stacked`).
"""
from dataclasses import dataclass

import numpy as np

RECORD_OVERHEAD = 256       # bytes counted per snapshot for its step and metrics (a generous estimate)


@dataclass(frozen=True)
class Snapshot:
    step: int
    params: dict            # name -> array copy, same keys and shapes as CNN.params
    metrics: dict           # e.g. {"epoch": 1, "loss": 0.3, "accuracy": 0.91, "learning_rate": 0.02}


class History:
    """Snapshots of a run's parameters, never more than `budget_bytes` (see the module's rule)."""

    def __init__(self, budget_bytes: int):
        if budget_bytes <= 0:
            raise ValueError("the history's budget must be positive")
        self.budget_bytes = int(budget_bytes)
        self.stride = 1
        self._arrays: dict[str, np.ndarray] = {}    # name -> (capacity, *shape)
        self._steps: np.ndarray | None = None       # (capacity,) int64
        self._metrics: list[dict] = []
        self._count = 0
        self._capacity = 0
        self._record_bytes = 0

    # ---- reading ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._count

    @property
    def nbytes(self) -> int:
        """Bytes held by the snapshots kept (parameters plus RECORD_OVERHEAD each)."""
        return self._count * self._record_bytes

    @property
    def capacity(self) -> int:
        """How many snapshots fit in the budget (0 before the first record)."""
        return self._capacity

    def steps(self) -> np.ndarray:
        """(len,) the steps kept, increasing."""
        return np.array([] if self._steps is None else self._steps[:self._count], dtype=np.int64)

    def at(self, index: int) -> Snapshot:
        """The index-th snapshot kept (negative counts from the latest); its arrays are copies."""
        if not -self._count <= index < self._count:
            raise IndexError(f"snapshot {index} of {self._count}")
        index %= self._count
        params = {name: array[index].copy() for name, array in self._arrays.items()}
        return Snapshot(int(self._steps[index]), params, dict(self._metrics[index]))

    def metrics_at(self, index: int) -> dict:
        """The metrics of the index-th snapshot (cheaper than at(index) when the params are not needed)."""
        if not -self._count <= index < self._count:
            raise IndexError(f"snapshot {index} of {self._count}")
        return dict(self._metrics[index % self._count])

    def stacked(self, name: str) -> np.ndarray:
        """(len, *shape) read-only view of one parameter through the run (valid until the next record)."""
        view = self._arrays[name][:self._count]
        view.flags.writeable = False
        return view

    def index_near(self, step: int) -> int:
        """Index of the snapshot kept whose step is closest to `step` (the earlier one on a tie)."""
        if self._count == 0:
            raise IndexError("the history is empty")
        steps = self._steps[:self._count]
        right = int(np.searchsorted(steps, step))
        if right == 0:
            return 0
        if right == self._count:
            return self._count - 1
        return right if steps[right] - step < step - steps[right - 1] else right - 1

    # ---- recording --------------------------------------------------------------------------
    def record(self, step: int, params: dict, **metrics) -> None:
        """Keep a copy of `params` as they are at `step` (steps must increase)."""
        step = int(step)
        if self._count == 0 and not self._arrays:
            self._allocate(params)
        elif self._count and step <= self._steps[self._count - 1]:
            raise ValueError(f"step {step} is not after the latest step {int(self._steps[self._count - 1])}")
        if self._count > 1 and not self._on_grid(self._steps[self._count - 1]):
            self._count -= 1                                    # the old latest was kept only as the latest
        if self._count == self._capacity:
            self._thin()
        slot = self._count
        for name, array in self._arrays.items():
            array[slot] = params[name]                          # copies into our own storage
        self._steps[slot] = step
        if slot < len(self._metrics):
            self._metrics[slot] = dict(metrics)
        else:
            self._metrics.append(dict(metrics))
        self._count += 1

    def _allocate(self, params: dict) -> None:
        shapes = {name: np.shape(array) for name, array in params.items()}
        dtypes = {name: np.asarray(array).dtype for name, array in params.items()}
        self._record_bytes = RECORD_OVERHEAD + sum(
            int(np.prod(shape)) * dtypes[name].itemsize for name, shape in shapes.items())
        self._capacity = self.budget_bytes // self._record_bytes
        if self._capacity < 2:
            raise ValueError(f"a budget of {self.budget_bytes} bytes cannot hold two snapshots of "
                             f"{self._record_bytes} bytes (the first and the latest)")
        self._arrays = {name: np.empty((self._capacity, *shape), dtypes[name]) for name, shape in shapes.items()}
        self._steps = np.empty(self._capacity, dtype=np.int64)

    def _on_grid(self, step, stride=None) -> bool:
        return (int(step) - int(self._steps[0])) % (stride or self.stride) == 0

    def _thin(self) -> None:
        """Double the stride until the snapshots on its grid leave a slot free; drop the rest."""
        steps = self._steps[:self._count]
        offsets = steps - steps[0]
        while np.count_nonzero(offsets % self.stride == 0) > self._capacity - 1:
            self.stride *= 2
        keep = np.flatnonzero(offsets % self.stride == 0)       # always includes index 0
        for array in self._arrays.values():
            _compact(array, keep)
        self._steps[:len(keep)] = steps[keep]
        self._metrics[:len(keep)] = [self._metrics[i] for i in keep]
        del self._metrics[len(keep):]
        self._count = len(keep)


THIN_CHUNK = 64   # snapshots moved per copy while thinning: a few MB at a time, never a budget-sized temporary


def _compact(array: np.ndarray, keep: np.ndarray) -> None:
    """array[:len(keep)] = array[keep] in place, keep increasing, chunk by chunk.

    `array[keep]` in one go would first build a copy of half the budget (32 MB, 20-30 ms of
    allocation and copying in the GUI thread); chunks are safe because keep[j] >= j: a chunk
    is read before it is written and never overwrites rows a later chunk still has to read."""
    for start in range(0, len(keep), THIN_CHUNK):
        rows = keep[start:start + THIN_CHUNK]                    # (<= THIN_CHUNK,)
        array[start:start + len(rows)] = array[rows]

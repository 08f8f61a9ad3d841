"""The training child's pace and record (no Qt): pause, Step, slow motion, live learning rate, snapshots.

Pace decides whether the next step may run: not while paused (unless Step granted exactly
one), and in slow motion not before 1/steps_per_s seconds after the previous step began.
SnapshotRecorder copies the weights after every step, with the step's figures, until the
process hands them to the GUI's history (core.history) in one batch.
"""
import math
import time
from dataclasses import replace

from core.train import TrainConfig, learning_rate_at


class Pace:
    def __init__(self, paused: bool = False, steps_per_s: float | None = None):
        self.paused = paused
        self.steps_per_s = steps_per_s       # None: full speed
        self._granted = 0                    # steps Step allowed while paused
        self._last_step = -math.inf          # time.monotonic() when the last step began

    @property
    def slow(self) -> bool:
        """Slow motion: every step is reported, and steps are spaced out in time."""
        return self.steps_per_s is not None

    def pause(self) -> None:
        self.paused, self._granted = True, 0

    def resume(self) -> None:
        self.paused, self._granted = False, 0

    def step(self) -> None:
        """Allow exactly one more step while paused (a Step while running means: pause after the next)."""
        self.paused = True
        self._granted += 1

    def set_speed(self, steps_per_s: float | None) -> None:
        if steps_per_s is not None and not steps_per_s > 0:
            raise ValueError("steps per second must be positive (None: full speed)")
        self.steps_per_s = steps_per_s

    def held(self) -> bool:
        """True while the next step must wait for a command (paused, no Step granted)."""
        return self.paused and self._granted == 0

    def wait_s(self, now: float | None = None) -> float:
        """Seconds to wait before the next step may begin (0 at full speed)."""
        if self.steps_per_s is None:
            return 0.0
        now = time.monotonic() if now is None else now
        return max(0.0, self._last_step + 1.0 / self.steps_per_s - now)

    def begin_step(self, now: float | None = None) -> None:
        """The next step starts now: use up a granted Step."""
        self._last_step = time.monotonic() if now is None else now
        if self.paused and self._granted:
            self._granted -= 1


class LearningRate:
    """The run's schedule with a base rate that can be changed while it trains (from the next step on)."""

    def __init__(self, config: TrainConfig):
        self._config = config

    @property
    def base(self) -> float:
        return self._config.learning_rate

    def set_base(self, rate: float) -> None:
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError("learning rate must be positive")
        self._config = replace(self._config, learning_rate=rate)

    def __call__(self, step: int, total_steps: int) -> float:
        return learning_rate_at(self._config, step, total_steps)


class SnapshotRecorder:
    """(global step, params copy, metrics) after every step; take() hands over what was recorded."""

    def __init__(self, model):
        self._model = model
        self._records: list[tuple[int, dict, dict]] = []

    def record_start(self) -> None:
        """Step 0: the weights before training (the run's first snapshot)."""
        self._records.append((0, self._model.get_params(), {"epoch": 1, "x": 0.0}))

    def record(self, progress) -> None:
        """After a "batch" progress (core.train.Progress)."""
        step = (progress.epoch - 1) * progress.steps_per_epoch + progress.step      # 1-based, global
        metrics = {"epoch": progress.epoch, "x": step / max(progress.steps_per_epoch, 1),
                   "loss": progress.loss, "accuracy": progress.accuracy,
                   "learning_rate": progress.learning_rate}
        self._records.append((step, self._model.get_params(), metrics))

    def pending(self) -> int:
        return len(self._records)

    def take(self) -> list[tuple[int, dict, dict]]:
        records, self._records = self._records, []
        return records

"""The training child's watch commands (Step, SetSpeed, SetLearningRate) and its Snapshots report.

TrainingRun runs in the test's own process over a real command pipe; a scripted outbox answers
its reports with commands, as the window would.
"""
import multiprocessing
import pickle

import numpy as np

from core.network import CNN
from core.train import TrainConfig, learning_rate_at
from gui.training.messages import Outcome, Params, ProgressReport, Result, SetLearningRate, Snapshots, Step, Stop
from gui.training.process import TrainingJob, TrainingRun

RNG = np.random.default_rng(0)
TINY = (RNG.integers(0, 256, (32, 28, 28), dtype=np.uint8), RNG.integers(0, 10, 32, dtype=np.uint8))
CONFIG = TrainConfig(epochs=2, batch_size=8, augment=False)      # 4 steps an epoch, 8 in all


class TinyData:
    """Stands in for a DatasetChoice: a small random set, no files read."""

    def load(self):
        return TINY, TINY, "32 random images"


class ScriptedOutbox:
    """Keeps the reports; after the n-th Params report sends script[n] (a list of commands)."""

    def __init__(self, commands, script):
        self.reports, self._commands, self._script, self._params = [], commands, script, 0

    def send(self, report):
        report = pickle.loads(pickle.dumps(report))
        self.reports.append(report)
        if isinstance(report, Params):
            for command in self._script.get(self._params, []):
                self._commands.send(command)
            self._params += 1


def run(script, **job_options):
    reader, writer = multiprocessing.Pipe(duplex=False)
    outbox = ScriptedOutbox(writer, script)
    TrainingRun(TrainingJob(CNN(seed=0), CONFIG, TinyData(), **job_options), outbox, reader).run()
    return outbox.reports


def recorded_steps(reports):
    return [step for r in reports if isinstance(r, Snapshots) for step, _, _ in r.records]


def batches(reports):
    return [r.progress for r in reports if isinstance(r, ProgressReport) and r.progress.kind == "batch"]


def test_a_paused_start_holds_at_step_0_and_step_trains_exactly_one_batch():
    reports = run({0: [Step()], 1: [Step()], 2: [Stop()]}, paused=True)
    assert reports[-1] == Outcome(Result.STOPPED)
    assert sorted(set(recorded_steps(reports))) == [0, 1, 2]
    assert [p.step for p in batches(reports)] == [1, 2] and batches(reports)[-1].images_seen == 16
    first = next(r for r in reports if isinstance(r, Snapshots))
    step, params, _ = first.records[0]
    assert step == 0 and all(np.array_equal(params[k], v) for k, v in CNN(seed=0).params.items())
    assert first.gradients is None                                   # no step taken yet


def test_snapshots_carry_each_steps_weights_and_the_last_gradients():
    reports = run({}, steps_per_s=1000)                              # slow motion: every step reported
    assert recorded_steps(reports) == list(range(9))
    assert len(batches(reports)) == 8
    last = [r for r in reports if isinstance(r, Snapshots)][-1]
    final = [r for r in reports if isinstance(r, Params)][-1].params
    step, params, metrics = last.records[-1]
    assert step == 8 and all(np.array_equal(params[k], final[k]) for k in final)
    assert metrics["epoch"] == 2 and metrics["x"] == 2.0
    assert last.gradients.keys() == final.keys() and np.abs(last.gradients["conv.filters"]).sum() > 0


def test_a_learning_rate_set_while_paused_applies_from_the_next_step():
    reports = run({0: [SetLearningRate(0.5), Step()], 1: [Stop()]}, paused=True)
    (progress,) = batches(reports)
    assert progress.learning_rate == learning_rate_at(TrainConfig(epochs=2, batch_size=8, learning_rate=0.5), 0, 8)

"""The training child's report stream (gui.training.process, no Qt), driven in this process.

The pipes are stand-ins and the clock is frozen, so the throttle lets exactly one batch report
through: what else arrives is what must never be throttled away.
"""
import multiprocessing
import signal
import threading

import numpy as np
import pytest

from core.data import load_sample
from core.dataset_choice import DatasetChoice
from core.network import CNN
from core.train import TrainConfig
from gui.training import pacing, process
from gui.training import messages
from gui.training.messages import Failed, Outcome, Params, Pause, ProgressReport, Result, Resume, Snapshots, Stop
from gui.training.process import TrainingJob, TrainingRun


class Reports:
    def __init__(self):
        self.sent, self.snapshots = [], []

    def send(self, message):
        if isinstance(message, messages.Snapshots):     # the history's records: tested in test_training_watch_protocol
            self.snapshots.append(message)
        else:
            self.sent.append(message)

    def kinds(self):
        return [type(message) for message in self.sent]

    def of(self, kind):
        return [message for message in self.sent if isinstance(message, kind)]

    def progress(self):
        return [message.progress for message in self.of(ProgressReport)]


class Commands:
    """Hands out queued commands, one per poll that says there is one."""

    def __init__(self, *commands):
        self.queue = list(commands)

    def poll(self):
        return bool(self.queue)

    def recv(self):
        if not self.queue:
            raise EOFError
        return self.queue.pop(0)


class PauseOnce(Commands):
    """Pause when polled for the `at`-th time; the blocking wait that follows gets "resume"."""

    def __init__(self, at):
        super().__init__()
        self.polls, self.at, self.received = 0, at, 0

    def poll(self):
        self.polls += 1
        return self.polls == self.at

    def recv(self):
        self.received += 1
        return Pause() if self.received == 1 else Resume()


def small_data(train_size=40, test_size=25):
    return DatasetChoice("sample", train_size=train_size, test_size=test_size)


class Broken:
    """A data choice whose loading fails with `error`."""

    def __init__(self, error):
        self.error = error

    def load(self):
        raise self.error


CONFIG = TrainConfig(epochs=3, batch_size=10, augment=False, seed=1)


@pytest.fixture
def frozen_clock(monkeypatch):
    monkeypatch.setattr(process.time, "monotonic", lambda: 1000.0)


def run(config=CONFIG, data=None, commands=None, model=None):
    reports = Reports()
    job = TrainingJob(model or CNN(seed=0), config, data or small_data())
    TrainingRun(job, reports, commands or Commands()).run()
    return reports


def test_every_epoch_end_is_reported_even_when_the_throttle_holds_the_rest(frozen_clock):
    reports = run()
    progress = reports.progress()
    assert [(p.kind, p.epoch) for p in progress if p.kind == "epoch"] == [("epoch", 1), ("epoch", 2), ("epoch", 3)]
    assert all(p.test_accuracy is not None for p in progress if p.kind == "epoch")
    assert all(p.test_probabilities is None for p in progress)         # the answers travel once, in Tested
    assert progress[0].kind == "batch" and progress[0].step == 1       # the first report passes the throttle
    assert len(progress) == 4                                          # and no other batch report does
    assert reports.kinds()[-2:] == [messages.Tested, Outcome] and reports.sent[-1] == Outcome(Result.FINISHED)


def test_the_final_weights_are_sent_and_the_test_set_is_scored_by_the_trained_model(frozen_clock):
    model = CNN(seed=0)
    reports = run(model=model)
    params = reports.of(Params)
    for name, value in params[-1].params.items():
        np.testing.assert_array_equal(value, model.params[name])
    tested = reports.of(messages.Tested)[0]
    images, labels = load_sample("test")[0][:25], load_sample("test")[1][:25]
    np.testing.assert_array_equal(tested.images, images)
    np.testing.assert_array_equal(tested.labels, labels)
    np.testing.assert_allclose(tested.probabilities, model.predict_proba(images), rtol=1e-6)


def test_pause_reports_where_it_paused_then_resume_finishes(frozen_clock):
    commands = PauseOnce(at=4)
    reports = run(config=TrainConfig(epochs=1, batch_size=10, augment=False), commands=commands)
    assert commands.received == 2                               # the pause, then the wait that got Resume
    steps = [(type(message), getattr(getattr(message, "progress", None), "step", None)) for message in reports.sent
             if not isinstance(message, Snapshots)]         # the history's records travel beside the weights
    # step 1 passes the throttle; the pause, seen before step 3, holds there and reports step 2 and its weights
    assert steps[:4] == [(ProgressReport, 1), (Params, None), (ProgressReport, 2), (Params, None)]
    assert reports.sent[-1] == Outcome(Result.FINISHED)


def test_a_data_error_is_reported_to_the_user(frozen_clock):
    from core.errors import DataError

    reports = run(data=Broken(DataError("The MNIST files are damaged.")))
    assert reports.sent == [Failed("The MNIST files are damaged."), Outcome(Result.FAILED)]


def test_divergence_sends_the_kept_weights_then_the_message(frozen_clock):
    reports = run(config=TrainConfig(epochs=1, batch_size=10, learning_rate=1e9, momentum=0.9, augment=False))
    kinds = reports.kinds()
    assert kinds[-3:] == [Params, Failed, Outcome] and reports.sent[-1] == Outcome(Result.FAILED)
    assert "diverged" in reports.sent[-2].message
    assert all(np.isfinite(value).all() for value in reports.sent[-3].params.values())


def test_an_unexpected_error_is_reported_not_swallowed(frozen_clock):
    reports = run(data=Broken(KeyError("oops")))
    assert reports.kinds() == [Failed, Outcome]
    assert "unexpected error" in reports.sent[0].message and "oops" in reports.sent[0].message


@pytest.fixture
def child_setup(monkeypatch):
    """What run_training does to its process (niceness, Ctrl+C), recorded and undone."""
    niceness = []
    monkeypatch.setattr(process.os, "nice", niceness.append)
    handler = signal.getsignal(signal.SIGINT)
    yield niceness
    signal.signal(signal.SIGINT, handler)


def test_the_entry_point_lowers_priority_ignores_ctrl_c_reports_and_closes_its_pipe(child_setup):
    reports_in, reports_out = multiprocessing.Pipe(duplex=False)
    commands_in, commands_out = multiprocessing.Pipe(duplex=False)
    job = TrainingJob(CNN(seed=0), TrainConfig(epochs=1, batch_size=20, augment=False), small_data())
    received = []

    def read_until_closed():                                    # the GUI's side: a pipe holds only 64 kB
        while True:
            try:
                received.append(reports_in.recv())
            except EOFError:
                return

    reader = threading.Thread(target=read_until_closed, daemon=True)
    reader.start()
    process.run_training(job, reports_out, commands_in)
    reader.join(timeout=30)
    assert not reader.is_alive()                                # it saw the end: the pipe was closed
    assert child_setup == [process.NICENESS]
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    assert received[-1] == Outcome(Result.FINISHED) and isinstance(received[0], ProgressReport)


def test_a_gui_that_went_away_ends_the_child_quietly(child_setup):
    class Gone:
        closed = False

        def send(self, message):
            raise BrokenPipeError

        def close(self):
            self.closed = True

    reports = Gone()
    process.run_training(TrainingJob(CNN(seed=0), CONFIG, small_data()), reports, Commands())
    assert reports.closed


def test_a_process_that_may_not_lower_its_priority_trains_anyway(monkeypatch):
    def refuse(increment):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(process.os, "nice", refuse)
    process._lower_priority()                                   # no error


def test_the_refusal_names_the_message_and_its_type():
    error = messages.refuse(("progress", 3))
    assert str(error) == "the training protocol has no message ('progress', 3) (of type tuple)"


class StopAtPoll(Commands):
    """Answers Stop at the `at`-th poll."""

    def __init__(self, at):
        super().__init__()
        self.polls, self.at = 0, at

    def poll(self):
        self.polls += 1
        return self.polls == self.at

    def recv(self):
        return Stop()


def test_a_stop_before_the_first_step_sends_the_untrained_weights_and_no_progress(frozen_clock):
    model = CNN(seed=0)
    before = model.get_params()
    reports = run(commands=StopAtPoll(at=2), model=model)     # poll 1: before loading; 2: before step 1
    assert reports.kinds() == [Params, Outcome] and reports.sent[-1] == Outcome(Result.STOPPED)
    for name, value in before.items():
        np.testing.assert_array_equal(reports.sent[0].params[name], value)


def test_a_stop_mid_epoch_reports_the_last_step_done(frozen_clock):
    reports = run(commands=StopAtPoll(at=5))                  # after steps 1, 2, 3
    progress = reports.progress()
    assert [p.step for p in progress] == [1, 3] and progress[-1].kind == "batch"
    assert reports.kinds()[-2:] == [Params, Outcome] and reports.sent[-1] == Outcome(Result.STOPPED)


def test_an_unexpected_error_is_logged_with_its_traceback(frozen_clock, caplog):
    with caplog.at_level("ERROR", logger=process.log.name):
        run(data=Broken(KeyError("oops")))
    (record,) = [r for r in caplog.records if r.name == process.log.name]
    assert record.getMessage() == "training failed" and record.exc_info is not None


class WaitedFor(Commands):
    """Nothing waiting at any poll: every command comes from a blocking wait (while paused), in order."""

    def poll(self, timeout=None):
        return False


def test_commands_while_paused_keep_it_paused_and_the_pause_is_reported_once(frozen_clock):
    model = CNN(seed=0)
    before = model.get_params()
    commands = WaitedFor(messages.SetLearningRate(0.02), messages.SetLearningRate(0.03), Stop())
    reports = Reports()
    job = TrainingJob(model, CONFIG, small_data(), paused=True)
    TrainingRun(job, reports, commands).run()
    assert commands.queue == []                                  # every command was waited for
    # held before step 1: its weights once, then (stopped) the final weights and the outcome; no step taken
    assert reports.kinds() == [Params, Params, Outcome] and reports.sent[-1] == Outcome(Result.STOPPED)
    for name, value in before.items():
        np.testing.assert_array_equal(model.params[name], value)


class FailsAtStep(CNN):
    """A network whose `at`-th training step raises, as a bug in core would."""

    def __init__(self, at):
        super().__init__(seed=0)
        self.calls, self.at = 0, at

    def forward_backward(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.at:
            raise RuntimeError("a bug")
        return super().forward_backward(*args, **kwargs)


def test_a_run_failing_mid_training_sends_the_weights_it_got_to_before_the_message(frozen_clock):
    model = FailsAtStep(at=5)                                    # four steps done; weights sent after step 1 only
    reports = run(model=model)
    assert reports.kinds()[-3:] == [Params, Failed, Outcome] and "a bug" in reports.sent[-2].message
    for name, value in reports.sent[-3].params.items():
        np.testing.assert_array_equal(value, model.params[name])


def test_a_protocol_error_is_logged_with_the_message_refused(frozen_clock, caplog):
    with caplog.at_level("ERROR", logger=process.log.name):
        run(commands=Commands("stop"))
    (record,) = [r for r in caplog.records if r.name == process.log.name]
    assert record.getMessage() == "training protocol: the training protocol has no message 'stop' (of type str)"


class SlowMotionClock(Commands):
    """A pipe with nothing waiting except `arrives` (returned by the `at`-th timed wait); each timed wait
    moves a fake clock on by its timeout, as a wait that no command interrupts takes that long."""

    def __init__(self, clock, at=None, arrives=None):
        super().__init__()
        self.clock, self.at, self.arrives, self.waits = clock, at, arrives, []

    def poll(self, timeout=None):
        if timeout is None:
            return bool(self.queue)
        self.waits.append(timeout)
        self.clock[0] += timeout
        if len(self.waits) == self.at:
            self.queue.append(self.arrives)
            return True
        return False


@pytest.fixture
def fake_clock(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(process.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(pacing.time, "monotonic", lambda: clock[0])
    return clock


def test_slow_motion_waits_out_each_step_in_full(fake_clock):
    commands = SlowMotionClock(fake_clock)
    reports = Reports()
    job = TrainingJob(CNN(seed=0), CONFIG, small_data(), steps_per_s=4.0)     # 3 epochs of 4 steps
    TrainingRun(job, reports, commands).run()
    assert reports.sent[-1] == Outcome(Result.FINISHED)
    assert commands.waits == [pytest.approx(0.25)] * 11                      # before every step but the first


def test_a_command_arriving_during_a_slow_motion_wait_is_obeyed_at_once(fake_clock):
    commands = SlowMotionClock(fake_clock, at=3, arrives=Stop())
    reports = Reports()
    job = TrainingJob(CNN(seed=0), CONFIG, small_data(), steps_per_s=4.0)
    TrainingRun(job, reports, commands).run()
    assert reports.sent[-1] == Outcome(Result.STOPPED) and len(commands.waits) == 3
    assert reports.progress()[-1].step == 3                                  # three steps taken, no fourth

"""The typed training-process protocol: every message has a handler, an unknown one is refused on both sides.

The child's side (gui.training.process.TrainingRun) runs here in the test's own process over real
pipes; the GUI's side (TrainingController) talks to a real training process.
"""
import multiprocessing
import pickle
from dataclasses import dataclass

import numpy as np
import pytest

from core.dataset_choice import DatasetChoice
from core.network import CNN
from core.train import TrainConfig
from gui.training import messages
from gui.training.controller import TrainingController
from gui.training.messages import (
    Command, Failed, Outcome, Params, Pause, ProgressReport, Report, Result, Resume, State, Stop,
)
from gui.training.process import TrainingJob, TrainingRun

RNG = np.random.default_rng(0)
TINY = (RNG.integers(0, 256, (32, 28, 28), dtype=np.uint8), RNG.integers(0, 10, 32, dtype=np.uint8))


class TinyData:
    """Stands in for a DatasetChoice: a small random set, no files read."""

    def load(self):
        return TINY, TINY, "32 random images"


@dataclass(frozen=True)
class Unhandled(Command):
    """A command added to the protocol without a handler in the child."""


@dataclass(frozen=True)
class Gossip(Report):
    """A report added to the protocol without a handler in the GUI."""


class Outbox:
    """The report pipe's writing end, kept in a list (a real pipe would fill up: nobody reads it here)."""

    def __init__(self):
        self.reports = []

    def send(self, report):
        self.reports.append(pickle.loads(pickle.dumps(report)))     # what a pipe would deliver


def run_child(*commands, close_commands=False):
    """Run one TrainingRun in this process with `commands` already waiting; its reports, in order."""
    outbox = Outbox()
    command_reader, command_writer = multiprocessing.Pipe(duplex=False)
    for command in commands:
        command_writer.send(command)
    if close_commands:
        command_writer.close()
    job = TrainingJob(CNN(seed=0), TrainConfig(epochs=2, batch_size=8, augment=False), TinyData())
    TrainingRun(job, outbox, command_reader).run()
    return outbox.reports


def kinds(reports):
    return [type(report) for report in reports]


def test_every_message_of_the_protocol_has_a_handler_on_the_side_that_receives_it():
    def own(base):
        return [cls for cls in base.__subclasses__() if cls.__module__ == messages.__name__]
    child = vars(TrainingRun)["_apply"].dispatcher           # the singledispatch registries
    gui = vars(TrainingController)["_handle"].dispatcher
    assert {"Stop", "Pause", "Resume"} <= {cls.__name__ for cls in own(Command)}
    for command in own(Command):
        assert child.dispatch(command) is not child.dispatch(object), f"no handler for {command.__name__}"
    assert ({"ProgressReport", "Params", "Tested", "Failed", "Outcome"}
            <= {cls.__name__ for cls in own(Report)})
    for report in own(Report):
        assert gui.dispatch(report) is not gui.dispatch(object), f"no handler for {report.__name__}"


def test_a_run_without_commands_reports_progress_weights_and_finishes():
    reports = run_child()
    assert ProgressReport in kinds(reports) and Params in kinds(reports)
    assert reports[-1] == Outcome(Result.FINISHED)
    assert type(reports[-2]).__name__ == "Tested" and len(reports[-2].labels) == len(TINY[1])


def test_stop_before_the_first_step_ends_the_run_as_stopped_without_training():
    assert run_child(Stop()) == [Outcome(Result.STOPPED)]


def test_a_closed_command_pipe_counts_as_stop():
    assert run_child(close_commands=True) == [Outcome(Result.STOPPED)]


def test_pause_then_resume_lets_the_run_go_on_to_the_end():
    reports = run_child(Pause(), Resume())
    assert reports[-1] == Outcome(Result.FINISHED)


@pytest.mark.parametrize("unknown", ["stop", ("pause",), None, Unhandled()], ids=repr)
def test_the_training_process_refuses_an_unknown_command(unknown):
    reports = run_child(unknown)
    assert kinds(reports) == [Failed, Outcome]          # nothing trained, nothing after the refusal
    assert reports[-1] == Outcome(Result.FAILED)
    assert "does not understand" in reports[0].message and repr(unknown) in reports[0].message


@pytest.fixture
def controller(qtbot):
    ctrl = TrainingController()
    yield ctrl
    assert ctrl.shutdown(2000)


@pytest.mark.parametrize("unknown", [("progress", None), "outcome", Gossip()], ids=repr)
def test_the_window_refuses_an_unknown_report_and_ends_the_training_process(qtbot, controller, unknown):
    progress, failures = [], []
    controller.progressed.connect(progress.append)
    controller.failed.connect(failures.append)
    controller.start(CNN(seed=0), TrainConfig(epochs=500, batch_size=8, augment=False), DatasetChoice("sample", 64))
    qtbot.waitUntil(lambda: len(progress) >= 1, timeout=10000)
    process = controller.child_process()
    with qtbot.waitSignal(controller.finished, timeout=5000) as finished:
        controller._relay.report.emit(controller._run, unknown)      # as if the child had sent it
    assert finished.args == [Result.FAILED]
    assert len(failures) == 1 and "does not understand" in failures[0] and repr(unknown) in failures[0]
    assert process.exitcode is not None and not controller.is_busy() and controller.state() == State.IDLE


def test_a_run_scores_its_test_set_once_per_epoch_and_never_again_at_the_end(monkeypatch):
    import core.train

    scored = []
    real_score = core.train.score

    def counting_score(model, images, labels, *args):
        scored.append(len(labels))
        return real_score(model, images, labels, *args)
    monkeypatch.setattr(core.train, "score", counting_score)
    monkeypatch.setattr(CNN, "predict_proba", lambda *args: pytest.fail("the test set was scored again"))
    reports = run_child()                               # 2 epochs
    assert scored == [len(TINY[1])] * 2
    tested = [report for report in reports if type(report).__name__ == "Tested"]
    last_epoch = [r.progress for r in reports if isinstance(r, ProgressReport) and r.progress.kind == "epoch"][-1]
    assert len(tested) == 1 and tested[0].probabilities.shape == (len(TINY[1]), 10)
    predicted = tested[0].probabilities.argmax(axis=1)
    assert np.mean(predicted == TINY[1]) == pytest.approx(last_epoch.test_accuracy)   # the same scoring
    assert last_epoch.test_probabilities is None        # the answers travel once, in Tested


class ExitedChild:
    """Stands in for the child's Process in ReportRelay: already ended."""
    exitcode = 0

    def join(self, timeout=None):
        pass


def test_the_relay_passes_unreadable_bytes_on_as_something_the_window_refuses(qtbot):
    from gui.training.controller import ReportRelay

    reader, writer = multiprocessing.Pipe(duplex=False)
    writer.send_bytes(b"not a pickle")
    writer.send(Outcome(Result.FINISHED))
    relay, relayed = ReportRelay(7, reader, ExitedChild()), []
    relay.report.connect(lambda run, report: relayed.append((run, report)))
    relay.run()                                         # in this thread: the emits arrive at once
    assert [run for run, _ in relayed] == [7, 7]
    unreadable, last = relayed[0][1], relayed[1][1]
    assert not isinstance(unreadable, Report) and last == Outcome(Result.FINISHED)
    gui = vars(TrainingController)["_handle"].dispatcher
    assert gui.dispatch(type(unreadable)) is gui.dispatch(object)   # no handler: the controller refuses it


class _Running:
    """Stands in for the child process: the controller only asks whether a run is on."""


def _controller_with_a_run(qtbot):
    controller = TrainingController()
    controller._process, controller._run = _Running(), 1
    return controller


def test_reports_are_handled_one_per_event_loop_turn_in_order_the_newest_weights_only(qtbot):
    from PySide6.QtCore import QTimer

    controller = _controller_with_a_run(qtbot)
    seen = []
    controller.progressed.connect(lambda progress: seen.append(("progress", progress)))
    controller.paramsUpdated.connect(lambda params: seen.append(("params", params["tag"])))
    turns = QTimer()                                     # marks each event-loop turn in `seen`
    turns.setInterval(0)
    turns.timeout.connect(lambda: seen.append(("turn", None)))
    for report in (ProgressReport("p1"), Params({"tag": "old"}), Params({"tag": "new"}), ProgressReport("p2"),
                   ProgressReport("p3")):
        controller._dispatch(1, report)                  # as the relay's queued signal delivers them
    assert seen == []                                    # nothing handled inside the signal's delivery
    turns.start()
    qtbot.waitUntil(lambda: len([kind for kind, _ in seen if kind != "turn"]) == 4, timeout=2000)
    turns.stop()
    handled = [(kind, value) for kind, value in seen if kind != "turn"]
    assert handled == [("progress", "p1"), ("params", "new"), ("progress", "p2"), ("progress", "p3")]
    kinds_in_order = [kind for kind, _ in seen]
    adjacent = [a for a, b in zip(kinds_in_order, kinds_in_order[1:]) if a != "turn" and b != "turn"]
    assert adjacent == []                                  # another turn between any two reports


def test_reports_of_an_ended_run_are_dropped(qtbot):
    controller = _controller_with_a_run(qtbot)
    seen = []
    controller.progressed.connect(seen.append)
    controller._dispatch(1, ProgressReport("old run"))
    controller._run = 2                                  # a new run began before the old report's turn
    controller._dispatch(2, ProgressReport("this run"))
    qtbot.waitUntil(lambda: seen == ["this run"], timeout=2000)
    qtbot.wait(20)
    assert seen == ["this run"]

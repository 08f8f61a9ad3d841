"""What the GUI and the training process say to each other: typed messages, one home for all.

The two sides (gui.training.controller in the GUI, gui.training.process in the child) send these
frozen dataclasses over two one-way pipes and dispatch on their type. A message of a type the
receiver has no handler for is an error (ProtocolError), never silently ignored. No Qt here:
the child imports this module.

  commands (GUI -> child): Stop, Pause, Resume, Step (exactly one batch, then paused),
    SetSpeed(steps_per_s or None), SetLearningRate(rate). A closed command pipe (the GUI is gone)
    counts as Stop, so a crashed GUI never leaves a training process behind.
  reports (child -> GUI):
    ProgressReport(core.train.Progress)  at most ~10 a second, plus every epoch's end
    Snapshots(records, gradients)        before each Params: the weights after every step since the
                                         last (for core.history) and the last step's gradients
    Params({name: array})                ~7 a second (every step in slow motion), when pausing, and
                                         the final weights
    Tested(images, labels, probabilities) after a run that was not stopped
    Failed(message for the user)
    Outcome(Result)                      always the last report

To add a command (e.g. Step): a frozen dataclass below, subclassing Command; a handler in
gui.training.process.TrainingRun registered with `@_apply.register`; a method on
TrainingController that sends it. A report likewise: a Report subclass here, a handler in
TrainingController registered with `@_handle.register`, sent by TrainingRun._send.
"""
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from core.train import Progress


class ProtocolError(Exception):
    """A message the receiving side does not understand: a bug, or two versions talking."""


def refuse(message) -> ProtocolError:
    """The error for a message with no handler (the fallback of every dispatcher)."""
    return ProtocolError(f"the training protocol has no message {message!r} "
                         f"(of type {type(message).__qualname__})")


class State(StrEnum):
    """Where the GUI's training controller is: IDLE -> RUNNING <-> PAUSED -> STOPPING -> IDLE."""
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"


class Result(StrEnum):
    """How a run ended."""
    FINISHED = "finished"     # every epoch trained (and the test set scored)
    STOPPED = "stopped"       # the user stopped it; the weights so far are kept
    FAILED = "failed"         # an error, told in a Failed report first


# ---- commands: GUI -> child ----------------------------------------------------------------------
@dataclass(frozen=True)
class Command:
    """Base of what the GUI asks the training process to do."""


@dataclass(frozen=True)
class Stop(Command):
    """End the run after the step in flight; the weights so far are sent."""


@dataclass(frozen=True)
class Pause(Command):
    """Hold training after the step in flight (the weights are sent) until Resume or Stop."""


@dataclass(frozen=True)
class Resume(Command):
    """Go on after a Pause."""


@dataclass(frozen=True)
class Step(Command):
    """Train exactly one batch, then hold (as after Pause). Sent while paused."""


@dataclass(frozen=True)
class SetSpeed(Command):
    """From the next step on: at most `steps_per_s` steps a second, each one reported (slow motion);
    None: full speed."""
    steps_per_s: float | None


@dataclass(frozen=True)
class SetLearningRate(Command):
    """From the next step on, the schedule's base learning rate is `rate`."""
    rate: float


# ---- reports: child -> GUI -----------------------------------------------------------------------
@dataclass(frozen=True)
class Report:
    """Base of what the training process tells the GUI."""


@dataclass(frozen=True)
class ProgressReport(Report):
    progress: Progress


@dataclass(frozen=True, eq=False)      # arrays: compared by identity
class Params(Report):
    params: dict            # name -> array, the shapes of core.network.CNN.params


@dataclass(frozen=True, eq=False)
class Snapshots(Report):
    """What the run's history records: [(global step, params copy, metrics dict)] in step order
    (step 0 = the weights before training), and the gradients of the last step ({name: array}, or
    None before the first step)."""
    records: list
    gradients: dict | None


@dataclass(frozen=True, eq=False)
class Tested(Report):
    """The trained model's answers on the test set, for the confusion matrix and the gallery."""
    images: np.ndarray          # (N, 28, 28) uint8
    labels: np.ndarray          # (N,) uint8
    probabilities: np.ndarray   # (N, 10)


@dataclass(frozen=True)
class Failed(Report):
    message: str            # one message fit to show the user as is


@dataclass(frozen=True)
class Outcome(Report):
    """Always the last report of a run."""
    result: Result

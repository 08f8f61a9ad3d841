"""The training child process: loads the images, trains, reports by pipe.

gui.training.controller starts `run_training` in a process made with the "spawn" method, so the
GUI's event loop never shares the GIL or a CPU priority with the training loop. This module
never imports Qt. The child talks through two one-way pipes, in the typed messages of
gui.training.messages: Command objects come in (dispatched by type in TrainingRun._apply),
Report objects go out (TrainingRun._send). A command with no handler ends the run as failed.
"""
import logging
import os
import signal
import time
from dataclasses import dataclass, replace
from functools import singledispatchmethod

from core.dataset_choice import Dataset, DatasetChoice
from core.errors import DigitpadError
from core.train import Progress, TrainConfig, train
from gui.training.messages import (
    Command, Failed, Outcome, Params, Pause, ProgressReport, ProtocolError, Report, Result, Resume, Stop, Tested,
    refuse,
)

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1     # at most ~10 progress reports a second
SNAPSHOT_INTERVAL_S = 0.15    # and ~7 weight snapshots a second
NICENESS = 10                 # the GUI gets the CPU first when both want it


@dataclass(frozen=True)
class TrainingJob:
    """Everything the child needs; pickled to it."""
    model: object               # core.network.CNN, trained in the child (the GUI's copy is untouched)
    config: TrainConfig
    data: DatasetChoice         # the child loads the images itself: only the choice travels


def run_training(job: TrainingJob, reports, commands) -> None:
    """The child process's entry point. `reports`/`commands`: multiprocessing Connections."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # Ctrl+C in a terminal is the GUI's to handle
    _lower_priority()
    try:
        TrainingRun(job, reports, commands).run()
    except (BrokenPipeError, ConnectionResetError):
        pass                                        # the GUI went away: nobody to report to
    finally:
        reports.close()


def _lower_priority() -> None:
    try:
        os.nice(NICENESS)
    except (AttributeError, OSError):               # no os.nice (Windows) or not allowed
        pass


class TrainingRun:
    """One run in the child: the same steps the GUI shows, with throttled reports."""

    def __init__(self, job: TrainingJob, reports, commands):
        self._model = job.model
        self._config = job.config
        self._data = job.data
        self._reports = reports
        self._commands = commands
        self._stopped = False
        self._paused = False
        self._started_training = False

    def run(self) -> None:
        try:
            train_set, test_set, _ = self._data.load()
            if not self._should_stop():
                last = self._train(train_set, test_set)
                if not self._should_stop():           # scored with the last epoch: not scored again
                    self._send(Tested(*test_set, last.test_probabilities))
            self._send(Outcome(Result.STOPPED if self._stopped else Result.FINISHED))
        except DigitpadError as error:
            self._fail(str(error))
        except ProtocolError as error:
            log.error("training protocol: %s", error)
            self._fail(f"Training stopped because the training process got a message it does not "
                       f"understand ({error}). This is a bug in digitpad.")
        except (BrokenPipeError, ConnectionResetError):
            raise
        except Exception as error:  # a bug must not end the run silently: say what happened
            log.exception("training failed")
            self._fail(f"Training stopped because of an unexpected error: {error!r}")

    # ---- commands from the GUI ---------------------------------------------------------------
    def _should_stop(self) -> bool:
        """Apply the commands waiting in the pipe (cheap when there are none); True once stopped."""
        while not self._stopped and self._commands.poll():
            self._apply(self._receive())
        return self._stopped

    def _wait_while_paused(self) -> None:
        while self._paused and not self._stopped:
            self._apply(self._receive())                # blocks: no busy loop while paused

    def _receive(self) -> Command:
        try:
            return self._commands.recv()
        except (EOFError, OSError):                     # the GUI closed its end or died
            return Stop()

    # One handler per Command type (gui.training.messages); a new command adds one here.
    @singledispatchmethod
    def _apply(self, command) -> None:
        raise refuse(command)

    @_apply.register
    def _apply_stop(self, command: Stop) -> None:
        self._stopped, self._paused = True, False

    @_apply.register
    def _apply_pause(self, command: Pause) -> None:
        self._paused = True

    @_apply.register
    def _apply_resume(self, command: Resume) -> None:
        self._paused = False

    # ---- the run -----------------------------------------------------------------------------
    def _train(self, train_set: Dataset, test_set: Dataset) -> Progress | None:
        """Train, reporting as it goes; the last epoch's Progress (with the test set's answers)."""
        self._started_training = True
        last_progress = last_snapshot = 0.0
        pending = last_epoch = None                     # the newest progress not yet reported
        for progress in train(self._model, self._config, train_set, test_set, self._should_stop):
            now = time.monotonic()
            pending = progress
            if progress.kind == "epoch":
                last_epoch = progress
            if progress.kind == "epoch" or now - last_progress >= PROGRESS_INTERVAL_S:
                self._send(ProgressReport(_light(progress)))
                last_progress, pending = now, None
            if now - last_snapshot >= SNAPSHOT_INTERVAL_S:
                self._send_params()
                last_snapshot = now
            if self._paused:
                pending = self._report_pause(pending)
                self._wait_while_paused()
        if pending is not None:
            self._send(ProgressReport(_light(pending)))
        self._send_params()                             # the final weights, also after a stop
        return last_epoch

    def _report_pause(self, pending):
        """Show exactly where training paused; returns the (now empty) pending progress."""
        if pending is not None:
            self._send(ProgressReport(_light(pending)))
        self._send_params()
        return None

    def _fail(self, message: str) -> None:
        if self._started_training:                      # the weights core kept (restored on divergence)
            self._send_params()
        self._send(Failed(message))
        self._send(Outcome(Result.FAILED))

    def _send_params(self) -> None:
        self._send(Params(self._model.get_params()))

    def _send(self, report: Report) -> None:
        self._reports.send(report)


def _light(progress: Progress) -> Progress:
    """The progress without the test set's answers: they travel once, in the Tested report."""
    return replace(progress, test_probabilities=None) if progress.test_probabilities is not None else progress

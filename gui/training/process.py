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
    Command, Failed, Outcome, Params, Pause, ProgressReport, ProtocolError, Report, Result, Resume, SetLearningRate,
    SetSpeed, Snapshots, Step, Stop, Tested, refuse,
)
from gui.training.pacing import LearningRate, Pace, SnapshotRecorder

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
    paused: bool = False        # hold before the first step (until Step or Resume)
    steps_per_s: float | None = None    # slow motion from the start; None: full speed


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
        self._pace = Pace(job.paused, job.steps_per_s)      # pause, Step, slow motion
        self._learning_rate = LearningRate(job.config)      # changeable while training
        self._recorder = SnapshotRecorder(self._model)      # every step's weights, for the GUI's history
        self._gradients: dict = {}                          # filled by train() after every step
        self._pending = None                                # the newest progress not yet reported
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

    def _before_step(self) -> bool:
        """train()'s should_stop: apply commands, hold while paused (reporting where), space the steps
        out in slow motion. True once stopped; otherwise the next step begins."""
        self._should_stop()
        reported = False
        while not self._stopped:
            if self._pace.held():
                if not reported:
                    self._report_pause()
                    reported = True
                self._apply(self._receive())            # blocks: no busy loop while paused
                continue
            wait = self._pace.wait_s()
            if wait <= 0:
                break
            if self._commands.poll(wait):               # slow motion, still answering at once
                self._apply(self._receive())
        if not self._stopped:
            self._pace.begin_step()
        return self._stopped

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
        self._stopped = True
        self._pace.resume()

    @_apply.register
    def _apply_pause(self, command: Pause) -> None:
        self._pace.pause()

    @_apply.register
    def _apply_resume(self, command: Resume) -> None:
        self._pace.resume()

    @_apply.register
    def _apply_step(self, command: Step) -> None:
        self._pace.step()

    @_apply.register
    def _apply_set_speed(self, command: SetSpeed) -> None:
        self._pace.set_speed(command.steps_per_s)

    @_apply.register
    def _apply_set_learning_rate(self, command: SetLearningRate) -> None:
        self._learning_rate.set_base(command.rate)

    # ---- the run -----------------------------------------------------------------------------
    def _train(self, train_set: Dataset, test_set: Dataset) -> Progress | None:
        """Train, reporting as it goes; the last epoch's Progress (with the test set's answers)."""
        self._started_training = True
        self._recorder.record_start()                   # step 0: the weights before training
        last_progress = last_snapshot = 0.0
        last_epoch = None
        for progress in train(self._model, self._config, train_set, test_set, self._before_step,
                              learning_rate=self._learning_rate, gradients=self._gradients):
            now = time.monotonic()
            if progress.kind == "batch":
                self._recorder.record(progress)
            else:
                last_epoch = progress
            self._pending = progress
            every_step = self._pace.slow                # slow motion: every view updates after every step
            if progress.kind == "epoch" or every_step or now - last_progress >= PROGRESS_INTERVAL_S:
                self._send(ProgressReport(_light(progress)))
                last_progress, self._pending = now, None
            if every_step or now - last_snapshot >= SNAPSHOT_INTERVAL_S:
                self._send_params()
                last_snapshot = now
        self._report_pause()                            # the last progress and the final weights, also after a stop
        return last_epoch

    def _report_pause(self) -> None:
        """Show exactly where training is: the progress not yet reported, the snapshots, the weights."""
        if self._pending is not None:
            self._send(ProgressReport(_light(self._pending)))
            self._pending = None
        self._send_params()

    def _fail(self, message: str) -> None:
        if self._started_training:                      # the weights core kept (restored on divergence)
            self._send_params()
        self._send(Failed(message))
        self._send(Outcome(Result.FAILED))

    def _send_params(self) -> None:
        """The steps recorded since the last call (with the last step's gradients), then the weights."""
        records = self._recorder.take()
        if records:
            gradients = dict(self._gradients) or None       # the layers' arrays: pickled (copied) by send
            self._send(Snapshots(records, gradients))
        self._send(Params(self._model.get_params()))

    def _send(self, report: Report) -> None:
        self._reports.send(report)


def _light(progress: Progress) -> Progress:
    """The progress without the test set's answers: they travel once, in the Tested report."""
    return replace(progress, test_probabilities=None) if progress.test_probabilities is not None else progress

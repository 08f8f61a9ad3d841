"""Training off the GUI's process: a child process trains, a thin thread relays its reports.

Why a process (measured with bench/gui_latency.py): the GUI thread's long event-loop passes
(~15-20 ms of its own work when a weight update, a progress update and a stroke's prediction
repaint the plots together) grew to 31-53 ms with a training thread beside it, because the
GUI thread then also waited for the GIL (every Qt call from Python gives it up and takes it
back) and for a CPU (two cores, the training at the same priority as the event loop and Qt's
painting helper threads). The child (gui.training.process, never Qt) shares no GIL and runs
at a lower priority, so the GUI gets the CPU first.

`ReportRelay` (a QThread) blocks on the child's report pipe and emits each report; it is
connected to `TrainingController`, a QObject in the GUI thread, so Qt queues the reports into
the GUI thread. The controller queues them and handles one per event-loop turn (a weight
update and a batch of snapshots together kept the loop busy for 20-50 ms on a loaded machine; one
at a time, the pen's moves and paints get their turn between them); of several weight updates
waiting, only the newest is shown. Widgets and tests listen to the controller only. The messages
both ways are the typed ones of gui.training.messages, dispatched by type (TrainingController._handle); a
report with no handler ends the run as failed.
"""
import logging
import multiprocessing
import multiprocessing.connection
import signal
from collections import deque
from dataclasses import dataclass
from functools import singledispatchmethod

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from core.dataset_choice import DatasetChoice
from core.train import TrainConfig
from gui.training.messages import (
    Command, Failed, Outcome, Params, Pause, ProgressReport, ProtocolError, Result, Resume, SetLearningRate, SetSpeed,
    Snapshots, State, Step, Stop, Tested, refuse,
)
from gui.training.process import TrainingJob, run_training

__all__ = ["Result", "State", "Tested", "TrainingController"]

log = logging.getLogger(__name__)

STOP_GRACE_S = 0.1     # time a terminated (SIGTERM) or killed child gets to end
STOP_PATIENCE_MS = 3000   # a child that has not ended this long after Stop is stuck: it is ended
STUCK_REAP_S = 2.0        # how long a killed stuck child gets to be reaped before the relay's report counts


def has_ended(process) -> bool:
    """True once `process` has exited, whichever thread reaped it. (exitcode alone can read None for
    a moment when the relay thread's join and the GUI thread's join race to reap the same child.)"""
    return process.exitcode is not None or bool(multiprocessing.connection.wait([process.sentinel], 0))


def crash_message(exitcode: int | None) -> str:
    """What the user reads when the training process ended without saying how the run went."""
    if exitcode is None:
        how = "stopped reporting"
    elif exitcode < 0:
        try:
            how = f"was killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            how = f"was killed by signal {-exitcode}"
    else:
        how = f"ended unexpectedly (exit code {exitcode})"
    return (f"The training process {how}. The network keeps the weights of the last update "
            f"shown; start training again to continue.")


@dataclass(frozen=True)
class UnreadableReport:
    """What the relay passes on when the child's bytes cannot be read back: deliberately no Report."""
    error: Exception


class ReportRelay(QThread):
    """Receives the child's reports (gui.training.messages.Report) and emits them with the run's number.

    Ends after the Outcome report; when the child dies without one, it makes up
    Failed(crash_message) and Outcome(Result.FAILED) so the GUI never waits in vain.
    """

    report = Signal(int, object)        # run number, the report (any object: the controller checks it)

    def __init__(self, run: int, reports, process):
        super().__init__()
        self._run = run
        self._reports = reports       # the reading end of the child's report pipe
        self._process = process

    def run(self) -> None:
        try:
            if self._relay_until_outcome():
                return
            self._process.join(1.0)   # the pipe closed: the child is gone or going
            self.report.emit(self._run, Failed(crash_message(self._process.exitcode)))
            self.report.emit(self._run, Outcome(Result.FAILED))
        finally:
            self._reports.close()

    def _relay_until_outcome(self) -> bool:
        """Emit reports until the last one (True) or until the child's end closes early (False)."""
        while True:
            try:
                report = self._reports.recv()           # blocks without holding the GIL
            except (EOFError, OSError):
                return False
            except Exception as error:                  # bytes that unpickle to no message of ours
                report = UnreadableReport(error)        # refused by the controller, which ends the run
            self.report.emit(self._run, report)
            if isinstance(report, Outcome):
                return True


class TrainingController(QObject):
    """Starts, pauses, resumes and stops training; re-emits the child's reports in the GUI thread.

    state (messages.State): IDLE -> RUNNING <-> PAUSED -> STOPPING -> IDLE.
    """

    stateChanged = Signal(object)      # messages.State
    progressed = Signal(object)        # core.train.Progress
    paramsUpdated = Signal(object)     # dict of parameter arrays (copies: safe to keep)
    snapshotsRecorded = Signal(object) # [(global step, params, metrics)] since the last, for core.history
    gradientsUpdated = Signal(object)  # {name: array}: the gradients of the last step
    tested = Signal(object)            # messages.Tested
    failed = Signal(str)               # a message for the user
    finished = Signal(object)          # messages.Result; the child has ended

    def __init__(self, parent=None):
        super().__init__(parent)
        self._process = None           # multiprocessing.Process of the run, None when idle
        self._commands = None          # the GUI's end of the command pipe
        self._relay: ReportRelay | None = None
        self._run = 0                  # number of the current run; reports of older runs are dropped
        self._state = State.IDLE
        self._stop_deadline = QTimer(self)     # Stop gives up on a stuck child after STOP_PATIENCE_MS
        self._stop_deadline.setSingleShot(True)
        self._stop_deadline.timeout.connect(self._end_stuck_child)
        self._reports: deque[tuple[int, object]] = deque()   # (run, report) received, not yet handled
        self._pump = QTimer(self)              # handles one queued report per event-loop turn
        self._pump.setInterval(0)
        self._pump.timeout.connect(self._handle_next)

    def state(self) -> State:
        return self._state

    def is_busy(self) -> bool:
        return self._process is not None

    def child_process(self):
        """The running training process (multiprocessing.Process) or None: for tests and diagnostics."""
        return self._process

    def start(self, model, config: TrainConfig, data: DatasetChoice, *, paused: bool = False,
              steps_per_s: float | None = None) -> None:
        """Train a copy of `model` in a child process on the images `data` chooses (loaded there).

        `model` itself is never changed: the new weights arrive through `paramsUpdated`. paused: hold
        before the first step (step() then trains exactly one batch); steps_per_s: slow motion (None:
        full speed).
        """
        if self._process is not None:
            raise RuntimeError("training is already running")
        context = multiprocessing.get_context("spawn")       # never fork a process running Qt threads
        report_reader, report_writer = context.Pipe(duplex=False)
        command_reader, command_writer = context.Pipe(duplex=False)
        process = context.Process(target=run_training, name="digitpad-training", daemon=True,
                                  args=(TrainingJob(model, config, data, paused, steps_per_s),
                                        report_writer, command_reader))
        try:
            process.start()
        except OSError as error:       # out of memory or processes: tell the user, as for any failed run
            for end in (report_reader, report_writer, command_reader, command_writer):
                end.close()
            self.failed.emit(f"Could not start the training process: {error.strerror or error}. "
                             f"Close other programs and try again.")
            self.finished.emit(Result.FAILED)
            return
        report_writer.close()          # the child holds the only writing end: its death closes the pipe
        command_reader.close()
        self._process, self._commands = process, command_writer
        self._run += 1
        self._relay = ReportRelay(self._run, report_reader, process)
        self._relay.report.connect(self._dispatch)
        self._set_state(State.PAUSED if paused else State.RUNNING)
        self._relay.start()

    def pause(self) -> None:
        if self._state == State.RUNNING:
            self._command(Pause())
            self._set_state(State.PAUSED)

    def resume(self) -> None:
        if self._state == State.PAUSED:
            self._command(Resume())
            self._set_state(State.RUNNING)

    def step(self) -> None:
        """Train exactly one batch, then hold (only while paused)."""
        if self._state == State.PAUSED:
            self._command(Step())

    def set_speed(self, steps_per_s: float | None) -> None:
        """Slow motion at `steps_per_s` (every step reported), or None for full speed; from the next step."""
        if self._state in (State.RUNNING, State.PAUSED):
            self._command(SetSpeed(steps_per_s))

    def set_learning_rate(self, rate: float) -> None:
        """The schedule's base learning rate, from the next step on."""
        if self._state in (State.RUNNING, State.PAUSED):
            self._command(SetLearningRate(rate))

    def toggle_pause(self) -> None:
        self.resume() if self._state == State.PAUSED else self.pause()

    def stop(self) -> None:
        if self._process is not None and self._state != State.STOPPING:
            self._command(Stop())
            self._set_state(State.STOPPING)
            self._stop_deadline.start(STOP_PATIENCE_MS)

    def _end_stuck_child(self) -> None:
        """Stop was not answered (the child hangs, or is suspended): end it; the app goes on."""
        if self._process is None or self._state != State.STOPPING:
            return
        if not self.shutdown(0):                 # SIGTERM, then SIGKILL with STUCK_REAP_S to be reaped;
            self._stop_deadline.start(STOP_PATIENCE_MS)  # not even gone then: look again later
            return
        self.failed.emit(f"The training process did not answer Stop within {STOP_PATIENCE_MS / 1000:g} s, so "
                         "digitpad ended it. The network keeps the weights of the last update shown; "
                         "you can train again.")
        self.finished.emit(Result.STOPPED)

    def shutdown(self, timeout_ms: int = 1000) -> bool:
        """End the run for good (window closing): ask the child to stop, give it `timeout_ms`,
        then terminate it (SIGTERM, and SIGKILL after STOP_GRACE_S; both waits are part of the
        timeout; a killed child may take up to STUCK_REAP_S more to be reaped on a busy machine).
        Reports still in flight are dropped.

        Returns True when no child is left (ended and reaped, or none was running); False when
        the child outlived even SIGKILL within the timeout (e.g. stuck in the kernel): the run is
        kept, so a later shutdown can wait for it again."""
        process, relay = self._process, self._relay
        if process is None:
            return True
        self.stop()
        process.join(max(timeout_ms / 1000 - 2 * STOP_GRACE_S, 0))
        for end, grace in ((process.terminate, STOP_GRACE_S), (process.kill, STUCK_REAP_S)):
            if not has_ended(process):
                end()
                process.join(grace)
        if not has_ended(process):
            return False
        relay.report.disconnect(self._dispatch)
        self._forget_run()             # the child's pipe is closed now, so the relay ends at once
        return True

    def _command(self, command: Command) -> None:
        try:
            self._commands.send(command)
        except OSError:                # the child already ended; the relay reports how
            pass

    def _set_state(self, state: State) -> None:
        if state != self._state:
            self._state = state
            self.stateChanged.emit(state)

    def _forget_run(self) -> None:
        self._stop_deadline.stop()
        relay, self._relay = self._relay, None
        relay.wait()
        relay.deleteLater()
        self._commands.close()
        self._process = self._commands = None     # joined already: its exit code stays readable
        self._set_state(State.IDLE)

    @Slot(int, object)
    def _dispatch(self, run: int, report) -> None:
        self._reports.append((run, report))
        if not self._pump.isActive():
            self._pump.start()

    def _handle_next(self) -> None:
        if not self._reports:
            self._pump.stop()
            return
        run, report = self._reports.popleft()
        if run != self._run or self._process is None:    # queued before a shutdown: that run is over
            return
        if isinstance(report, Params) and any(isinstance(later, Params) for _, later in self._reports):
            return                                       # a newer weight update is already waiting
        try:
            self._handle(report)
        except ProtocolError as error:
            self._refuse(error)

    # One handler per Report type (gui.training.messages); a new report adds one here.
    @singledispatchmethod
    def _handle(self, report) -> None:
        raise refuse(report)

    @_handle.register
    def _handle_progress(self, report: ProgressReport) -> None:
        self.progressed.emit(report.progress)

    @_handle.register
    def _handle_params(self, report: Params) -> None:
        self.paramsUpdated.emit(report.params)

    @_handle.register
    def _handle_snapshots(self, report: Snapshots) -> None:
        self.snapshotsRecorded.emit(report.records)
        if report.gradients is not None:
            self.gradientsUpdated.emit(report.gradients)

    @_handle.register
    def _handle_tested(self, report: Tested) -> None:
        self.tested.emit(report)

    @_handle.register
    def _handle_failed(self, report: Failed) -> None:
        self.failed.emit(report.message)

    @_handle.register
    def _handle_outcome(self, report: Outcome) -> None:
        self._end_run(report.result)

    def _refuse(self, error: ProtocolError) -> None:
        """A report with no handler: the child cannot be trusted, so end it now and say so."""
        log.error("training protocol: %s", error)
        self._process.kill()
        self.failed.emit(f"Training stopped because the window got a message from the training process "
                         f"it does not understand ({error}). This is a bug in digitpad.")
        self._end_run(Result.FAILED)

    def _end_run(self, result: Result) -> None:
        """The last report arrived: reap the child (it is exiting) and say how the run ended."""
        self._process.join(1.0)
        if self._process.exitcode is None:
            self._process.kill()
            self._process.join()
        self._forget_run()
        self.finished.emit(result)

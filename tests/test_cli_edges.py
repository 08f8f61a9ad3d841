"""digitpad-train's edges in-process: exit statuses, Ctrl+C paths, stream set-up, save fallbacks, logging."""
import io
import logging
import os
import signal
import sys

import numpy as np
import pytest

import core.train
from core import cli
from core.errors import ModelFileError
from core.network import CNN
from fake_tqdm import FakeTqdm

SMALL = ["--dataset", "sample", "--epochs", "1", "--train-size", "40", "--test-size", "30", "--no-augment",
         "--batch-size", "10"]


def main_running(monkeypatch, fake_main):
    """cli.main with the training program replaced by fake_main(argv)."""
    monkeypatch.setattr(cli, "_main", fake_main)
    return cli.main([])


def test_ctrl_c_outside_training_is_one_line_and_130(capsys, monkeypatch):
    def interrupted(argv):
        signal.raise_signal(signal.SIGINT)
        raise AssertionError("Ctrl+C did not end the program")

    assert main_running(monkeypatch, interrupted) == cli.EXIT_INTERRUPTED
    assert capsys.readouterr().err.splitlines() == [cli.INTERRUPTED]


def test_ctrl_c_surfacing_as_another_error_is_still_the_interruption(capsys, monkeypatch):
    def import_cut_short(argv):
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            raise ImportError("an extension's import was interrupted") from None

    assert main_running(monkeypatch, import_cut_short) == cli.EXIT_INTERRUPTED
    assert capsys.readouterr().err.splitlines() == [cli.INTERRUPTED]


def test_an_error_without_ctrl_c_is_not_called_an_interruption(monkeypatch):
    def failing(argv):
        raise ImportError("a real bug")

    with pytest.raises(ImportError):
        main_running(monkeypatch, failing)


@pytest.mark.parametrize("status, expected", [(0, cli.EXIT_CLOSED_PIPE), (1, 1), (130, 130)])
def test_a_closed_pipe_turns_success_into_141_and_keeps_failures(capsys, monkeypatch, status, expected):
    def closed_pipe(text):
        raise BrokenPipeError

    def run_into_closed_pipe(argv):
        cli.say("Test Loss: 0.1234", write=closed_pipe)
        return status

    monkeypatch.setattr(cli, "_silence_stdout", lambda: None)    # capsys' stdout has no descriptor to redirect
    assert main_running(monkeypatch, run_into_closed_pipe) == expected


def test_an_open_pipe_keeps_the_status(capsys, monkeypatch):
    assert main_running(monkeypatch, lambda argv: 0) == 0
    assert main_running(monkeypatch, lambda argv: cli.EXIT_ERROR) == cli.EXIT_ERROR


class Unwritable(io.TextIOBase):
    def __init__(self, error):
        self.error = error

    def write(self, text):
        raise self.error

    def reconfigure(self, **kwargs):
        raise self.error


@pytest.mark.parametrize("error", [OSError(5, "Input/output error"), ValueError("I/O operation on closed file")])
def test_a_line_to_a_broken_stderr_is_dropped_quietly(monkeypatch, error):
    monkeypatch.setattr(sys, "stderr", Unwritable(error))
    cli._print_quietly("a line nobody can read")


def ascii_stream():
    return io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="strict")


def test_output_streams_print_unencodable_names_escaped(monkeypatch):
    out, err = ascii_stream(), ascii_stream()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    cli.safe_output_streams()
    for stream in (out, err):
        print("Model saved to caf\u00e9/m.npz", file=stream)
        stream.flush()
        assert stream.buffer.getvalue() == b"Model saved to caf\\xe9/m.npz\n"


@pytest.mark.parametrize("stream", [io.StringIO(), Unwritable(OSError(9, "Bad file descriptor")),
                                    Unwritable(ValueError("I/O operation on closed file"))],
                         ids=["no reconfigure", "OSError", "ValueError"])
def test_output_streams_that_cannot_be_reconfigured_are_left_as_they_are(monkeypatch, stream):
    monkeypatch.setattr(sys, "stdout", stream)
    monkeypatch.setattr(sys, "stderr", stream)
    cli.safe_output_streams()


@pytest.fixture
def fresh_download_logger():
    """core.download's logger as in a new process (no handler yet); put back afterwards."""
    logger = logging.getLogger("core.download")
    saved = logger.handlers[:], logger.level, logger.propagate
    logger.handlers[:] = []
    logger.setLevel(logging.NOTSET)
    logger.propagate = True
    yield logger
    logger.handlers[:], (level, logger.propagate) = saved[0], saved[1:]
    logger.setLevel(level)


def test_download_attempts_go_to_stderr_once_and_nothing_else_does(capsys, caplog, fresh_download_logger):
    caplog.set_level(logging.INFO)                 # a root handler that would see anything propagated
    cli.report_download_attempts()
    cli.report_download_attempts()                 # a second run in the same process adds no second line
    fresh_download_logger.info("Trying https://mirror.example/")
    logging.getLogger("some.other.library").info("chatter")
    assert capsys.readouterr().err.splitlines() == ["Trying https://mirror.example/"]
    assert [record.getMessage() for record in caplog.records] == ["chatter"]


def test_loading_shows_a_download_bar_fed_by_the_progress(capsys):
    class Downloading:
        def load(self, allow_download, progress=None, log=None):
            progress(512, 1024, "t10k-labels-idx1-ubyte.gz")
            return "loaded"

    assert cli.load_data(cli.build_parser().parse_args([]), Downloading()) == "loaded"
    assert "Downloading t10k-labels-idx1-ubyte.gz" in capsys.readouterr().err


@pytest.mark.parametrize("seed", [3, 11])
def test_an_untrained_run_saves_the_seeded_starting_weights(monkeypatch, tmp_path, capsys, seed):
    monkeypatch.setattr(cli, "run_with_bar", lambda *args: None)      # no training step at all
    save = tmp_path / "m.npz"
    assert cli.main([*SMALL, "--filters", "4", "--seed", str(seed), "--save", str(save)]) == 0
    expected = CNN(num_filters=4, seed=seed, deskew=True)
    saved = CNN.load(save)
    for name, value in expected.params.items():
        np.testing.assert_array_equal(saved.params[name], value)


def test_a_finished_run_reports_its_last_epoch_figures_without_a_second_test_pass(
        monkeypatch, tmp_path, capsys):
    calls = []
    real_evaluate = core.train.evaluate

    def counted(*args, **kwargs):
        calls.append(1)
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(core.train, "evaluate", counted)
    assert cli.main([*SMALL, "--epochs", "2", "--save", str(tmp_path / "m.npz")]) == 0
    assert calls == []                          # the last epoch already measured the final weights
    assert "Interrupted" not in capsys.readouterr().err


def test_require_full_mnist_refuses_the_sample_before_training(capsys, tmp_path):
    status = cli.main([*SMALL, "--require-full-mnist", "--save", str(tmp_path / "m.npz")])
    assert status == cli.EXIT_ERROR
    assert "accepts full MNIST only. --dataset sample was asked for." in capsys.readouterr().err
    assert not (tmp_path / "m.npz").exists()


def interrupt_after_two(monkeypatch):
    """core.train.train that sends Ctrl+C after its second report; returns the list of reports it made."""
    real_train = core.train.train
    made = []

    def train_then_interrupt(*args, **kwargs):
        for progress in real_train(*args, **kwargs):
            made.append(progress)
            yield progress
            if len(made) == 2:
                signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(core.train, "train", train_then_interrupt)
    return made


@pytest.mark.parametrize("save_name, interrupted_name", [("model", "model-interrupted.npz"),
                                                         ("m.npz", "m-interrupted.npz")])
def test_ctrl_c_stops_training_after_the_batch_and_names_the_file_beside(monkeypatch, tmp_path, capsys,
                                                                           save_name, interrupted_name):
    made = interrupt_after_two(monkeypatch)
    assert cli.main([*SMALL, "--epochs", "3", "--save", str(tmp_path / save_name)]) == cli.EXIT_INTERRUPTED
    assert len(made) <= 3                       # 12 batches asked for; stopped at the next batch's check
    assert sorted(path.name for path in tmp_path.iterdir()) == [interrupted_name]


def test_ctrl_c_stops_the_tutorial_too(monkeypatch, tmp_path, capsys):
    made = interrupt_after_two(monkeypatch)
    save = tmp_path / "t.npz"
    assert cli.main(["--tutorial", "--dataset", "sample", "--save", str(save)]) == cli.EXIT_INTERRUPTED
    assert len(made) <= 3
    assert CNN.load(tmp_path / "t-interrupted.npz").num_filters == 8 and not save.exists()


def test_every_path_flag_is_a_path(tmp_path):
    args = cli.build_parser().parse_args(["--init", "a.npz", "--save", "b.npz", "--data-dir", "c"])
    assert (args.init, args.save, args.data_dir) == (cli.Path("a.npz"), cli.Path("b.npz"), cli.Path("c"))


def test_the_largest_seed_is_allowed():
    cli.check_ranges(cli.build_parser().parse_args(["--seed", str(cli.MAX_SEED)]))


def test_a_save_target_that_is_no_regular_file_is_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ModelFileError) as caught:
        cli.check_save_target(fifo)
    assert str(caught.value) == f"Cannot save the model to {fifo}: it is not a regular file."


def test_the_bar_figures_do_not_force_a_redraw(monkeypatch):
    """tqdm redraws at its own pace; forcing one every 20 steps floods a slow terminal or a log file."""
    import tqdm

    FakeTqdm.made = []
    monkeypatch.setattr(tqdm, "tqdm", FakeTqdm)
    images, labels = np.zeros((40, 28, 28), np.uint8), np.arange(40) % 10
    cli.run_with_bar(CNN(seed=0), core.train.TrainConfig(epochs=1, batch_size=1, augment=False),
                     (images, labels), (images[:5], labels[:5]), lambda: False)
    (bar,) = FakeTqdm.made
    assert len(bar.refreshes) == 2 and not any(bar.refreshes)


def unsavable_target(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    return blocker / "model.npz"            # its folder is a file: saving fails with ModelFileError


def test_the_fallback_folder_is_made_with_its_parents(monkeypatch, tmp_path):
    deep = tmp_path / "data" / "digitpad" / "unsaved.npz"
    monkeypatch.setattr(cli, "fallback_paths", lambda target: [deep])
    saved, error = cli.save_with_fallback(CNN(num_filters=2, seed=0), unsavable_target(tmp_path))
    assert saved == deep and isinstance(error, ModelFileError) and CNN.load(deep).num_filters == 2


def test_an_existing_fallback_folder_is_used(monkeypatch, tmp_path):
    first, second = tmp_path / "exists" / "unsaved.npz", tmp_path / "second" / "unsaved.npz"
    first.parent.mkdir()
    monkeypatch.setattr(cli, "fallback_paths", lambda target: [first, second])
    saved, _ = cli.save_with_fallback(CNN(num_filters=2, seed=0), unsavable_target(tmp_path))
    assert saved == first and not second.exists()


def test_a_failing_fallback_passes_to_the_next(monkeypatch, tmp_path):
    target = unsavable_target(tmp_path)
    second = tmp_path / "second" / "unsaved.npz"
    monkeypatch.setattr(cli, "fallback_paths", lambda target: [target.parent / "x" / "unsaved.npz", second])
    saved, _ = cli.save_with_fallback(CNN(num_filters=2, seed=0), target)
    assert saved == second

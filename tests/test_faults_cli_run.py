"""digitpad-train, second round: flags out of range, save destinations that cannot work, a save
that fails at the end, Ctrl+C at any moment, a closed output pipe, unprintable folder names.

Flags are refused before anything is loaded (argparse: usage and one error line, status 2);
a save destination that cannot work is one error line before training (status 1); a trained
model is never thrown away.
"""
import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_faults_cli import QUICK, run_main, the_error_line, write_mnist_folder

from core import atomic, cli
from core.network import CNN
from core.paths import user_data_dir

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parent.parent
TRAIN = [sys.executable, "-c", "import sys; from core.cli import main; raise SystemExit(main())"]


def in_project(env=None):
    return {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}


BAD_FLAGS = {
    "--filters 0": (["--filters", "0"], "--filters must be from 1 to 256"),
    "--filters 257": (["--filters", "257"], "--filters must be from 1 to 256"),
    "--filters -3": (["--filters", "-3"], "--filters must be from 1 to 256"),
    "--seed -1": (["--seed", "-1"], "--seed must be 0 or a positive"),
    "--seed 2^64": (["--seed", str(2**64)], "--seed must be 0 or a positive"),
    "--epochs 0": (["--epochs", "0"], "epochs must be at least 1"),
    "--epochs 10^9": (["--epochs", str(10**9)], "--epochs must be at most"),
    "--batch-size 0": (["--batch-size", "0"], "batch size must be at least 1"),
    "--batch-size 10^6": (["--batch-size", str(10**6)], "--batch-size must be at most"),
    "--lr nan": (["--lr", "nan"], "learning rate must be positive"),
    "--lr -1": (["--lr", "-1"], "learning rate must be positive"),
    "--lr inf": (["--lr", "inf"], "learning rate must be positive"),
    "--momentum 1": (["--momentum", "1"], "momentum must be at least 0 and below 1"),
    "--train-size 0": (["--train-size", "0"], "training-set size must be at least 1"),
    "--test-size -5": (["--test-size", "-5"], "test-set size must be at least 1"),
}


@pytest.mark.keeps_data
@pytest.mark.parametrize("case", BAD_FLAGS)
def test_a_flag_out_of_range_is_refused_before_anything_runs(capsys, tmp_path, case):
    flags, words = BAD_FLAGS[case]
    save = tmp_path / "model.npz"
    save.write_bytes(b"earlier")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--dataset", "sample", "--save", str(save), *flags])
    out, err = capsys.readouterr()
    assert exit_info.value.code == 2
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith(f"digitpad-train: error: {words}")
    assert "Data:" not in out and save.read_bytes() == b"earlier"


def test_the_largest_filter_count_allowed_trains_and_loads_again(capsys, tmp_path):
    status, out, err = run_main(capsys, "--dataset", "sample", "--filters", "256", "--save", tmp_path / "m.npz",
                                "--epochs", "1", "--train-size", "8", "--test-size", "8", "--no-augment")
    assert status == 0, err
    assert CNN.load(tmp_path / "m.npz").num_filters == 256


@pytest.mark.keeps_data
def test_save_onto_a_folder_fails_before_training(capsys, tmp_path):
    (tmp_path / "models").mkdir()
    status, out, err = run_main(capsys, "--dataset", "sample", "--save", tmp_path / "models", *QUICK)
    line = the_error_line(err)
    assert status == 1 and "it is a folder" in line and "models/model.npz" in line
    assert "Data:" not in out and list((tmp_path / "models").iterdir()) == []


@pytest.mark.keeps_data
def test_save_into_a_read_only_folder_fails_before_training(capsys, tmp_path, monkeypatch):
    """Tests run as root, who can write anywhere: the refusal is the one mkstemp would raise."""

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", read_only)
    status, out, err = run_main(capsys, "--dataset", "sample", "--save", tmp_path / "m.npz", *QUICK)
    line = the_error_line(err)
    assert status == 1 and "Read-only file system" in line and "--save" in line
    assert "Data:" not in out and list(tmp_path.iterdir()) == []


def test_a_long_but_legal_save_name_works_its_temporary_name_fits(capsys, tmp_path):
    save = tmp_path / ("m" * 251 + ".npz")          # 255 bytes: the longest name most systems allow
    status, out, err = run_main(capsys, "--dataset", "sample", "--save", save, *QUICK)
    assert status == 0, err
    assert CNN.load(save).num_filters == 8


@pytest.mark.keeps_data
def test_a_save_name_longer_than_the_system_allows_fails_before_training(capsys, tmp_path):
    status, out, err = run_main(capsys, "--dataset", "sample", "--save", tmp_path / ("m" * 300 + ".npz"), *QUICK)
    line = the_error_line(err)
    assert status == 1 and "longer than the system allows" in line
    assert "Data:" not in out and list(tmp_path.iterdir()) == []


@pytest.mark.keeps_data
def test_a_save_that_fails_at_the_end_keeps_the_weights_in_a_fallback_file(capsys, tmp_path, monkeypatch):
    target_folder = tmp_path / "out"
    target_folder.mkdir()
    real_replace = atomic.os.replace

    def disk_gone(source, destination):       # the target's disk fails after the check at start
        if Path(destination).parent == target_folder:
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(source, destination)

    monkeypatch.setattr(atomic.os, "replace", disk_gone)
    status, out, err = run_main(capsys, "--dataset", "sample", "--save", target_folder / "m.npz", *QUICK)
    line = the_error_line(err)
    assert status == 1 and "Input/output error" in line and "written to" in line
    fallback = Path(line.rsplit("written to ", 1)[1].removesuffix(" instead."))
    assert fallback.parent == user_data_dir() and CNN.load(fallback).num_filters == 8
    assert "Test Accuracy" in out and list(target_folder.iterdir()) == []


@pytest.mark.keeps_data
def test_ctrl_c_while_the_final_model_is_written_keeps_the_finished_run(capsys, tmp_path, monkeypatch):
    real_savez = atomic.np.savez

    def interrupted_savez(stream, **arrays):          # Ctrl+C arrives in the middle of the write
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)                              # the handler runs at the next bytecode
        real_savez(stream, **arrays)

    monkeypatch.setattr(atomic.np, "savez", interrupted_savez)
    status, out, err = run_main(capsys, "--dataset", "sample", "--save", tmp_path / "m.npz", *QUICK)
    assert status == 130 and "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1] == f"Interrupted after training had finished: the model was saved to {tmp_path / 'm.npz'}."
    assert CNN.load(tmp_path / "m.npz").num_filters == 8
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]       # no partial or temporary file


# As the digitpad-train script does, plus a line on stderr once main() guards against Ctrl+C (its
# first call inside the guard prints it). Before that, a Ctrl+C is Python's own: while the interpreter
# starts, or in the few bytecodes between the import and the call, which no program can guard.
STARTED = "digitpad-test: main() started"
TRAIN_STARTED = [sys.executable, "-c", "import sys; import core.cli as cli; first = cli.safe_output_streams; "
                 f"cli.safe_output_streams = lambda: print({STARTED!r}, file=sys.stderr, flush=True) or first(); "
                 "raise SystemExit(cli.main())"]


@pytest.mark.parametrize("delay_s", [0.0, 0.02, 0.05, 0.1, 0.2, 0.4])
def test_ctrl_c_in_the_first_instant_is_never_a_traceback(tmp_path, delay_s):
    """Whenever it comes (NumPy loading, argument checks, reading data, training): one line, never a
    traceback, never a partial model file."""
    process = subprocess.Popen([*TRAIN_STARTED, "--dataset", "sample", "--save", str(tmp_path / "m.npz")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=in_project())
    assert process.stderr.readline().strip() == STARTED
    time.sleep(delay_s)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert process.returncode == 130
    lines = [line for line in err.splitlines() if line.strip() and "Stopping after" not in line]
    assert lines[-1].startswith(("digitpad-train: interrupted", "Interrupted")), err
    assert not (tmp_path / "m.npz").exists() or CNN.load(tmp_path / "m.npz").num_filters == 8
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_output_to_a_closed_pipe_ends_quietly_and_keeps_the_model(tmp_path):
    """`digitpad-train | true`: the reader is gone before anything is printed."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    process = subprocess.Popen([*TRAIN, "--dataset", "sample", "--save", str(tmp_path / "m.npz"), *QUICK],
                               stdout=write_end, stderr=subprocess.PIPE, text=True, env=in_project())
    os.close(write_end)
    _, err = process.communicate(timeout=120)
    assert process.returncode == cli.EXIT_CLOSED_PIPE
    assert "Traceback" not in err and "BrokenPipeError" not in err and "Exception ignored" not in err, err
    assert CNN.load(tmp_path / "m.npz").num_filters == 8


def test_a_folder_name_that_is_not_utf8_prints_escaped_on_a_strict_terminal(tmp_path):
    folder = os.path.join(os.fsencode(tmp_path), b"caf\xe9-mnist")      # Latin-1, not valid UTF-8
    os.mkdir(folder)
    process = subprocess.run([*TRAIN, "--dataset", "mnist", "--data-dir", folder, "--save", str(tmp_path / "m.npz")],
                             capture_output=True, env=in_project({"PYTHONIOENCODING": "utf-8:strict"}), timeout=60)
    err = process.stderr.decode("utf-8")
    assert process.returncode == 1
    assert "Traceback" not in err and "UnicodeEncodeError" not in err
    assert the_error_line(err).count("caf\\udce9-mnist") >= 1


@pytest.mark.keeps_data
def test_a_cache_folder_name_too_long_falls_back_to_the_sample_and_says_so(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITPAD_CACHE_DIR", str(tmp_path / ("c" * 300)))
    status, out, err = run_main(capsys, "--save", tmp_path / "m.npz", *QUICK)
    assert status == 0 and "Traceback" not in err
    notice = [line for line in err.splitlines() if "Using the MNIST sample" in line]
    assert len(notice) == 1 and "longer than the system allows" in notice[0]
    status, out, err = run_main(capsys, "--dataset", "mnist", "--save", tmp_path / "n.npz", *QUICK)
    assert status == 1 and "longer than the system allows" in the_error_line(err)


@pytest.mark.keeps_data
def test_a_data_folder_that_cannot_be_entered_is_one_error_line(capsys, tmp_path, monkeypatch):
    """Tests run as root, who enters any folder: the refusal is the one os.stat would raise."""
    data = write_mnist_folder(tmp_path / "mnist")
    real_stat = os.stat

    def denied(path, *args, **kwargs):
        if str(path).startswith(str(data) + os.sep):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr("core.safefile.os.stat", denied)
    status, out, err = run_main(capsys, "--data-dir", data, "--save", tmp_path / "m.npz", *QUICK)
    line = the_error_line(err)
    assert status == 1 and "permission denied" in line and str(data) in line
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.keeps_data
@pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/full"), reason="needs POSIX pipes and devices")
def test_a_named_pipe_or_a_device_as_init_or_save_is_one_error_line(capsys, tmp_path):
    os.mkfifo(tmp_path / "pipe.npz")
    cases = ((["--init", tmp_path / "pipe.npz", "--save", tmp_path / "m.npz"], "named pipe, not a file"),
             (["--init", "/dev/zero", "--save", tmp_path / "m.npz"], "a device, not a file"),
             (["--save", tmp_path / "pipe.npz"], "not a regular file"),
             (["--save", "/dev/full"], "not a regular file"))
    for flags, words in cases:
        status, out, err = run_main(capsys, "--dataset", "sample", *flags, *QUICK)
        assert status == 1 and words in the_error_line(err)
        assert "Data:" not in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.npz"]

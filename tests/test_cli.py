"""digitpad-train in-process: flags to settings, the output lines, stopping, the download bar."""
import re
import signal
from pathlib import Path

import numpy as np
import pytest

from core import cli
from core.errors import ModelFileError
from core.network import CNN
import core.train
from core.dataset_choice import DatasetChoice
from core.train import TUTORIAL, TrainConfig
from fake_tqdm import FakeTqdm

SMALL = ["--dataset", "sample", "--epochs", "1", "--train-size", "40", "--test-size", "30", "--no-augment",
         "--batch-size", "10"]


def parse(*argv):
    return cli.build_parser().parse_args([str(a) for a in argv])


def test_defaults_are_the_recipe():
    args = parse()
    assert cli.config_from(args) == TrainConfig()
    assert args.filters == 8 and args.save.name == "model.npz" and args.dataset == "auto"
    assert args.download and args.init is None and args.data_dir is None and not args.tutorial


def test_every_flag_reaches_its_setting():
    args = parse("--epochs", 3, "--batch-size", 7, "--lr", 0.5, "--schedule", "constant", "--momentum", 0.25,
                 "--train-size", 100, "--test-size", 50, "--no-augment", "--seed", 9, "--dataset", "sample",
                 "--data-dir", "/x")
    assert cli.config_from(args) == TrainConfig(epochs=3, batch_size=7, learning_rate=0.5, lr_schedule="constant",
                                                momentum=0.25, augment=False, seed=9)
    assert cli.choice_from(args) == DatasetChoice("sample", 100, 50, data_dir=cli.Path("/x"))
    assert not parse("--no-download").download and parse("--filters", 5).filters == 5


def test_tutorial_takes_the_tutorial_settings():
    args = parse("--tutorial", "--epochs", 9, "--train-size", 5)
    assert cli.config_from(args) is TUTORIAL
    assert cli.choice_from(args) == DatasetChoice("auto", 1000, 1000)


def test_a_setting_that_cannot_work_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--momentum", "1.5"])
    assert exit_.value.code == 2
    assert "momentum must be at least 0 and below 1" in capsys.readouterr().err


def test_help_names_every_option_with_its_default(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option, default in (("--epochs", "(48)"), ("--batch-size", "(64)"), ("--lr", "(0.02)"), ("--schedule", "(cosine)"),
                            ("--momentum", "(0.9)"), ("--seed", "(0)"), ("--filters", "(8)"), ("--save", "(model.npz)")):
        assert re.search(re.escape(option) + r"\b[^(]*" + re.escape(default), text), option
    assert text.startswith("usage: digitpad-train") and "the bundled sample (auto)" in text


@pytest.mark.parametrize("message, line", [
    ("one", "one"),
    ("Could not download x:\n  a: refused\n  b: HTTP 403\nCheck the connection.",
     "Could not download x: a: refused; b: HTTP 403; Check the connection."),
    ("Done.\n\nNext", "Done. Next"),
    ("Why?\nBecause!\nOK", "Why? Because! OK"),
    ("", ""),
    ("\n  \n", ""),
])
def test_one_line_joins_after_punctuation_with_a_space_else_a_semicolon(message, line):
    assert cli.one_line(message) == line


def test_a_run_prints_data_epoch_figures_and_saves(capsys, tmp_path):
    status = cli.main([*SMALL, "--filters", "4", "--seed", "3", "--save", str(tmp_path / "m.npz")])
    out, err = capsys.readouterr()
    assert status == 0
    assert out.splitlines()[0].startswith("Data: ")
    assert re.search(r"^Model saved to .*m\.npz$", out, re.M)
    loss = float(re.search(r"^Test Loss: (\d+\.\d{4})$", out, re.M).group(1))
    accuracy = float(re.search(r"^Test Accuracy: (\d\.\d{4})$", out, re.M).group(1))
    assert re.search(r"^Epoch 1/1: test loss \d\.\d{4}, test accuracy \d+\.\d\d%$", out + err, re.M)
    model = CNN.load(tmp_path / "m.npz")
    assert model.num_filters == 4
    from core.data import load_sample
    images, labels = load_sample("test")
    expected_loss, expected_accuracy, _ = core.train.score(model, images[:30], labels[:30])
    assert loss == pytest.approx(expected_loss, abs=1e-4) and accuracy == pytest.approx(expected_accuracy, abs=1e-4)


def test_init_starts_from_a_model_file(capsys, tmp_path):
    start = CNN(num_filters=5, seed=1)
    start.save(tmp_path / "start.npz")
    assert cli.main([*SMALL, "--init", str(tmp_path / "start.npz"), "--save", str(tmp_path / "m.npz")]) == 0
    trained = CNN.load(tmp_path / "m.npz")
    assert trained.num_filters == 5
    assert not np.array_equal(trained.params["conv.filters"], start.params["conv.filters"])


def test_ctrl_c_during_training_saves_beside_and_exits_130(capsys, tmp_path, monkeypatch):
    real_train = core.train.train

    def train_then_interrupt(*args, **kwargs):
        for count, progress in enumerate(real_train(*args, **kwargs)):
            yield progress
            if count == 1:
                signal.raise_signal(signal.SIGINT)              # the first Ctrl+C: stop after this batch

    monkeypatch.setattr(core.train, "train", train_then_interrupt)
    save = tmp_path / "model.npz"
    save.write_bytes(b"earlier")
    handler_before = signal.getsignal(signal.SIGINT)
    status = cli.main([*SMALL, "--epochs", "3", "--save", str(save)])
    out, err = capsys.readouterr()
    assert status == 130
    assert save.read_bytes() == b"earlier"
    assert CNN.load(tmp_path / "model-interrupted.npz").num_filters == 8
    assert "Stopping after this batch" in err and "model-interrupted.npz" in err
    assert re.search(r"^Test Accuracy: \d\.\d{4}$", out, re.M)
    assert signal.getsignal(signal.SIGINT) is handler_before             # the handler is put back


def test_a_second_ctrl_c_aborts():
    flag = cli.StopFlag()
    with flag.on_interrupt():
        assert not flag()
        signal.raise_signal(signal.SIGINT)
        assert flag() and flag.requested
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)


def test_each_ctrl_c_handler_is_put_back_when_its_block_ends_even_by_an_error():
    flag = cli.StopFlag()
    before = signal.getsignal(signal.SIGINT)
    for block in (flag.on_interrupt, flag.deferred):
        with pytest.raises(RuntimeError):
            with block():
                assert signal.getsignal(signal.SIGINT) is not before
                raise RuntimeError("the block fails")
        assert signal.getsignal(signal.SIGINT) is before
    with flag.deferred():
        signal.raise_signal(signal.SIGINT)                  # only noted: the block goes on
    assert flag.requested and signal.getsignal(signal.SIGINT) is before


def test_download_bar_one_bar_per_file(monkeypatch):
    made = []

    class FakeBar:
        def __init__(self, total, desc, **kwargs):
            self.total, self.desc, self.n, self.closed = total, desc, 0, False
            made.append(self)

        def update(self, amount):
            self.n += amount

        def close(self):
            self.closed = True

    import tqdm

    monkeypatch.setattr(tqdm, "tqdm", FakeBar)
    with cli.DownloadBar() as bar:
        bar.update(0, 100, "a.gz")
        bar.update(60, 100, "a.gz")
        bar.update(100, 100, "a.gz")
        bar.update(10, None, "b.gz")
    assert [(b.desc, b.total, b.n, b.closed) for b in made] == [("Downloading a.gz", 100, 100, True),
                                                               ("Downloading b.gz", None, 10, True)]


def fake_progress(epoch, step, accuracy, loss=1.23456):
    from core.train import Progress

    return Progress(kind="batch", epoch=epoch, epochs=2, step=step, steps_per_epoch=200, images_seen=step,
                    total_images=400, loss=loss, accuracy=accuracy, learning_rate=0.005, images_per_s=1.0, eta_s=1.0)


def test_tutorial_lines_show_each_epoch_once_and_every_hundredth_step(capsys, monkeypatch):
    calls = []

    def fake_train(model, config, train_set, test_set=None, should_stop=None):
        calls.append((test_set, should_stop))
        yield fake_progress(1, 99, 0.5)
        yield fake_progress(1, 100, 0.57)
        yield fake_progress(1, 200, 0.994)
        yield fake_progress(2, 1, 0.1)
        yield fake_progress(2, 100, 0.005, loss=0.0004)

    monkeypatch.setattr(core.train, "train", fake_train)
    stop = cli.StopFlag()
    assert cli.run_tutorial(CNN(), TUTORIAL, ("images", "labels"), ("test", "set"), stop) is None
    assert calls == [(None, stop)]                       # no test set during the run; Ctrl+C reaches it
    assert capsys.readouterr().out.splitlines() == [
        "--- Epoch 1 ---",
        "[Step 100] Past 100 steps: Average Loss 1.235 | Accuracy: 57%",
        "[Step 200] Past 100 steps: Average Loss 1.235 | Accuracy: 99%",
        "--- Epoch 2 ---",
        "[Step 100] Past 100 steps: Average Loss 0.000 | Accuracy: 0%",
    ]


HELP = Path(__file__).parent / "expected" / "digitpad-train-help.txt"


def test_help_is_the_documented_text(capsys, monkeypatch):
    """--help word for word (at 100 columns): every option's wording is the user's documentation.
    After changing an option on purpose: COLUMNS=100 digitpad-train --help > tests/expected/digitpad-train-help.txt"""
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == HELP.read_text()


def test_the_training_bar_counts_images_and_shows_figures_every_twenty_steps(monkeypatch):
    import tqdm

    FakeTqdm.made = []
    monkeypatch.setattr(tqdm, "tqdm", FakeTqdm)
    images, labels = np.zeros((50, 28, 28), np.uint8), np.arange(50) % 10
    config = TrainConfig(epochs=2, batch_size=1, augment=False)
    last = cli.run_with_bar(CNN(seed=0), config, (images, labels), (images[:5], labels[:5]), lambda: False)
    (bar,) = FakeTqdm.made
    assert bar.kwargs == {"total": 100, "unit": "img", "unit_scale": True, "dynamic_ncols": True, "desc": "Training"}
    assert bar.n == 100
    assert [n for n, _ in bar.postfixes] == [20, 40, 50, 70, 90, 100]     # every 20th step and each epoch's last
    assert bar.postfixes[0][1]["epoch"] == "1/2" and bar.postfixes[-1][1]["epoch"] == "2/2"
    assert re.fullmatch(r"\d\.\d{3}", bar.postfixes[0][1]["loss"]) and bar.postfixes[0][1]["acc"].endswith("%")
    assert len(bar.lines) == 2 and bar.lines[1].startswith("Epoch 2/2: test loss ")
    assert last.kind == "epoch" and last.epoch == 2


@pytest.mark.parametrize("flag, value, message", [
    ("--filters", 0, "--filters must be from 1 to 256 (digitpad refuses other models)"),
    ("--filters", 257, "--filters must be from 1 to 256 (digitpad refuses other models)"),
    ("--seed", -1, "--seed must be 0 or a positive whole number up to 9,223,372,036,854,775,807"),
    ("--epochs", 10_001, "--epochs must be at most 10,000"),
    ("--batch-size", 4097, "--batch-size must be at most 4,096"),
])
def test_flags_out_of_range_are_refused_naming_the_limit(capsys, flag, value, message):
    with pytest.raises(SystemExit) as exit_:
        cli.main([flag, str(value)])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip().endswith(f"error: {message}")


@pytest.mark.parametrize("flag, value", [("--filters", 1), ("--filters", 256), ("--seed", 0), ("--epochs", 10_000),
                                         ("--batch-size", 4096)])
def test_the_limits_themselves_are_allowed(flag, value):
    cli.check_ranges(parse(flag, value))


def test_the_tutorial_runs_with_its_own_settings(capsys, tmp_path, monkeypatch):
    seen = []

    def fake_train(model, config, train_set, test_set=None, should_stop=None):
        seen.append((config, len(train_set[1]), test_set))
        yield fake_progress(1, 100, 0.5)

    monkeypatch.setattr(core.train, "train", fake_train)
    assert cli.main(["--tutorial", "--dataset", "sample", "--save", str(tmp_path / "m.npz")]) == 0
    assert seen == [(TUTORIAL, 1000, None)]
    assert "[Step 100] Past 100 steps" in capsys.readouterr().out


def test_a_folder_as_the_save_target_is_refused_with_a_file_name_to_use(tmp_path):
    from core.errors import ModelFileError

    with pytest.raises(ModelFileError) as caught:
        cli.check_save_target(tmp_path)
    assert str(caught.value) == (f"Cannot save the model to {tmp_path}: it is a folder; give a file name, "
                                 f"such as {tmp_path / 'model.npz'}.")


def test_a_run_makes_a_deskewing_network_unless_told_not_to_or_the_tutorial(tmp_path, monkeypatch):
    for extra, deskews in (([], True), (["--no-deskew"], False)):
        assert cli.main([*SMALL, *extra, "--save", str(tmp_path / "m.npz")]) == 0
        assert CNN.load(tmp_path / "m.npz").deskew is deskews
    made = []
    monkeypatch.setattr(core.train, "train", lambda model, *args, **kw: made.append(model.deskew) or iter(()))
    cli.main(["--tutorial", "--dataset", "sample", "--save", str(tmp_path / "t.npz")])
    assert made == [False]  # the tutorial's network reads digits as drawn, as the tutorial's did


def test_the_bars_start_no_thread_so_the_training_process_may_fork_its_batch_worker(monkeypatch, capsys):
    import threading

    import tqdm

    if tqdm.tqdm.monitor is not None:                       # another test's bar may have started one
        tqdm.tqdm.monitor.exit()
        tqdm.tqdm.monitor = None
    monkeypatch.setattr(tqdm.tqdm, "monitor_interval", 10)  # tqdm's own default
    before = threading.active_count()
    seen = []
    images, labels = np.zeros((30, 28, 28), np.uint8), np.arange(30) % 10
    cli.run_with_bar(CNN(seed=0), TrainConfig(epochs=1, batch_size=10, augment=False), (images, labels), None,
                     lambda: seen.append(threading.active_count()) or False)
    download = cli.DownloadBar()
    download.update(5, 10, "train-images-idx3-ubyte.gz")
    seen.append(threading.active_count())
    download.close()
    assert seen == [before] * 4

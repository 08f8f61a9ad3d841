"""The training generator: learning, reproducibility, stopping, divergence; and the CLI."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from core.data import load_mnist, load_sample
from core.dataset_choice import first
from core.errors import TrainingDiverged
from core.network import CNN
from core.train import TrainConfig, evaluate, train

QUICK = TrainConfig(epochs=2, batch_size=32, learning_rate=0.05, momentum=0.9, augment=False)


@pytest.fixture(scope="module")
def sample():
    return load_sample("train"), load_sample("test")


def params_of(model):
    return {name: value.copy() for name, value in model.params.items()}


def test_a_short_seeded_run_lowers_the_loss_and_beats_chance_by_far(sample):
    train_set, test_set = sample
    model = CNN(seed=0)
    before_loss, _ = evaluate(model, *test_set)
    progress = list(train(model, QUICK, first(train_set, 2000), test_set))
    after_loss, accuracy = evaluate(model, *test_set)
    assert after_loss < before_loss / 3
    assert accuracy > 0.85  # 2,000 images, two epochs; measured 0.882 on the held-out sample
    batches = [p for p in progress if p.kind == "batch"]
    epochs = [p for p in progress if p.kind == "epoch"]
    assert len(batches) == 126 and batches[-1].images_seen == 4000 and batches[-1].fraction == 1
    assert len(epochs) == 2 and epochs[-1].test_accuracy == pytest.approx(accuracy)
    np.testing.assert_allclose(epochs[-1].test_probabilities, model.predict_proba(test_set[0]), atol=1e-6)
    assert batches[-1].test_probabilities is None
    assert batches[-1].images_per_s > 0 and batches[-1].eta_s == 0


def test_training_is_reproducible_for_a_seed(sample):
    config = TrainConfig(epochs=1, batch_size=16, augment=True, seed=3)
    runs = []
    for _ in range(2):
        model = CNN(seed=1)
        for _ in train(model, config, first(sample[0], 300)):
            pass
        runs.append(params_of(model))
    for name in runs[0]:
        np.testing.assert_array_equal(runs[0][name], runs[1][name])


@pytest.mark.faults
def test_stopping_between_batches_leaves_the_model_of_exactly_k_steps(sample):
    config = TrainConfig(epochs=1, batch_size=10, augment=False, seed=2)
    stopped = CNN(seed=0)
    count = 0
    for p in train(stopped, config, first(sample[0], 200), should_stop=lambda: count >= 5):
        count += 1
    assert count == 5
    # Same seed, same data: a run of 5 steps ends on identical weights.
    five = CNN(seed=0)
    for i, _ in enumerate(train(five, config, first(sample[0], 200))):
        if i == 4:
            break
    for name in five.params:
        np.testing.assert_array_equal(stopped.params[name], five.params[name])


@pytest.mark.faults
def test_divergence_stops_with_a_message_and_restores_the_last_good_weights(sample):
    model = CNN(seed=0)
    config = TrainConfig(epochs=1, batch_size=32, learning_rate=1000, momentum=0.9, augment=False)
    states = [params_of(model)]  # the weights before the run, then after every finished step
    with pytest.raises(TrainingDiverged, match="learning rate") as info:
        for _ in train(model, config, first(sample[0], 640)):
            states.append(params_of(model))
    assert "restored" in str(info.value)
    assert all(np.all(np.isfinite(v)) for v in model.params.values())
    # Restored: the state the last finite-loss step started from (or, if the update itself
    # overflowed, the one it produced) -- one of the last two states, never anything newer.
    matches = [i for i, state in enumerate(states)
               if all(np.array_equal(model.params[name], state[name]) for name in state)]
    assert matches and matches[-1] >= len(states) - 2
    with np.errstate(all="ignore"):
        probabilities = model.predict_proba(sample[0][0][:640])  # (640, 10)
    assert np.isfinite(probabilities).all()  # the restored weights still give answers


@pytest.mark.faults
def test_bad_settings_are_refused_with_the_setting_named():
    with pytest.raises(ValueError, match="learning rate"):
        next(train(CNN(), TrainConfig(learning_rate=-1), (np.zeros((1, 28, 28)), np.zeros(1))))
    with pytest.raises(ValueError, match="batch size"):
        TrainConfig(batch_size=0).validate()


def test_full_mnist_one_epoch_reaches_a_stated_accuracy(mnist_dir):
    train_set = load_mnist("train", mnist_dir)
    test_set = load_mnist("test", mnist_dir)
    model = CNN(seed=0)
    config = TrainConfig(epochs=1, batch_size=64, learning_rate=0.05, augment=False)
    for _ in train(model, config, first(train_set, 20000)):
        pass
    _, accuracy = evaluate(model, *test_set)
    assert accuracy > 0.91  # measured 0.927 on the 10,000 test images


def run_cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "core.cli", *args], capture_output=True, text=True, timeout=timeout)


def test_cli_tutorial_run_prints_the_tutorial_lines(tmp_path):
    result = run_cli("--tutorial", "--dataset", "sample", "--save", str(tmp_path / "m.npz"))
    assert result.returncode == 0, result.stderr
    steps = re.findall(r"^\[Step (\d+)\] Past 100 steps: Average Loss (\d\.\d{3}) \| Accuracy: (\d+)%$",
                       result.stdout, re.M)
    assert len(steps) == 30 and steps[-1][0] == "1000"
    assert result.stdout.count("--- Epoch") == 3
    loss = float(re.search(r"^Test Loss: (\d+\.\d+)$", result.stdout, re.M).group(1))
    accuracy = float(re.search(r"^Test Accuracy: (0\.\d{4})$", result.stdout, re.M).group(1))
    assert accuracy > 0.75 and loss < 1.0
    assert CNN.load(tmp_path / "m.npz").num_filters == 8


@pytest.mark.faults
@pytest.mark.keeps_data
def test_cli_reports_a_bad_model_file_in_one_line(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"this is not a model")
    result = run_cli("--init", str(bad), "--dataset", "sample", "--save", str(tmp_path / "out.npz"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("digitpad-train: error:")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.npz").exists()


@pytest.mark.faults
def test_cli_refuses_bad_settings(tmp_path):
    result = run_cli("--lr", "0", "--save", str(tmp_path / "out.npz"))
    assert result.returncode == 2 and "learning rate must be positive" in result.stderr


@pytest.mark.faults
@pytest.mark.keeps_data
def test_cli_divergence_exits_with_a_message_and_writes_nothing(tmp_path):
    result = run_cli("--dataset", "sample", "--lr", "1000", "--epochs", "1", "--train-size", "640",
                     "--no-augment", "--save", str(tmp_path / "out.npz"))
    assert result.returncode == 1
    assert "diverged" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out.npz").exists()


def training_cli_past_its_start(save):
    """A `digitpad-train` child training 50 epochs on the sample into `save`, which holds an
    earlier model; returned once its progress bar (and so its training) has started."""
    import time

    save.write_bytes(b"the user's earlier model")
    process = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "--dataset", "sample", "--epochs", "50", "--save", str(save)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while "Training" not in process.stderr.readline() and time.monotonic() < deadline:
        pass
    return process


@pytest.mark.faults
@pytest.mark.keeps_data
def test_cli_ctrl_c_stops_cleanly_and_keeps_the_work_apart(tmp_path):
    import signal

    save = tmp_path / "model.npz"
    process = training_cli_past_its_start(save)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "Interrupted" in err
    assert save.read_bytes() == b"the user's earlier model"
    assert CNN.load(tmp_path / "model-interrupted.npz").num_filters == 8
    assert re.search(r"^Test Accuracy: 0\.\d{4}$", out, re.M)


@pytest.mark.faults
@pytest.mark.keeps_data
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the batch worker is forked on Linux only")
def test_cli_says_in_one_line_when_its_batch_worker_is_killed_and_keeps_the_old_model(tmp_path):
    import signal

    from processes import children_of

    save = tmp_path / "model.npz"
    process = training_cli_past_its_start(save)  # the bar has started: so has the worker
    [worker] = children_of(process.pid)
    os.kill(worker, signal.SIGKILL)  # as the out-of-memory killer would
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    assert "Traceback" not in err
    assert ("The process making the training batches stopped unexpectedly (ended by signal SIGKILL). "
            "Start the training again.") in err
    assert save.read_bytes() == b"the user's earlier model"

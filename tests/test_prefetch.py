"""core.prefetch: a forked worker makes the run's batches ahead, the same batches, and never
outlives, hides or silently loses to the training process."""
import os
import select
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from core import prefetch
from core.batches import batches
from core.errors import BatchWorkerFailed
from core.network import CNN
from core.train import TrainConfig, train
from processes import gone

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the batch worker is forked: Linux only")


def digits(n=50, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


def float_batches(count, size=4, fail_at=None, before_each=None):
    """A stand-in batch generator: batch k is indices k..k+size and images all equal to k."""
    for k in range(count):
        if before_each is not None:
            before_each(k)
        if k == fail_at:
            raise ValueError(f"no batch {k}")
        yield np.arange(k, k + size), np.full((size, 28, 28), k, np.float32)


def first_batch_and_worker(tmp_path, count, **batch_options):
    """A prefetched source of float_batches(count, ...) with its first batch taken, and the
    worker's pid (written by the worker itself as it makes batch 0)."""
    pid_file = tmp_path / "worker.pid"

    def note_pid(k):
        if k == 0:
            pid_file.write_text(str(os.getpid()))

    source = prefetch.prefetched(float_batches(count, before_each=note_pid, **batch_options), 4)
    next(source)
    return source, int(pid_file.read_text())


def exit_3_at_second_batch(k):
    if k == 1:
        os._exit(3)  # runs in the worker: as a library calling exit() would


def wait_until(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_the_worker_makes_the_same_batches_in_the_same_order_as_the_run_itself():
    images, _ = digits(50)
    config = TrainConfig(epochs=3, batch_size=16, seed=7)  # augmented, with a short last batch (50 = 3 * 16 + 2)
    made_here = list(batches(images, config))
    made_ahead = [(index.copy(), x.copy()) for index, x in prefetch.prefetched(batches(images, config),
                                                                                   config.batch_size)]
    assert len(made_ahead) == len(made_here) == 3 * 4
    for (index, x), (index_ahead, x_ahead) in zip(made_here, made_ahead):
        assert index_ahead.dtype == np.int64 and x_ahead.dtype == np.float32
        np.testing.assert_array_equal(index_ahead, index)
        np.testing.assert_array_equal(x_ahead, x)


def test_training_with_the_worker_ends_at_the_very_same_weights_and_losses():
    images, labels = digits(40, seed=1)
    config = TrainConfig(epochs=2, batch_size=8, seed=3)
    runs = {}
    for ahead in (False, True):
        model = CNN(seed=0)
        losses = [p.loss for p in train(model, config, (images, labels), prefetch=ahead)]
        runs[ahead] = model.get_params(), losses
    assert runs[True][1] == runs[False][1]
    for name, value in runs[False][0].items():
        np.testing.assert_array_equal(runs[True][0][name], value)


@pytest.mark.parametrize("slots", [2, 3, 8])
def test_a_batch_stays_as_it_came_until_the_next_is_asked_for(slots):
    seen = []
    for index, x in prefetch.prefetched(float_batches(3 * slots + 1), 4, slots=slots):
        time.sleep(0.002)  # time enough for the worker to overwrite a slot it had been given back
        seen.append((list(index), set(np.unique(x))))
    assert seen == [(list(range(k, k + 4)), {k}) for k in range(3 * slots + 1)]


def test_slots_go_back_to_the_worker_half_a_ring_at_a_time(monkeypatch):
    handed_back = []
    real = prefetch._Worker._release
    monkeypatch.setattr(prefetch._Worker, "_release", lambda self, slots: handed_back.append(list(slots)) or real(self, slots))
    assert len(list(prefetch.prefetched(float_batches(19), 4, slots=8))) == 19
    assert handed_back == [list(range(8))] + [[0, 1, 2, 3], [4, 5, 6, 7]] * 2  # one wake-up per 4 batches


def test_a_ring_of_one_slot_is_refused():
    with pytest.raises(ValueError, match="^a ring needs at least 2 slots: one in use, one being filled$"):
        next(prefetch.prefetched(float_batches(3), 4, slots=1))


def test_the_shared_memory_holds_the_images_and_the_indices_end_to_end_and_nothing_else():
    ring = prefetch._Ring(3, 5)
    assert len(ring._memory) == ring.images.nbytes + ring.indices.nbytes  # (3, 5, 28, 28) float32 + (3, 5) int64
    assert not np.shares_memory(ring.images, ring.indices)
    ring.put(1, np.array([7, 8]), np.full((2, 28, 28), 0.5, np.float32))
    index, x = ring.view(1, 2)
    assert list(index) == [7, 8] and x.shape == (2, 28, 28) and np.all(x == 0.5)


@pytest.mark.faults
def test_a_failure_in_the_worker_reaches_the_training_process_after_the_batches_before_it():
    received = []
    with pytest.raises(BatchWorkerFailed, match=r"^Making the training batches failed: ValueError: no batch 3$"):
        for _, x in prefetch.prefetched(float_batches(6, fail_at=3), 4):
            received.append(int(x[0, 0, 0]))
    assert received == [0, 1, 2]


@pytest.mark.faults
def test_a_batch_that_is_not_float32_images_is_refused_by_name():
    uint8_batches = ((np.arange(2), np.zeros((2, 28, 28), np.uint8)) for _ in range(3))
    with pytest.raises(BatchWorkerFailed, match=r"must be \(2, 28, 28\) float32, not \(2, 28, 28\) uint8"):
        list(prefetch.prefetched(uint8_batches, 2))


@pytest.mark.faults
def test_a_worker_killed_from_outside_is_reported_with_its_signal():
    def die_at_second_batch(k):
        if k == 1:
            os.kill(os.getpid(), signal.SIGKILL)  # runs in the worker: as the OOM killer would

    source = prefetch.prefetched(float_batches(5, before_each=die_at_second_batch), 4)
    assert int(next(source)[1][0, 0, 0]) == 0
    with pytest.raises(BatchWorkerFailed, match=r"stopped unexpectedly \(ended by signal SIGKILL\)\. "
                                                r"Start the training again\.$"):
        next(source)


@pytest.mark.faults
def test_closing_the_batches_early_ends_the_worker_at_once(tmp_path):
    source, pid = first_batch_and_worker(tmp_path, 1000)
    assert pid != os.getpid() and not gone(pid)
    source.close()
    assert gone(pid)
    with pytest.raises(ChildProcessError):  # already reaped: no zombie left behind
        os.waitpid(pid, os.WNOHANG)


@pytest.mark.faults
def test_a_training_process_that_dies_takes_its_worker_with_it(tmp_path):
    script = textwrap.dedent("""
        import os, sys
        import numpy as np
        from core import prefetch

        def endless():
            while True:
                yield np.arange(2), np.zeros((2, 28, 28), np.float32)

        source = prefetch.prefetched(endless(), 2)
        next(source)
        from processes import children_of
        print(*children_of(os.getpid()), flush=True)
        os.kill(os.getpid(), 9)  # no clean-up of any kind
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}"})
    assert done.returncode == -signal.SIGKILL, done.stderr
    [worker] = map(int, done.stdout.split())
    assert wait_until(lambda: gone(worker)), "the worker kept running after its training process was killed"


@pytest.mark.faults
def test_the_worker_holds_no_other_pipe_open():
    read_end, write_end = os.pipe()  # stands for the GUI's pipe to a training process
    try:
        source = prefetch.prefetched(float_batches(1000), 4)
        next(source)
        os.close(write_end)
        readable, _, _ = select.select([read_end], [], [], 10)
        assert readable and os.read(read_end, 1) == b"", "the worker kept the pipe's write end open"
        source.close()
    finally:
        os.close(read_end)


@pytest.mark.faults
def test_ctrl_c_is_the_training_process_s_to_handle_not_the_worker_s(tmp_path):
    source, pid = first_batch_and_worker(tmp_path, 20)
    os.kill(pid, signal.SIGINT)
    assert [int(x[0, 0, 0]) for _, x in source] == list(range(1, 20))


@pytest.mark.faults
def test_the_worker_is_used_only_where_forking_is_safe(monkeypatch):
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert prefetch.available() == sys.platform.startswith("linux")
    monkeypatch.setattr(threading, "active_count", lambda: 2)  # another thread might hold a lock the child needs
    assert not prefetch.available()
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert not prefetch.available()


@pytest.mark.parametrize("augment, can_fork, expected", [(True, True, True), (True, False, False),
                                                          (False, True, False)])
def test_a_run_uses_the_worker_when_it_augments_and_forking_is_safe(monkeypatch, augment, can_fork, expected):
    used = []
    real = prefetch.prefetched
    monkeypatch.setattr(prefetch, "available", lambda: can_fork)
    monkeypatch.setattr(prefetch, "prefetched", lambda *args: used.append(args[1]) or real(*args))
    images, labels = digits(20)
    list(train(CNN(seed=0), TrainConfig(epochs=1, batch_size=8, augment=augment), (images, labels)))
    assert used == ([8] if expected else [])


@pytest.mark.faults
@pytest.mark.parametrize("refusal", [BlockingIOError(11, "Resource temporarily unavailable"),  # a process limit
                                     OSError(12, "Cannot allocate memory")])
def test_when_no_worker_can_be_started_the_same_batches_are_made_in_line(monkeypatch, refusal):
    images, _ = digits(30)
    config = TrainConfig(epochs=2, batch_size=8, seed=2)
    open_before = sorted(os.listdir("/proc/self/fd"))

    def refuse():
        raise refusal

    monkeypatch.setattr(os, "fork", refuse)
    made = [(index.copy(), x.copy()) for index, x in prefetch.prefetched(batches(images, config), 8)]
    assert sorted(os.listdir("/proc/self/fd")) == open_before  # the pipes made for it are closed again
    expected = list(batches(images, config))
    assert len(made) == len(expected) == 8
    for (index, x), (index_here, x_here) in zip(made, expected):
        np.testing.assert_array_equal(index, index_here)
        np.testing.assert_array_equal(x, x_here)


def test_a_worker_that_exits_without_a_word_is_reported_with_its_exit_status():
    source = prefetch.prefetched(float_batches(5, before_each=exit_3_at_second_batch), 4)
    assert int(next(source)[1][0, 0, 0]) == 0
    with pytest.raises(BatchWorkerFailed, match=r"stopped unexpectedly \(exit status 3\)\. Start the training again\.$"):
        next(source)


def failing_batches(error):
    yield np.arange(2), np.zeros((2, 28, 28), np.float32)
    raise error


@pytest.mark.faults
def test_a_long_reason_in_any_script_is_cut_to_4096_bytes_not_lost():
    error = ValueError("x" + "é" * 3000)  # "ValueError: x" is 13 bytes: the cut at 4096 splits an é in two
    with pytest.raises(BatchWorkerFailed) as raised:
        list(prefetch.prefetched(failing_batches(error), 2))
    assert str(raised.value) == "Making the training batches failed: ValueError: x" + "é" * 2041 + "\ufffd"


@pytest.mark.faults
def test_a_reason_cut_short_by_the_worker_s_end_is_left_out_not_made_up():
    read_end, write_end = os.pipe()
    os.write(write_end, prefetch._MESSAGE.pack(prefetch._FAILED, 100) + b"Value")  # 100 bytes promised, 5 sent
    os.close(write_end)
    worker = object.__new__(prefetch._Worker)  # only its inbox: the message as the training process reads it
    worker._inbox = prefetch._Inbox(read_end)
    try:
        with pytest.raises(BatchWorkerFailed, match="^Making the training batches failed: $"):
            worker._message()
    finally:
        os.close(read_end)


def test_a_message_that_arrives_in_pieces_is_read_whole():
    read_end, write_end = os.pipe()
    os.write(write_end, b"abc")
    later = threading.Timer(0.05, lambda: os.write(write_end, b"defgh_next"))
    later.start()  # the first read takes b"abc" alone; the rest comes while the inbox waits
    try:
        inbox = prefetch._Inbox(read_end)
        assert inbox.read(8) == b"abcdefgh"
        assert inbox.read(5) == b"_next"
    finally:
        later.join()
        os.close(read_end)
        os.close(write_end)


@pytest.mark.faults
def test_the_worker_holds_open_only_the_standard_streams_and_its_two_pipes(tmp_path):
    spare = None
    try:
        os.fstat(3)
    except OSError:
        spare = os.open(os.devnull, os.O_RDONLY)  # the lowest free descriptor: 3, which the worker must close too
    try:
        source, pid = first_batch_and_worker(tmp_path, 1000)
        held = {int(fd): os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        source.close()
    finally:
        if spare is not None:
            os.close(spare)
    beyond_stderr = {fd: target for fd, target in held.items() if fd > 2}
    assert len(beyond_stderr) == 2 and all(t.startswith("pipe:") for t in beyond_stderr.values()), held


@pytest.mark.faults
@pytest.mark.parametrize("fail_at", [None, 1])
def test_the_worker_never_comes_back_into_the_caller_s_code(tmp_path, fail_at):
    me, escaped = os.getpid(), tmp_path / "escaped"
    try:
        source, pid = first_batch_and_worker(tmp_path, 2, fail_at=fail_at)
        assert wait_until(lambda: gone(pid) or escaped.exists())  # it has said all it will
    finally:
        if os.getpid() != me:  # the worker is running this test: it returned from the fork into the caller
            escaped.write_text("")
            os._exit(0)
    source.close()
    assert not escaped.exists()


@pytest.mark.faults
def test_a_worker_that_cannot_even_describe_its_failure_is_reported_as_stopped(monkeypatch):
    def no_description(error):
        raise MemoryError

    monkeypatch.setattr(prefetch.traceback, "format_exception_only", no_description)  # the worker inherits it
    with pytest.raises(BatchWorkerFailed, match=r"stopped unexpectedly \(exit status 1\)\. Start the training again\.$"):
        list(prefetch.prefetched(failing_batches(ValueError("no batch")), 2))


@pytest.mark.faults
def test_a_reason_that_is_not_valid_unicode_still_reaches_the_training_process():
    error = FileNotFoundError("no file named b'\\xff': \udcff")  # a name os.fsdecode could not decode
    with pytest.raises(BatchWorkerFailed, match=r"^Making the training batches failed: FileNotFoundError: "
                                                r"no file named b'\\xff': \\udcff$"):
        list(prefetch.prefetched(failing_batches(error), 2))


@pytest.mark.faults
def test_a_worker_reaped_by_someone_else_is_reported_without_a_made_up_status():
    before = signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps every child: no status for anyone
    try:
        source = prefetch.prefetched(float_batches(5, before_each=exit_3_at_second_batch), 4)
        next(source)
        with pytest.raises(BatchWorkerFailed, match=r"stopped unexpectedly \(exit status unknown\)\. "
                                                    r"Start the training again\.$"):
            next(source)
    finally:
        signal.signal(signal.SIGCHLD, before)


@pytest.mark.faults
def test_a_reason_of_several_lines_arrives_whole():
    error = ValueError("no batch 1")
    error.add_note("while distorting image 12")  # format_exception_only gives the note as a line of its own
    with pytest.raises(BatchWorkerFailed, match=r"^Making the training batches failed: ValueError: no batch 1\n"
                                                r"while distorting image 12$"):
        list(prefetch.prefetched(failing_batches(error), 2))


def test_stopping_a_worker_object_whose_pid_is_0_kills_nobody():
    """In the forked child _Worker.pid is 0; were the child ever to run the caller's clean-up,
    kill(0, SIGKILL) would end its whole process group. Run in a session of its own, so that a
    regression kills only that."""
    script = textwrap.dedent("""
        import os
        from core import prefetch

        worker = prefetch._Worker.__new__(prefetch._Worker)
        worker.pid, worker._exit_status = 0, None
        worker._free, worker._ready = os.pipe()
        worker.stop()
        print("still here")
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          start_new_session=True)
    assert (done.returncode, done.stdout) == (0, "still here\n"), done.stderr


@pytest.mark.faults
def test_a_worker_already_reaped_is_never_signalled_again(monkeypatch):
    """Once reaped, its pid may belong to another process: stop() must leave it alone."""
    source = prefetch.prefetched(float_batches(5, before_each=exit_3_at_second_batch), 4)
    next(source)
    signalled = []
    real_kill = os.kill
    monkeypatch.setattr(os, "kill", lambda pid, signum: signalled.append(pid) or real_kill(pid, signum))
    with pytest.raises(BatchWorkerFailed, match=r"\(exit status 3\)"):
        next(source)  # reaps the worker, then closing the generator runs stop()
    assert signalled == []

"""SlicedJob: a generator run a slice at a time in the GUI thread, replaced or cancelled at will."""
import time

from gui.background.slices import SlicedJob


def counting(n, pause_s=0.0, closed=None):
    try:
        for i in range(n):
            time.sleep(pause_s)
            yield i
    finally:
        if closed is not None:
            closed.append(True)


def test_runs_to_the_end_in_slices_and_reports_the_last_yield(qtbot):
    job = SlicedJob(slice_ms=5)
    progress = []
    job.progressed.connect(progress.append)
    with qtbot.waitSignal(job.finished, timeout=5000) as done:
        job.start(counting(30, pause_s=0.002))
        assert job.is_running()
    assert done.args == [29] and not job.is_running()
    assert 2 <= len(progress) < 30                     # several slices, several steps per slice
    assert progress == sorted(progress)


def test_starting_a_new_job_drops_the_old_one(qtbot):
    job = SlicedJob()
    closed = []
    job.start(counting(10 ** 9, closed=closed))
    qtbot.wait(30)                                     # it is running
    with qtbot.waitSignal(job.finished, timeout=5000) as done:
        job.start(counting(3))
    assert done.args == [2] and closed == [True]


def test_cancel_closes_the_generator_and_emits_nothing(qtbot):
    job = SlicedJob()
    closed, finished = [], []
    job.finished.connect(finished.append)
    job.start(counting(10 ** 9, closed=closed))
    qtbot.wait(30)
    job.cancel()
    qtbot.wait(30)
    assert closed == [True] and finished == [] and not job.is_running()


def test_run_to_end_finishes_at_once(qtbot):
    job = SlicedJob()
    finished = []
    job.finished.connect(finished.append)
    job.start(counting(50))
    job.run_to_end()
    assert finished == [49]

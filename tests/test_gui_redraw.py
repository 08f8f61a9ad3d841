"""RedrawThrottle: a burst of requests gives one redraw per interval, in a later event-loop turn."""
import time

from gui.views.redraw import RedrawThrottle


def _throttle(qtbot, interval_ms):
    calls = []
    throttle = RedrawThrottle(lambda: calls.append(time.monotonic()), interval_ms=interval_ms)
    return throttle, calls


def test_a_request_redraws_in_a_later_turn_not_during_the_call(qtbot):
    throttle, calls = _throttle(qtbot, 200)
    throttle.request()
    assert calls == [] and throttle.pending()
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=1000)
    assert not throttle.pending()


def test_a_burst_of_requests_redraws_once_per_interval(qtbot):
    throttle, calls = _throttle(qtbot, 200)
    start = time.monotonic()
    while time.monotonic() - start < 0.5:        # ~10 reports a second would be ~5; we send many more
        throttle.request()
        qtbot.wait(5)
    qtbot.waitUntil(lambda: not throttle.pending(), timeout=1000)
    assert 2 <= len(calls) <= 4                   # 0 ms, ~200 ms, ~400 ms, perhaps ~600 ms
    gaps = [b - a for a, b in zip(calls, calls[1:])]
    assert min(gaps) >= 0.19                      # never two redraws within the interval


def test_flush_redraws_now_only_when_one_is_pending(qtbot):
    throttle, calls = _throttle(qtbot, 200)
    throttle.flush()
    assert calls == []                            # nothing pending: nothing to draw
    throttle.request()
    throttle.flush()
    assert len(calls) == 1 and not throttle.pending()
    qtbot.wait(300)
    assert len(calls) == 1                        # the flushed redraw is not repeated by the timer


def test_cancel_drops_the_pending_redraw(qtbot):
    throttle, calls = _throttle(qtbot, 50)
    throttle.request()
    throttle.cancel()
    qtbot.wait(150)
    assert calls == [] and not throttle.pending()


def test_a_view_that_owns_a_throttle_is_freed_when_its_last_reference_goes(qtbot):
    import gc
    import weakref

    from gui.views.curves import TrainingCurves

    gc.disable()                                      # freed by reference counting alone: no cycle
    try:
        curves = TrainingCurves()
        gone = weakref.ref(curves)
        del curves
        assert gone() is None
    finally:
        gc.enable()

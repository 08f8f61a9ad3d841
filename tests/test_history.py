"""core.history.History (budget, spacing, first/latest, copies) and core.replay's questions of it."""
import numpy as np
import pytest

from core import replay
from core.history import RECORD_OVERHEAD, History
from core.losses import softmax
from core.network import CNN
from core.replay import filter_change, filter_change_through_run, probabilities_through_run, top_rivals

MODEL_BYTES = CNN().params  # shapes of the 8-filter model
RECORD = RECORD_OVERHEAD + sum(a.nbytes for a in MODEL_BYTES.values())


def tiny(value: float) -> dict:
    return {"w": np.full((2, 2), value, dtype=np.float64)}          # 32 bytes of parameters


TINY_RECORD = RECORD_OVERHEAD + 32


def filled(capacity: int, steps) -> History:
    history = History(capacity * TINY_RECORD)
    for step in steps:
        history.record(step, tiny(step), loss=1.0 / (step + 1))
    return history


def test_a_snapshot_is_a_copy_of_the_params_and_metrics_at_that_step():
    model = CNN(seed=0)
    history = History(10 * RECORD)
    history.record(5, model.params, loss=2.3, accuracy=0.1)
    before = {name: array.copy() for name, array in model.params.items()}
    for array in model.params.values():
        array += 1.0                                                 # the live weights move on
    snapshot = history.at(0)
    assert snapshot.step == 5 and snapshot.metrics == {"loss": 2.3, "accuracy": 0.1}
    assert snapshot.params.keys() == model.params.keys()
    for name, array in snapshot.params.items():
        np.testing.assert_array_equal(array, before[name])
    snapshot.params["conv.filters"][...] = 7.0                       # nor does changing what at() returned
    np.testing.assert_array_equal(history.at(0).params["conv.filters"], before["conv.filters"])


def test_every_step_is_kept_while_the_budget_allows():
    history = filled(10, range(10))
    assert len(history) == 10 and list(history.steps()) == list(range(10)) and history.stride == 1
    assert [history.at(i).params["w"][0, 0] for i in range(10)] == list(range(10))
    assert history.at(-1).step == 9 and history.at(3).metrics == {"loss": 1.0 / 4}


def test_a_full_history_doubles_its_stride_and_keeps_first_latest_and_even_spacing():
    history = filled(10, range(10))
    history.record(10, tiny(10))                                      # the 11th does not fit
    assert history.stride == 2
    assert list(history.steps()) == [0, 2, 4, 6, 8, 10]
    history.record(11, tiny(11))                                      # off the grid: kept as the latest
    assert list(history.steps()) == [0, 2, 4, 6, 8, 10, 11]
    history.record(12, tiny(12))                                      # 11 was only the latest: gone
    assert list(history.steps()) == [0, 2, 4, 6, 8, 10, 12]
    for i, step in enumerate(history.steps()):                        # values travelled with their steps
        expected = {} if step > 9 else {"loss": 1.0 / (step + 1)}
        assert history.at(i).params["w"][0, 0] == step and history.at(i).metrics == expected


@pytest.mark.parametrize("capacity", [2, 3, 7, 16, 100])
@pytest.mark.parametrize("first", [0, 1, 37])
def test_long_runs_stay_in_budget_evenly_spaced_with_first_and_latest(capacity, first):
    budget = capacity * TINY_RECORD + TINY_RECORD // 2
    history = History(budget)
    for step in range(first, first + 1000):
        history.record(step, tiny(step))
        assert history.nbytes <= budget
        steps = history.steps()
        assert steps[0] == first and steps[-1] == step
        gaps = np.diff(steps[:-1])
        assert np.all(gaps == history.stride)                         # grid points: exactly stride apart
        assert steps[-1] - steps[-2] <= history.stride if len(steps) > 1 else True
    assert len(history) >= min(capacity, 1000) // 2                  # thinning keeps at least half the slots


def test_values_travel_with_their_steps_through_many_thinnings_of_a_large_history():
    history = filled(300, range(5000))              # 150+ snapshots kept: thinning moves them in several chunks
    steps = history.steps()
    assert len(steps) > 2 * 64
    assert [history.at(i).params["w"][0, 0] for i in range(len(steps))] == list(steps)
    assert [history.metrics_at(i) for i in range(len(steps) - 1)] == [{"loss": 1.0 / (s + 1)} for s in steps[:-1]]


@pytest.mark.parametrize("kept", [1, 63, 64, 65, 200])
def test_compacting_in_chunks_equals_gathering_the_rows(kept):
    from core.history import _compact

    rng = np.random.default_rng(kept)
    array = rng.normal(size=(400, 3, 2))
    keep = np.sort(rng.choice(400, kept, replace=False))
    expected = array[keep].copy()
    _compact(array, keep)
    np.testing.assert_array_equal(array[:kept], expected)


def test_steps_must_increase_and_budget_must_fit_two_snapshots():
    history = filled(4, [3])
    with pytest.raises(ValueError, match="not after"):
        history.record(3, tiny(0))
    with pytest.raises(ValueError, match="two snapshots"):
        History(TINY_RECORD + 1).record(0, tiny(0))
    with pytest.raises(IndexError):
        history.at(1)


def test_index_near_finds_the_closest_step_kept():
    history = filled(20, [0, 4, 8, 12])
    assert [history.index_near(s) for s in (-5, 0, 1, 2, 3, 6, 7, 100)] == [0, 0, 0, 0, 1, 1, 2, 3]


def test_index_near_on_one_snapshot_or_none():
    assert [filled(4, [7]).index_near(s) for s in (0, 7, 99)] == [0, 0, 0]
    with pytest.raises(IndexError) as error:
        History(4 * TINY_RECORD).index_near(0)
    assert str(error.value) == "the history is empty"


def test_an_empty_history_has_no_steps_as_integers():
    steps = History(4 * TINY_RECORD).steps()
    assert steps.shape == (0,) and steps.dtype == np.int64             # the same type as once steps are kept


def test_metrics_at_counts_back_from_the_latest_and_refuses_beyond_either_end():
    history = filled(8, [0, 1, 2])
    assert history.metrics_at(-3) == history.metrics_at(0) == {"loss": 1.0}
    for index in (3, -4):
        with pytest.raises(IndexError) as error:
            history.metrics_at(index)
        assert str(error.value) == f"snapshot {index} of 3"


def test_a_stacked_parameter_is_read_only():
    history = filled(8, [0, 1, 2])
    stacked = history.stacked("w")                                      # (3, 2, 2)
    with pytest.raises(ValueError, match="read-only"):
        stacked[0, 0, 0] = 5.0
    np.testing.assert_array_equal(stacked[:, 0, 0], [0, 1, 2])


def test_the_64_mb_budget_holds_12_epochs_of_full_mnist_at_batch_64():
    budget = 64 * 2**20
    steps = 12 * -(-60000 // 64)                                      # 11,256 steps
    model = CNN(seed=0)
    history = History(budget)
    for step in range(1, steps + 1):
        history.record(step, model.params, loss=0.1)
    assert history.nbytes <= budget
    assert history.at(0).step == 1 and history.at(-1).step == steps
    assert len(history) >= history.capacity // 2 and history.capacity == budget // RECORD


# ---- core.replay --------------------------------------------------------------------------------

def _run_history(count=6, seed=0):
    rng = np.random.default_rng(seed)
    model = CNN(seed=seed, deskew=True)                               # replay reads images as they are
    history = History(100 * RECORD)
    models = []
    for step in range(count):
        for array in model.params.values():
            array += rng.normal(0, 0.05, array.shape).astype(array.dtype)
        history.record(step * 3, model.params)
        models.append(model.copy())
    return history, models


def test_probabilities_through_run_match_each_snapshots_network():
    history, models = _run_history()
    image = np.zeros((28, 28))
    image[5:23, 12:16] = 255                                          # a "1"
    image[5:8, 9:13] = 180
    expected = np.stack([m.predict_proba(image, seen=True)[0] for m in models])  # (K, 10)
    got = probabilities_through_run(history, image)
    assert got.shape == (6, 10)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(got[0], got[-1])                           # the snapshots really differ


def test_probabilities_through_an_empty_history_are_empty():
    assert probabilities_through_run(History(10 * RECORD), np.zeros((28, 28))).shape == (0, 10)


def test_filter_change_is_each_filters_distance_from_the_start():
    start = np.zeros((3, 3, 3))
    now = start.copy()
    now[1, 0, 0], now[1, 2, 2] = 3.0, 4.0                            # filter 2 moved by 5
    now[2] = 1.0                                                       # filter 3 by 3 (nine ones)
    np.testing.assert_allclose(filter_change(start, now), [0.0, 5.0, 3.0])


def test_filter_change_through_run_starts_at_zero_and_follows_each_snapshot():
    history, models = _run_history()
    change = filter_change_through_run(history)
    assert change.shape == (6, 8)
    np.testing.assert_array_equal(change[0], 0)
    first = models[0].params["conv.filters"]
    for k, model in enumerate(models):
        np.testing.assert_allclose(change[k], filter_change(first, model.params["conv.filters"]), rtol=1e-12)


def test_filter_change_through_a_run_of_one_snapshot_or_none():
    history, _ = _run_history(count=1)
    np.testing.assert_array_equal(filter_change_through_run(history), np.zeros((1, 8)))
    assert filter_change_through_run(History(10 * RECORD)).shape == (0, 0)


def test_top_rivals_are_the_other_digits_with_the_highest_peaks():
    probs = np.full((3, 10), 0.01)
    probs[0, 7], probs[1, 3], probs[2, 5], probs[2, 8] = 0.9, 0.5, 0.3, 0.2
    assert top_rivals(probs, digit=7, count=3) == [3, 5, 8]
    assert top_rivals(probs, digit=3, count=2) == [7, 5]
    assert top_rivals(probs, digit=7) == [3, 5, 8]                    # three by default


def test_top_rivals_on_tied_peaks_come_in_digit_order():
    rng = np.random.default_rng(1)
    for _ in range(200):
        probs = rng.integers(0, 3, size=(2, 10)) / 10                # peaks 0, 0.1 or 0.2: many ties
        digit = int(rng.integers(10))
        peaks = probs.max(axis=0)
        expected = sorted((d for d in range(10) if d != digit), key=lambda d: (-peaks[d], d))
        assert top_rivals(probs, digit, count=9) == expected


def test_top_rivals_of_no_probabilities_are_the_other_digits_in_order():
    assert top_rivals(np.zeros((0, 10)), digit=1) == [0, 2, 3]
    assert top_rivals(np.zeros((0, 10)), digit=4, count=10) == [0, 1, 2, 3, 5, 6, 7, 8, 9]


def test_probabilities_with_works_through_the_snapshots_a_chunk_at_a_time_each_once(monkeypatch):
    history, models = _run_history(count=5)
    image = np.zeros((28, 28))
    image[6:22, 10:18] = 230
    expected = probabilities_through_run(history, image)             # (5, 10), all in one chunk
    rows = []

    def counted(logits):
        rows.append(len(logits))
        return softmax(logits)

    monkeypatch.setattr(replay, "CHUNK", 2)
    monkeypatch.setattr(replay, "softmax", counted)
    np.testing.assert_allclose(probabilities_through_run(history, image), expected, rtol=1e-6, atol=1e-7)
    assert rows == [2, 2, 1]                                          # at most CHUNK together, each snapshot once


def test_probabilities_at_chosen_indices_are_those_rows():
    history, _ = _run_history()
    image = np.full((28, 28), 40.0)
    image[10:18, 8:20] = 250
    everything = probabilities_through_run(history, image)
    np.testing.assert_allclose(probabilities_through_run(history, image, [0, 3, 5]), everything[[0, 3, 5]])
    assert history.metrics_at(-1) == {} and history.metrics_at(0) is not history.metrics_at(0)

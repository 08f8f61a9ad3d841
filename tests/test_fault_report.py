"""tools/fault_report.py counts what it claims: cases, hypothesis examples, failures, data checks."""
import importlib.util
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

TOOL = Path(__file__).resolve().parent.parent / "tools" / "fault_report.py"

SAMPLE_TESTS = '''
import pytest
from hypothesis import given, settings, strategies as st

pytestmark = pytest.mark.faults

@pytest.mark.parametrize("n", [1, 2, 3])
def test_cases(n):
    assert n > 0

@settings(max_examples=7, database=None)
@given(st.integers())
def test_fuzz(x):
    assert isinstance(x, int)

@pytest.mark.keeps_data
def test_kept():
    assert True

@pytest.mark.keeps_data
def test_lost():
    assert False, "the old file changed"

@pytest.mark.xfail(strict=True, reason="known")
def test_known():
    assert False

def test_skipped():
    pytest.skip("no data here")
'''


def load_tool():
    spec = importlib.util.spec_from_file_location("fault_report", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tally_counts_cases_examples_failures_and_data_checks(pytester):
    tool = load_tool()
    pytester.makeini("[pytest]\nmarkers =\n    faults: x\n    keeps_data: y\n")
    pytester.makepyfile(test_sample=SAMPLE_TESTS)
    tally = tool.FaultTally()
    pytester.runpytest_inprocess("-m", "faults", "-p", "no:cacheprovider", plugins=[tally])
    ran = [node for node, outcome in tally.outcomes.items() if outcome != "skipped"]
    assert len(ran) == 3 + 1 + 2 + 1                            # parametrised cases count one by one
    assert tally.examples == 7
    assert tally.count("failed") == 1 and tally.count("failed", tally.keeps_data) == 1
    assert len(tally.keeps_data) == 2
    assert tally.count("xfailed") == 1 and tally.count("skipped") == 1

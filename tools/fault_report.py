"""Run every fault test (`pytest -m faults`) and print what was tried and what broke.

    python tools/fault_report.py [more pytest arguments, e.g. -x or -k download]

Figures printed:
  fault cases tried   test cases that ran; each parametrised case counts once
  generated inputs    examples hypothesis ran through the fuzz tests (counted by wrapping each
                      @given test's inner function, the hook hypothesis offers for this)
  failures/crashes    failed or erroring fault tests (must be 0)
  keeps_data checks   tests marked keeps_data: an old file stays byte-identical, no partial file is kept
  data lost           keeps_data tests that failed (must be 0)
Skipped tests (e.g. full MNIST absent) and known open issues (xfail) are listed apart.
Exit status 0 only when no fault test failed.
"""
import functools
import os
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# A test's outcome is its worst phase (setup, call, teardown).
RANK = {"passed": 0, "skipped": 1, "xfailed": 2, "failed": 3}


class FaultTally:
    """A pytest plugin: outcome of every test, keeps_data marks, hypothesis examples run."""

    def __init__(self):
        self.outcomes = {}        # node id -> "passed" | "skipped" | "xfailed" | "failed"
        self.keeps_data = set()   # node ids marked keeps_data
        self.examples = 0

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        handle = getattr(item.obj, "hypothesis", None)
        if handle is None:
            yield
            return
        inner = handle.inner_test

        @functools.wraps(inner)
        def counted(*args, **kwargs):
            self.examples += 1
            return inner(*args, **kwargs)

        handle.inner_test = counted
        try:
            yield
        finally:
            handle.inner_test = inner

    def pytest_runtest_logreport(self, report):
        if "keeps_data" in report.keywords:
            self.keeps_data.add(report.nodeid)
        outcome = report.outcome
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else outcome   # a strict xpass arrives as "failed"
        previous = self.outcomes.get(report.nodeid, "passed")
        self.outcomes[report.nodeid] = max(previous, outcome, key=RANK.__getitem__)

    def pytest_collectreport(self, report):
        if report.failed:                       # a test file that cannot even be imported
            self.outcomes[report.nodeid or "collection"] = "failed"

    def count(self, outcome, among=None):
        ids = self.outcomes if among is None else among
        return sum(1 for node in ids if self.outcomes.get(node) == outcome)


def print_report(tally, seconds, status):
    ran = [node for node, outcome in tally.outcomes.items() if outcome != "skipped"]
    rows = [
        ("fault cases tried (test cases, parametrised ones counted)", len(ran)),
        ("generated inputs (hypothesis examples run)", tally.examples),
        ("failures / crashes", tally.count("failed")),
        ("data-preservation checks run (keeps_data)", len(set(ran) & tally.keeps_data)),
        ("data lost (failed keeps_data checks)", tally.count("failed", tally.keeps_data)),
        ("skipped here (e.g. full MNIST absent)", tally.count("skipped")),
        ("known open issues (xfail)", tally.count("xfailed")),
    ]
    print(f"\ndigitpad fault report: pytest -m faults, {seconds:.1f} s, pytest exit status {int(status)}")
    for label, value in rows:
        print(f"  {label:.<62} {value:>7,}")
    for node, outcome in sorted(tally.outcomes.items()):
        if outcome in ("failed", "xfailed"):
            print(f"  {outcome.upper()}: {node}")


def main(argv=None):
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))               # as `python -m pytest` run from the project root has it
    tally = FaultTally()
    started = time.monotonic()
    status = pytest.main(["-m", "faults", "-q", "-p", "no:cacheprovider", *(argv or [])], plugins=[tally])
    print_report(tally, time.monotonic() - started, status)
    return 0 if status == pytest.ExitCode.OK and tally.count("failed") == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

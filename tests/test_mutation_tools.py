"""tools/mutation_report.py and tools/mutation_sample.py: the score's arithmetic, the equivalents list, the sample."""
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import mutation_report  # noqa: E402
import mutation_sample  # noqa: E402


def test_equivalents_are_read_from_their_section_only(tmp_path):
    doc = tmp_path / "MUTANTS.md"
    doc.write_text("# x\n- `not.this`: before\n## Equivalent mutants\n\n- `a.b__mutmut_1`: why one\n"
                   "- `a.c__mutmut_2`: why two\n## Later\n- `not.that`: after\n")
    assert mutation_report.load_equivalents(doc) == {"a.b__mutmut_1": "why one", "a.c__mutmut_2": "why two"}


def test_the_shipped_list_names_only_mutants_with_reasons():
    equivalents = mutation_report.load_equivalents()
    assert len(equivalents) > 30 and all(reason.strip() for reason in equivalents.values())
    assert all("__mutmut_" in name for name in equivalents)


def test_tally_counts_timeouts_as_killed_and_leaves_equivalents_and_untested_out():
    results = {"core.a__mutmut_1": ("killed", "core/a.py"), "core.a__mutmut_2": ("timeout", "core/a.py"),
               "core.a__mutmut_3": ("survived", "core/a.py"), "core.a__mutmut_4": ("survived", "core/a.py"),
               "core.a__mutmut_5": ("no tests", "core/a.py"), "core.a__mutmut_6": ("not checked", "core/a.py"),
               "gui.b__mutmut_1": ("killed", "gui/b.py")}
    counts, survivors = mutation_report.tally(results, {"core.a__mutmut_4": "why"})
    assert counts["core"] == Counter(killed=2, survived=2, equivalent=1, untested=1)
    assert mutation_report.score(counts["core"]) == 0.5
    assert [name for name, _, _ in survivors] == ["core.a__mutmut_3", "core.a__mutmut_5"]
    assert mutation_report.score(Counter()) is None


@pytest.mark.parametrize("killed, judged, low, high", [(343, 381, 0.866, 0.926), (0, 10, 0.0, 0.278), (10, 10, 0.722, 1.0)])
def test_wilson_interval(killed, judged, low, high):
    assert mutation_report.wilson_interval(killed, judged) == pytest.approx((low, high), abs=0.001)


def test_the_sample_is_stratified_seeded_and_filtered(tmp_path):
    for module, count in (("core/a.py", 300), ("core/b.py", 100), ("gui/c.py", 50)):
        meta = tmp_path / (module + ".meta")
        meta.parent.mkdir(parents=True, exist_ok=True)
        codes = {f"{module[:-3].replace('/', '.')}.f__mutmut_{i}": (1 if i % 2 else None) for i in range(count)}
        meta.write_text(json.dumps({"exit_code_by_key": codes}))
    by_module = mutation_sample.mutants_by_module(tmp_path, "core.", untested_only=False)
    sample = mutation_sample.stratified_sample(by_module, 40, seed=0)
    assert len(sample) == 40 and sum(name.startswith("core.a.") for name in sample) == 30
    assert sample == mutation_sample.stratified_sample(by_module, 40, seed=0)
    assert sample != mutation_sample.stratified_sample(by_module, 40, seed=1)
    untested = mutation_sample.mutants_by_module(tmp_path, "core.", untested_only=True)
    assert sum(len(names) for names in untested.values()) == 200


def test_every_named_slip_still_applies_to_the_code_as_it_is():
    import named_mutants

    root = Path(__file__).resolve().parent.parent
    for slip in named_mutants.SLIPS:
        source = (root / slip.path).read_text()
        assert source.count(slip.old) == 1, f"slip {slip.name!r} no longer matches {slip.path}: update it"
        test_file = root / slip.test.split("::")[0]
        assert slip.test.split("::")[1] in test_file.read_text(), f"{slip.test} is gone"

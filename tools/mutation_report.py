"""Read mutmut's results (mutants/**/*.meta) and report the mutation score and the survivors.

    python tools/mutation_report.py [--out out/mutants.md] [--min-core 90] [--names FILE]

Run after `mutmut run` (`make mutate` does both). Prints, for core/ and for the Qt-free gui/
modules apart:

  score = killed / (tested - equivalent)

  killed      a test failed, or the run timed out (an endless loop is noticed too)
  survived    every test that runs the mutated function passed, or no test runs it
  equivalent  survivors listed in docs/MUTANTS.md as unable to change behaviour, each with why
  not tested  mutants mutmut has not run yet (an interrupted run); left out and counted apart

and writes every survivor that is not listed as equivalent, with its diff, to the report file.
With --names (a file of mutant names, e.g. a sample from tools/mutation_sample.py) only those
count, and each score comes with its 95% interval (Wilson): the sample's estimate of the whole.
Exit status 1 when core/'s score is under --min-core.
"""
import argparse
import json
import math
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "docs" / "MUTANTS.md"
KILLED = {"killed", "timeout", "segfault", "caught by type check"}
SURVIVED = {"survived", "no tests", "suspicious", "skipped"}
AREAS = ("core", "gui")


def load_results(mutants_dir: Path) -> dict[str, tuple[str, str]]:
    """mutant name -> (status, source path), for every mutant mutmut generated."""
    from mutmut.stats import status_by_exit_code

    results = {}
    for meta in sorted(mutants_dir.rglob("*.py.meta")):
        source = str(meta.relative_to(mutants_dir))[:-len(".meta")]
        if not (mutants_dir.parent / source).exists():
            continue                    # left from a module that has since been removed
        for name, exit_code in json.loads(meta.read_text())["exit_code_by_key"].items():
            results[name] = (status_by_exit_code[exit_code], source)
    return results


def load_equivalents(path: Path = EQUIVALENTS) -> dict[str, str]:
    """Mutant name -> why it is equivalent, from lines "- `name`: why" under "## Equivalent"."""
    if not path.exists():
        return {}
    equivalents, inside = {}, False
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            inside = line.lower().startswith("## equivalent")
        elif inside and (match := re.match(r"- `([^`]+)`:?\s*(.*)", line)):
            equivalents[match.group(1)] = match.group(2)
    return equivalents


def tally(results, equivalents):
    """{area: Counter(killed, survived, equivalent, untested)} and the survivors not excused."""
    counts = {area: Counter() for area in AREAS}
    survivors = []
    for name, (status, source) in sorted(results.items()):
        counter = counts[source.split("/")[0]]
        if status == "not checked":
            counter["untested"] += 1
        elif status in KILLED:
            counter["killed"] += 1
        elif name in equivalents:
            counter["equivalent"] += 1
        else:
            counter["survived"] += 1
            survivors.append((name, status, source))
    return counts, survivors


def score(counter) -> float | None:
    judged = counter["killed"] + counter["survived"]
    return counter["killed"] / judged if judged else None


def wilson_interval(killed: int, judged: int, z: float = 1.96) -> tuple[float, float]:
    """95% interval for a kill rate measured on a random sample of `judged` mutants."""
    if not judged:
        return 0.0, 1.0
    p = killed / judged
    centre = (p + z * z / (2 * judged)) / (1 + z * z / judged)
    half = z * math.sqrt(p * (1 - p) / judged + z * z / (4 * judged * judged)) / (1 + z * z / judged)
    return centre - half, centre + half


def describe(area, counter, sampled=False) -> str:
    value = score(counter)
    figure = f"{value:.1%}" if value is not None else "n/a"
    tested = counter["killed"] + counter["survived"] + counter["equivalent"]
    line = (f"{area + '/':<6} score {figure:>6}  = {counter['killed']} killed / ({tested} tested - "
            f"{counter['equivalent']} equivalent); {counter['survived']} survived")
    if sampled and value is not None:
        low, high = wilson_interval(counter["killed"], counter["killed"] + counter["survived"])
        line += f"; 95% interval {low:.1%}..{high:.1%} (random sample)"
    if counter["untested"]:
        line += f"; {counter['untested']} not tested yet"
    return line


def diff_of(name: str, source: str) -> str:
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    try:
        return get_diff_for_mutant(name, path=source)
    except Exception as error:  # a stale mutants/ folder: say so rather than stop the report
        return f"(no diff: {error!r})"


def write_report(path: Path, lines: list[str], survivors) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    parts = ["# Surviving mutants", "", "Written by `make mutate` (tools/mutation_report.py).", "", "```",
             *lines, "```", ""]
    for name, status, source in survivors:
        parts += [f"## {name} ({status})", "", "```diff", diff_of(name, source), "```", ""]
    path.write_text("\n".join(parts))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=Path, default=ROOT / "mutants", help="mutmut's working folder")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "mutants.md", help="survivor report")
    parser.add_argument("--min-core", type=float, default=90.0, help="lowest acceptable core/ score, %%")
    parser.add_argument("--names", type=Path, help="count only the mutants named in this file (a sample)")
    args = parser.parse_args(argv)
    if not args.mutants.is_dir():
        print(f"No mutmut results in {args.mutants}: run `make mutate` first.", file=sys.stderr)
        return 2
    results = load_results(args.mutants)
    if args.names:
        wanted = set(args.names.read_text().split())
        results = {name: result for name, result in results.items() if name in wanted}
    equivalents = load_equivalents()
    unknown = [] if args.names else sorted(set(equivalents) - set(results))
    counts, survivors = tally(results, equivalents)
    lines = [describe(area, counts[area], sampled=args.names is not None) for area in AREAS
             if sum(counts[area].values())]
    if unknown:
        lines.append(f"{len(unknown)} mutants listed as equivalent no longer exist (code changed): "
                     + ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else ""))
    write_report(args.out, lines, survivors)
    print("\n".join(lines))
    print(f"{len(survivors)} surviving mutants written to {args.out}")
    core_score = score(counts["core"])
    return 0 if core_score is not None and core_score * 100 >= args.min_core else 1


if __name__ == "__main__":
    raise SystemExit(main())

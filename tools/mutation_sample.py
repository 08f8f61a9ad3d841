"""Pick a seeded random sample of mutmut's mutants, for a score in minutes instead of hours.

    python tools/mutation_sample.py [--size 400] [--seed 0] [--prefix core.] [--untested-only]

Prints the mutant names, one a line, for `mutmut run NAME...` (`make mutate-sample` does it). Each
module gets a share of the sample in proportion to its number of mutants, so the sample's kill
rate is an unbiased estimate of the whole score; tools/mutation_report.py gives its 95% interval.
Needs mutants/ from an earlier `mutmut run` (any, e.g. of one module: that generates every mutant).
"""
import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def mutants_by_module(mutants_dir: Path, prefix: str, untested_only: bool) -> dict[str, list[str]]:
    by_module = {}
    for meta in sorted(mutants_dir.rglob("*.py.meta")):
        results = json.loads(meta.read_text())["exit_code_by_key"]
        names = sorted(name for name, code in results.items()
                       if name.startswith(prefix) and (code is None or not untested_only))
        if names:
            by_module[str(meta.relative_to(mutants_dir))] = names
    return by_module


def stratified_sample(by_module: dict[str, list[str]], size: int, seed: int) -> list[str]:
    """About `size` names, each module's share in proportion to its count (at least one each)."""
    total = sum(len(names) for names in by_module.values())
    rng = random.Random(seed)
    chosen = []
    for module, names in by_module.items():
        share = max(1, round(size * len(names) / total)) if total else 0
        chosen += rng.sample(names, min(share, len(names)))
    return chosen


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=Path, default=ROOT / "mutants")
    parser.add_argument("--size", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prefix", default="core.", help="only mutants whose name starts with this")
    parser.add_argument("--untested-only", action="store_true", help="skip mutants that already have a verdict")
    args = parser.parse_args(argv)
    by_module = mutants_by_module(args.mutants, args.prefix, args.untested_only)
    if not by_module:
        print(f"No mutants under {args.mutants}: run `mutmut run 'core.paths*'` once to generate them.",
              file=sys.stderr)
        return 2
    print("\n".join(stratified_sample(by_module, args.size, args.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The `digitpad` and `python -m gui` entry point, kept free of Qt at import time.

Training runs in a child process started with multiprocessing's "spawn" method, which
re-imports the module that launched the app. Importing only this small module there keeps
the child from loading Qt it never uses (measured: 375 ms -> 160 ms to the first progress).
It is also where missing system libraries are caught: Qt itself would abort with a vague hint.
"""
import argparse
import sys

EXIT_CANNOT_START = 1     # missing system libraries, or no display


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="digitpad", description="A drawing pad that recognises handwritten digits.",
        epilog="Other arguments are passed on to Qt (e.g. -platform offscreen).")
    parser.add_argument("--self-test", action="store_true",
                        help="open the window, check the pretrained model reads the bundled test digits, "
                             "close it; exit status 0 when all is well")
    return parser.parse_known_args(argv)


def main(argv=None) -> int:
    args, qt_args = parse_args(sys.argv[1:] if argv is None else argv)
    from gui.system_libraries import display_problem, explain, missing_libraries

    missing = missing_libraries()
    problem = explain(missing) if missing else display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_CANNOT_START
    qt_argv = [sys.argv[0], *qt_args]
    if args.self_test:
        from gui.self_test import run as self_test

        return self_test(qt_argv)
    from gui.app import main as run_app

    return run_app(qt_argv)

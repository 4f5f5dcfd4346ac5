"""``python -m benchmarks [--smoke] [--reps N] [--only NAME ...] [--out PATH]``."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import shlex
import sys
import time
from pathlib import Path

from benchmarks._common import Report, Settings
from benchmarks._output import load, results, table, targets

MODULES = [
    "fanout",
    "deps",
    "coldstart",
    "reshape",
    "resident",
    "memory",
    "bounds",
    "coalesce",
    "wire",
    "large",
    "batch",
]
DEFAULT_OUT = Path(__file__).resolve().parent / "RESULTS.md"
SCRATCH = Path(__file__).resolve().parent / "out"  # ignored by git


def out_path(smoke: bool, only: list[str] | None, given: Path | None) -> Path:
    """Only a full run writes the committed RESULTS.md: a smoke run (tiny sizes, one
    repetition) or a partial one (``--only``) writes under ``benchmarks/out/``, so its
    figures can never pass for the committed ones."""
    if given is not None:
        return given
    if smoke:
        return SCRATCH / "RESULTS-smoke.md"
    if only:
        return SCRATCH / f"RESULTS-{'-'.join(only)}.md"
    return DEFAULT_OUT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repetition")
    parser.add_argument("--reps", type=int, default=7, help="repetitions per variant (>= 5)")
    parser.add_argument("--only", nargs="+", choices=MODULES, help="run only these")
    parser.add_argument(
        "--out",
        type=Path,
        help=f"results file (default: {DEFAULT_OUT} for a full run, else under {SCRATCH})",
    )
    args = parser.parse_args(argv)
    if args.smoke and args.out is not None and args.out.resolve() == DEFAULT_OUT:
        parser.error(f"a smoke run never writes {DEFAULT_OUT}: its figures are not results")
    settings = Settings(smoke=args.smoke, reps=1 if args.smoke else max(args.reps, 5))
    out = out_path(args.smoke, args.only, args.out)
    command = "python -m benchmarks " + shlex.join(sys.argv[1:] if argv is None else argv)
    started, load_before = dt.datetime.now().astimezone(), load()
    reports: list[Report] = []
    for name in args.only or MODULES:
        began = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        reports.append(module.run(settings))
        print(f"  {name}: {time.perf_counter() - began:.1f} s", file=sys.stderr, flush=True)
    rows = [row for report in reports for row in report.rows]
    print(table(rows))
    print()
    print(targets(reports))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(results(reports, command.strip(), started, load_before, settings.reps))
    print(f"\nwrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

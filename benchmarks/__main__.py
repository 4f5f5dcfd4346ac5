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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repetition")
    parser.add_argument("--reps", type=int, default=7, help="repetitions per variant (>= 5)")
    parser.add_argument("--only", nargs="+", choices=MODULES, help="run only these")
    parser.add_argument("--out", type=Path, help=f"results file (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    settings = Settings(smoke=args.smoke, reps=1 if args.smoke else max(args.reps, 5))
    out = args.out or DEFAULT_OUT
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
    out.write_text(results(reports, command.strip(), started, load_before, settings.reps))
    print(f"\nwrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

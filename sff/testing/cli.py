"""``sff record`` and ``sff schema``: handlers for the sff command line.

Each command has ``configure_<name>(parser)`` to add its arguments and ``<name>(args)``
to run it, returning the exit status.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sff.function import Function
from sff.testing.discover import load_functions


def configure_record(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the function to invoke against its real backends")
    parser.add_argument("--input", default=None, help="the input, as JSON (default: {})")
    parser.add_argument(
        "--allow-degraded",
        action="store_true",
        help="keep a failed or degraded run as the expected answer (refused otherwise)",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing case file")
    parser.add_argument(
        "--name",
        "--case",
        dest="case_name",
        help="the case file name (default: the input's non-personal fields, or a short hash)",
    )
    parser.add_argument("--header", action="append", default=[], help="NAME=VALUE, repeatable")
    parser.add_argument("--out", default="tests/cases", help="the cases directory")
    parser.add_argument("--root", default=".", help="the project directory")


def record(args: argparse.Namespace) -> int:
    from sff.testing.casefile import load_case
    from sff.testing.record import record_case

    fn = _function(args.root, args.name)
    if fn is None:
        return 2
    from sff.testing.keep import RecordRefused, require_input

    try:
        data = json.loads(args.input) if args.input is not None else {}
    except ValueError as exc:
        print(f"sff record: --input is not JSON: {exc}", file=sys.stderr)
        return 2
    headers = dict(h.split("=", 1) for h in args.header if "=" in h)
    report: list[str] = []
    try:
        require_input(fn, args.input is not None)
        path = record_case(
            fn,
            data,
            out_dir=Path(args.out),
            name=args.case_name,
            headers=headers,
            allow_degraded=args.allow_degraded,
            force=args.force,
            report=report,
        )
    except RecordRefused as exc:
        print(f"sff record: not recorded: {exc}", file=sys.stderr)
        return 1
    print("\n".join(report))
    for what in load_case(path).redacted:
        print(f"  redacted: {what}")
    return 0


def configure_schema(parser: argparse.ArgumentParser) -> None:
    from sff.testing.schema import FORMATS

    parser.add_argument("name", nargs="?", help="one function (default: all)")
    parser.add_argument("--format", choices=FORMATS, default="json-schema")
    parser.add_argument("--out", help="write to this file instead of stdout")
    parser.add_argument("--root", default=".", help="the project directory")


def schema(args: argparse.Namespace) -> int:
    from sff.testing.schema import export

    functions = load_functions(Path(args.root))
    if args.name is not None:
        if args.name not in functions:
            return _unknown(args.name, functions)
        functions = {args.name: functions[args.name]}
    text = export(functions.values(), args.format)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _function(root: str, name: str) -> Function | None:
    functions = load_functions(Path(root))
    if name not in functions:
        _unknown(name, functions)
        return None
    return functions[name]


def _unknown(name: str, functions: dict[str, Function]) -> int:
    known = ", ".join(sorted(functions)) or "none"
    print(f"sff: no function named {name!r} (found: {known})", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """``python -m sff.testing.cli record|schema ...``, until `sff` wires these in."""
    parser = argparse.ArgumentParser(prog="python -m sff.testing.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    configure_record(sub.add_parser("record", help="record a contract case"))
    configure_schema(sub.add_parser("schema", help="export the contracts"))
    args = parser.parse_args(argv)
    return record(args) if args.command == "record" else schema(args)


if __name__ == "__main__":
    raise SystemExit(main())

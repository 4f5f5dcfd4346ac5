"""The `sff` command: thin commands over discovery, declarations and the executor.

Each subcommand names the module that implements it; only the chosen one is imported, so
`sff invoke` never pays for what `sff package` needs. Exit codes: 0 done, 1 the project or
the invocation failed (reported readably), 2 the command line was wrong.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from sff.function import Function
    from sff.project import LoadError, Project


class UsageError(Exception):
    """The command line asks for something that cannot be (exit 2, one line)."""


@dataclass(frozen=True)
class Command:
    help: str
    module: str
    configure: str
    run: str

    def load(self, attribute: str) -> Callable[..., Any]:
        handler: Callable[..., Any] = getattr(importlib.import_module(self.module), attribute)
        return handler


# Later commands (package, serve, record, schema) register here with their own module.
COMMANDS: dict[str, Command] = {
    "new": Command("create a new project", "sff.cli", "configure_new", "run_new"),
    "list": Command(
        "show functions, sources and plans", "sff.listing", "configure_list", "run_list"
    ),
    "check": Command(
        "import every function and report problems", "sff.cli", "configure_check", "run_check"
    ),
    "invoke": Command("run one function locally", "sff.cli", "configure_invoke", "run_invoke"),
    "package": Command(
        "build deploy zips and infrastructure files", "sff.packaging.cli", "configure", "run"
    ),
    "record": Command(
        "record a contract case against the real backends",
        "sff.testing.cli",
        "configure_record",
        "record",
    ),
    "schema": Command(
        "export contracts: json-schema, typescript, openapi",
        "sff.testing.cli",
        "configure_schema",
        "schema",
    ),
    "serve": Command(
        "run functions on a local FaaS platform (destroy or resident model)",
        "sff.serve.command",
        "configure",
        "run",
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_selected(args_list))
    args = parser.parse_args(args_list)
    try:
        code: int = COMMANDS[args.command].load(COMMANDS[args.command].run)(args)
    except UsageError as exc:
        print(f"sff {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `sff list | head`: the reader left, nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return code


def build_parser(selected: str | None) -> argparse.ArgumentParser:
    """Every command is listed; only the selected one's module is imported to configure it."""
    parser = argparse.ArgumentParser(
        prog="sff", description="Serverless-For-Frontend: declare, check and run functions."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, command in COMMANDS.items():
        sub = commands.add_parser(name, help=command.help, description=command.help)
        if name == selected:
            command.load(command.configure)(sub)
    return parser


def _selected(argv: list[str]) -> str | None:
    return next((a for a in argv if not a.startswith("-")), None)


# -- sff new -----------------------------------------------------------------------------


def configure_new(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="folder to create (its name becomes the project's)")


def run_new(args: argparse.Namespace) -> int:
    from sff.scaffold import ScaffoldError, create_project, install_command

    target = Path(args.name)
    try:
        written = create_project(target)
    except (ScaffoldError, OSError) as exc:
        raise UsageError(str(exc)) from None
    for path in written:
        print(f"  created {path}")
    print(f"\nnext:\n  cd {target}\n  {install_command()}\n  sff check\n  python -m pytest")
    return 0


# -- project loading shared by list / check / invoke ---------------------------------------


def load(start: Path | None = None) -> Project:
    from sff.project import ProjectError, load_project

    try:
        return load_project(start)
    except ProjectError as exc:
        raise UsageError(str(exc)) from None


def where(project: Project, error: LoadError) -> str:
    line = error.line
    location = project.relative(error.file) + (f":{line}" if line else "")
    return f"{location} ({error.module})"


def describe_error(error: BaseException) -> str:
    from sff.errors import SffError

    if isinstance(error, SffError):
        return error.message
    if isinstance(error, SyntaxError):
        text = (error.text or "").rstrip("\n")
        caret = f"\n    {' ' * ((error.offset or 1) - 1)}^" if error.offset and text else ""
        return f"SyntaxError: {error.msg}" + (f"\n    {text}{caret}" if text else "")
    return f"{type(error).__name__}: {error}"


# -- sff check ---------------------------------------------------------------------------


def configure_check(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--traceback", action="store_true", help="show full tracebacks")
    parser.add_argument(
        "--env",
        action="store_true",
        help="also list every environment variable each function needs, and which are unset",
    )


def run_check(args: argparse.Namespace) -> int:
    from sff.project import DuplicateNameError, DuplicateRouteError, ProjectError, load_project
    from sff.waterfall import count

    try:
        project = load_project()
    except (DuplicateNameError, DuplicateRouteError) as exc:
        print(f"FAIL  {exc}")
        return 1
    except ProjectError as exc:
        raise UsageError(str(exc)) from None
    for found in project.functions:
        sources, stages = len(found.function.sources), len(found.function.plan.stages())
        print(
            f"ok    {found.name:<{_width(project)}}  {project.relative(found.file)}  "
            f"({count(sources, 'source')}, {count(stages, 'stage')})"
        )
    for error in project.errors:
        print(f"FAIL  {where(project, error)}\n{_indent(describe_error(error.error), 6)}")
        if args.traceback:
            print(_indent(_traceback(error.error), 6))
    if not project.functions and not project.errors:
        print(f"no functions found in package {project.package!r}")
    unset = report_env(project) if args.env else 0
    return 1 if project.errors or unset else 0


def report_env(project: Project) -> int:
    """Every variable each function reads, set or not; the count of problems."""
    from sff.variables import needed

    problems = 0
    print("\nenvironment")
    for found in project.functions:
        variables = needed(found.function)
        print(f"  {found.name}" + ("" if variables else "  (no variables)"))
        for var in variables:
            problems += not var.ok
            used = ", ".join(var.sources)
            print(
                f"    {'ok  ' if var.ok else 'FAIL'}  ${var.name:<20} {var.state}  "
                f"(backend {var.backend!r}: {used})"
            )
    return problems


def _width(project: Project) -> int:
    return max((len(f.name) for f in project.functions), default=0)


def _indent(text: str, spaces: int) -> str:
    return "\n".join(" " * spaces + line for line in text.rstrip("\n").splitlines())


def _traceback(error: BaseException) -> str:
    import traceback

    return "".join(traceback.format_exception(error))


# -- sff invoke --------------------------------------------------------------------------


def configure_invoke(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the function's name (see `sff list`)")
    parser.add_argument(
        "--input", "-i", default="{}", help="input JSON, @FILE to read it from a file, - for stdin"
    )
    parser.add_argument(
        "--header",
        "-H",
        action="append",
        default=[],
        metavar="NAME:VALUE",
        help="an incoming request header (repeatable)",
    )
    parser.add_argument(
        "--meta", action="store_true", help="print the per-source timing waterfall to stderr"
    )
    parser.add_argument(
        "--timeout",
        type=duration,
        default=None,
        help="cap the invocation below the function's own timeout: seconds, 500ms, 2s, 1m",
    )
    parser.add_argument(
        "--traceback", action="store_true", help="show the traceback of an unexpected error"
    )


def duration(text: str) -> float:
    """A duration as declarations accept it (``2``, ``"500ms"``, ``"1m"``), in seconds."""
    from sff.errors import DeclarationError
    from sff.spec import seconds

    try:
        return seconds(text)
    except DeclarationError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def run_invoke(args: argparse.Namespace) -> int:
    project = load()
    found = project.get(args.name)
    if found is None:
        raise UsageError(_unknown(project, args.name))
    data = parse_input(args.input)
    headers = parse_headers(args.header)
    return invoke(
        found.function, data, headers, args.timeout, meta=args.meta, show_traceback=args.traceback
    )


def invoke(
    fn: Function,
    data: Any,
    headers: Mapping[str, str],
    timeout: float | None = None,
    *,
    meta: bool = False,
    show_traceback: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run ``fn`` once and print its answer: 0 on success, 1 on an SffError."""
    import asyncio

    from sff.errors import SffError
    from sff.waterfall import color_for, render_waterfall

    out, err = out or sys.stdout, err or sys.stderr
    try:
        result = asyncio.run(fn.invoke(data, headers=headers, timeout=timeout))
    except SffError as exc:
        body = exc.to_dict()
        if exc.meta is not None:
            body["error"]["request_id"] = exc.meta.request_id
        print(json.dumps(body, indent=2, ensure_ascii=False, default=str), file=out)
        if meta and exc.meta is not None:
            print(
                render_waterfall(exc.meta, fn.plan, color=color_for(err), status=exc.status),
                file=err,
            )
        return 1
    except Exception as exc:  # a bug below us: say so in one line, never a traceback
        from sff.secrets import redact

        print(redact(f"sff invoke: unexpected {type(exc).__name__}: {exc}"), file=err)
        if show_traceback:
            print(redact(_traceback(exc)), file=err)
        return 1
    print(json.dumps(result.json(), indent=2, ensure_ascii=False), file=out)
    if meta:
        print(
            render_waterfall(result.meta, fn.plan, color=color_for(err), status=result.status),
            file=err,
        )
    return 0


def _unknown(project: Project, name: str) -> str:
    known = ", ".join(f.name for f in project.functions) or "(none)"
    note = (
        f"; {len(project.errors)} module(s) failed to import, run `sff check`"
        if project.errors
        else ""
    )
    return f"unknown function {name!r}; known: {known}{note}"


def parse_input(text: str) -> Any:
    source = "--input"
    if text == "-":
        text, source = sys.stdin.read(), "--input - (stdin)"
    elif text.startswith("@"):
        try:
            text, source = Path(text[1:]).read_text(encoding="utf-8"), f"--input {text}"
        except OSError as exc:
            raise UsageError(f"--input {text}: cannot read the file: {exc.strerror}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{source} is not valid JSON: {exc}") from None


def parse_headers(values: list[str]) -> dict[str, str]:
    headers = {}
    for value in values:
        name, sep, content = value.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"--header expects NAME:VALUE, got {value!r}")
        headers[name.strip().lower()] = content.strip()
    return headers


if __name__ == "__main__":  # `python -m sff.cli`: run the importable module, not this copy
    from sff.cli import main as _main

    sys.exit(_main())

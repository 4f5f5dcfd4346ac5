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
    from sff.plan import Plan
    from sff.project import Found, LoadError, Project
    from sff.result import Meta, SourceMeta
    from sff.spec import Fallback, Source


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
    "list": Command("show functions, sources and plans", "sff.cli", "configure_list", "run_list"),
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
    from sff.scaffold import ScaffoldError, create_project

    target = Path(args.name)
    try:
        written = create_project(target)
    except (ScaffoldError, OSError) as exc:
        raise UsageError(str(exc)) from None
    for path in written:
        print(f"  created {path}")
    print(f"\nnext:\n  cd {target}\n  pip install -e '.[test]'\n  sff check\n  python -m pytest")
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


def run_check(args: argparse.Namespace) -> int:
    from sff.project import DuplicateNameError, ProjectError, load_project

    try:
        project = load_project()
    except DuplicateNameError as exc:
        print(f"FAIL  {exc}")
        return 1
    except ProjectError as exc:
        raise UsageError(str(exc)) from None
    for found in project.functions:
        sources, stages = len(found.function.sources), len(found.function.plan.stages())
        print(
            f"ok    {found.name:<{_width(project)}}  {project.relative(found.file)}  "
            f"({_count(sources, 'source')}, {_count(stages, 'stage')})"
        )
    for error in project.errors:
        print(f"FAIL  {where(project, error)}\n{_indent(describe_error(error.error), 6)}")
        if args.traceback:
            print(_indent(_traceback(error.error), 6))
    if not project.functions and not project.errors:
        print(f"no functions found in package {project.package!r}")
    return 1 if project.errors else 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _width(project: Project) -> int:
    return max((len(f.name) for f in project.functions), default=0)


def _indent(text: str, spaces: int) -> str:
    return "\n".join(" " * spaces + line for line in text.rstrip("\n").splitlines())


def _traceback(error: BaseException) -> str:
    import traceback

    return "".join(traceback.format_exception(error))


# -- sff list ----------------------------------------------------------------------------


def configure_list(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run_list(args: argparse.Namespace) -> int:
    project = load()
    if args.json:
        print(json.dumps([_as_json(project, f) for f in project.functions], indent=2))
    else:
        print("\n\n".join(_as_text(project, f) for f in project.functions) or "no functions")
    for error in project.errors:
        print(
            f"sff list: {where(project, error)} failed to import (run `sff check`)", file=sys.stderr
        )
    return 1 if project.errors else 0


def _as_text(project: Project, found: Found) -> str:
    fn = found.function
    lines = [
        f"{fn.name}  {fn.method} {fn.route}" + (f"  — {fn.description}" if fn.description else "")
    ]
    lines.append(f"  module    {found.module}:{found.attribute}  ({project.relative(found.file)})")
    lines.append(f"  input     {_model_signature(fn.input)}")
    lines.append(f"  contract  {fn.contract.__name__ if fn.contract else '(plain JSON)'}")
    lines.append(f"  timeout   {fn.timeout:g}s")
    lines.append("  sources")
    width = max((len(n) for n in fn.sources), default=0)
    for name in fn.plan.order:
        lines.append(f"    {name:<{width}}  {_source_text(fn, name, ' ' * (width + 6))}")
    lines.append(f"  stages    {_stages(fn.plan.stages())}")
    lines.append(f"  critical  {' → '.join(fn.plan.critical_path()) or '-'}")
    return "\n".join(lines)


def _as_json(project: Project, found: Found) -> dict[str, Any]:
    fn = found.function
    return {
        "name": fn.name,
        "route": fn.route,
        "method": fn.method,
        "description": fn.description,
        "module": found.module,
        "file": project.relative(found.file),
        "input": fn.input.__name__ if fn.input else None,
        "contract": fn.contract.__name__ if fn.contract else None,
        "timeout_s": fn.timeout,
        "sources": {n: _source_fields(fn, n) for n in fn.plan.order},
        "plan": fn.plan.describe(),
    }


def _model_signature(model: type[Any] | None) -> str:
    if model is None:
        return "(any JSON)"
    fields = []
    for name, info in model.model_fields.items():
        kind = _type_name(info.annotation)
        fields.append(f"{name}: {kind}" + ("" if info.is_required() else f" = {info.default!r}"))
    return f"{model.__name__}({', '.join(fields)})"


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("NoneType", "None")


def _source_fields(fn: Function, name: str) -> dict[str, Any]:
    from sff.spec import HttpSource

    source: Source = fn.sources[name]
    opts = source.options
    fields: dict[str, Any] = {"deps": sorted(fn.plan.nodes[name].deps)}
    if isinstance(source, HttpSource):
        fields.update(
            kind="http",
            backend=source.backend.name,
            method=source.method,
            path=source.path,
            query=dict(source.query),
        )
    else:
        target = source.target
        fields.update(
            kind="call",
            target=getattr(target, "name", None) or getattr(target, "__qualname__", repr(target)),
            args=dict(source.args),
        )
    fields.update(
        each=opts.each,
        when=opts.when,
        timeout_s=opts.timeout,
        fallback=[_fallback_text(f) for f in opts.fallback],
        required=opts.required,
    )
    return {k: v for k, v in fields.items() if v not in (None, {}, [])}


def _source_text(fn: Function, name: str, indent: str) -> str:
    """The call on the first line, then what shapes it, then when and how it runs."""
    f = _source_fields(fn, name)
    if f["kind"] == "http":
        lines = [f"{f['method']} {f['backend']} {f['path']}"]
        lines += [f"query {k} = {_template(v)}" for k, v in f.get("query", {}).items()]
    else:
        lines = [f"call {f['target']}({', '.join(f.get('args', {}))})"]
        lines += [f"arg   {k} = {_template(v)}" for k, v in f.get("args", {}).items()]
    lines += [f"{key:<5} {f[key]}" for key in ("each", "when") if key in f]
    runs = [f"after {', '.join(f['deps'])}"] if "deps" in f else []
    runs += [f"timeout {f['timeout_s']:g}s"] if "timeout_s" in f else []
    runs += [f"fallback {' → '.join(f['fallback'])}"] if "fallback" in f else ["required"]
    lines.append(" · ".join(runs))
    return f"\n{indent}".join(lines)


def _template(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _fallback_text(step: Fallback) -> str:
    if step.kind == "value":
        return f"value({json.dumps(step.data)})"
    if step.kind == "cache":
        return f"cache(max_stale={step.max_stale:g}s)"
    return "omit()"


def _stages(stages: list[list[str]]) -> str:
    return " → ".join(f"[{', '.join(stage)}]" for stage in stages) or "-"


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
        type=float,
        default=None,
        help="cap the invocation below the function's own timeout (seconds)",
    )
    parser.add_argument(
        "--traceback", action="store_true", help="show the traceback of an unexpected error"
    )


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
                render_waterfall(exc.meta, fn.plan, color=_color(err), status=exc.status), file=err
            )
        return 1
    except Exception as exc:  # a bug below us: say so in one line, never a traceback
        print(f"sff invoke: unexpected {type(exc).__name__}: {exc}", file=err)
        if show_traceback:
            print(_traceback(exc), file=err)
        return 1
    print(json.dumps(result.json(), indent=2, ensure_ascii=False), file=out)
    if meta:
        print(
            render_waterfall(result.meta, fn.plan, color=_color(err), status=result.status),
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


# -- the waterfall -----------------------------------------------------------------------

_EIGHTHS = " ▏▎▍▌▋▊▉█"
_COLORS = {"ok": "32", "degraded": "33", "failed": "31", "skipped": "2", "cancelled": "2"}


def _color(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


def render_waterfall(
    meta: Meta,
    plan: Plan | None = None,
    *,
    width: int = 36,
    color: bool = False,
    status: int | None = None,
) -> str:
    """One row per source: a bar from its start to its end offset, scaled to the whole
    invocation, then duration, HTTP status, attempts, outcome and `each` items."""
    total = max([meta.duration_ms, *(s.end_ms or 0 for s in meta.sources.values())]) or 1.0
    names = list(meta.sources) or ["-"]
    pad = max(len(n) for n in [*names, "critical"])
    paint = _painter(color)
    head = (
        f"{meta.function}"
        + (f"  {status}" if status else "")
        + f"  {meta.duration_ms:.1f} ms  request {meta.request_id}"
    )
    axis = f"0 ms{'':<{width - 4 - len(f'{total:.1f} ms')}}{total:.1f} ms"
    lines = [paint(head, "1"), f"  {'source':<{pad}}  {axis}  {'ms':>7}  status  tries  outcome"]
    for src in meta.sources.values():
        lines.append("  " + _row(src, pad, width, total, paint))
    lines += _notes(meta, pad, paint)
    if plan is not None:
        measured = {n: s.duration_ms or 0.0 for n, s in meta.sources.items()}
        path = plan.critical_path(measured) if meta.sources else []
        spent = sum(measured.get(n, 0.0) for n in path)
        lines.append(f"  {'stages':<{pad}}  {_stages(plan.stages())}")
        lines.append(
            f"  {'critical':<{pad}}  {' → '.join(path) or '-'}"
            + (f"  ({spent:.1f} of {meta.duration_ms:.1f} ms)" if path else "")
        )
    return "\n".join(lines)


def _row(
    src: SourceMeta, pad: int, width: int, total: float, paint: Callable[[str, str], str]
) -> str:
    code = _COLORS.get(src.outcome, "0")
    bar = paint(_bar(src.start_ms, src.end_ms, width, total, src.outcome == "skipped"), code)
    duration = f"{src.duration_ms:7.1f}" if src.duration_ms is not None else f"{'-':>7}"
    status = str(src.status) if src.status is not None else "-"
    why = [src.degraded] if src.degraded else [f"cache {src.cache}"] if src.cache else []
    why += [f"{src.stale_s:.0f}s old"] if src.stale_s is not None else []
    outcome = src.outcome + (f" ({', '.join(why)})" if why else "")
    if src.items is not None:
        outcome += f"  {_count(src.items, 'item')}"
    return (
        f"{src.name:<{pad}}  {bar}  {duration}  {status:>6}  {src.attempts:>5}  "
        f"{paint(outcome, code)}"
    )


def _bar(start: float | None, end: float | None, width: int, total: float, dot: bool) -> str:
    """Eighth-block bar: starts on a cell, ends to an eighth of a cell."""
    if start is None:
        return " " * width
    scale = width / total
    first = min(width - 1, int(start * scale))
    if dot or end is None:
        return " " * first + "·" + " " * (width - first - 1)
    eighths = max(1, round((min(end, total) * scale - first) * 8))
    full, part = divmod(min(eighths, (width - first) * 8), 8)
    cells = "█" * full + (_EIGHTHS[part] if part else "")
    return (" " * first + cells).ljust(width)


def _notes(meta: Meta, pad: int, paint: Callable[[str, str], str]) -> list[str]:
    """Why a source is degraded or failed, under the table."""
    return [
        paint(f"  {'!':>{pad}}  {src.name}: {src.error.splitlines()[0]}", _COLORS[src.outcome])
        for src in meta.sources.values()
        if src.error and src.outcome in ("degraded", "failed")
    ]


def _painter(color: bool) -> Callable[[str, str], str]:
    if not color:
        return lambda text, code: text
    return lambda text, code: f"\x1b[{code}m{text}\x1b[0m"


if __name__ == "__main__":  # `python -m sff.cli`: run the importable module, not this copy
    from sff.cli import main as _main

    sys.exit(_main())

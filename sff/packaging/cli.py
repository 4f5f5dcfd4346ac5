"""`sff package NAME|--all --target T [--arch A] [--python X.Y]`: discovery -> build_package."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sff.packaging._infra import TRIGGERS, Deploy, PackagedFunction
from sff.packaging._targets import TARGETS

if TYPE_CHECKING:
    from sff.function import Function
    from sff.project import Found, Project

DEFAULT_PYTHON = "3.12"  # the newest version every target accepts for new functions


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME", help="functions to package")
    parser.add_argument("--all", action="store_true", help="package every function")
    parser.add_argument("--target", required=True, choices=sorted(TARGETS))
    parser.add_argument("--arch", default="x86_64", choices=["x86_64", "arm64"])
    parser.add_argument(
        "--python", default=DEFAULT_PYTHON, help=f"target Python (default {DEFAULT_PYTHON})"
    )
    parser.add_argument("--memory", type=int, default=256, help="memory per function, MB")
    parser.add_argument("--out", default="dist", help="output folder (default dist/)")
    parser.add_argument("--region", default="cn-hangzhou", help="Function Compute region")
    parser.add_argument(
        "--trigger",
        default="http-api",
        choices=TRIGGERS,
        help="aws-lambda: HTTP API routes (default), a Function URL per function, or an ALB",
    )
    parser.add_argument(
        "--resident",
        action="store_true",
        help="resident instances: SFF_RESIDENT=1, and FC's initializer/preStop hooks",
    )


def run(args: argparse.Namespace) -> int:
    from sff.cli import UsageError, load
    from sff.packaging import PackagingError, UnshippedModule, build_package

    project = load()
    chosen = _choose(project, args.names, args.all)
    extra = declared_env(project.root)
    functions = [packaged(project, found, args.memory, extra) for found in chosen]
    deploy = Deploy(args.trigger, cors_origins(), args.resident)
    try:
        report = build_package(
            project.root, functions, target=args.target, arch=args.arch, python=args.python,
            out_dir=Path(args.out), progress=_progress, region=args.region, deploy=deploy,
        )  # fmt: skip
    except UnshippedModule as exc:  # the project is wrong, not the command line
        print(f"sff package: {exc}", file=sys.stderr)
        return 1
    except PackagingError as exc:
        raise UsageError(str(exc)) from None
    print(report.format())
    return 1 if report.over_limits else 0


def _progress(line: str) -> None:
    print(f"  … {line}", file=sys.stderr, flush=True)


def _choose(project: Project, names: list[str], every: bool) -> list[Found]:
    from sff.cli import UsageError

    if project.errors:
        first = project.errors[0]
        raise UsageError(f"{first.module} does not import ({first.error}); run `sff check`")
    if every == bool(names):
        raise UsageError("name the functions to package, or pass --all")
    if every:
        return list(project.functions)
    known = ", ".join(f.name for f in project.functions) or "(none)"
    chosen = []
    for name in names:
        found = project.get(name)
        if found is None:
            raise UsageError(f"no function {name!r}; known: {known}")
        chosen.append(found)
    return chosen


def cors_origins() -> tuple[str, ...]:
    """The origins sff answers CORS for, as the loaded functions see them:
    ``SFF_CORS_ORIGINS`` now, or ``sff.adapters.configure(cors_origins=...)`` in their code."""
    from sff.adapters import _settings

    return tuple(sorted(_settings.current().cors_origins))


def declared_env(root: Path) -> dict[str, str]:
    """``[tool.sff] env = ["MAIL_KEY", "REGION=eu-west-1"]``: further variables the
    functions read, each a deploy parameter (required unless ``=default`` is given)."""
    from sff.cli import UsageError
    from sff.project import read_settings

    entries = read_settings(root).get("env", [])
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise UsageError('[tool.sff] env must be a list of "NAME" or "NAME=default" strings')
    env: dict[str, str] = {}
    for entry in entries:
        name, _, default = entry.partition("=")
        if not name.isidentifier():
            raise UsageError(f"[tool.sff] env: {entry!r} is no variable name")
        env[name] = default
    return env


def packaged(
    project: Project, found: Found, memory_mb: int, extra: dict[str, str] | None = None
) -> PackagedFunction:
    fn = found.function
    return PackagedFunction(
        name=fn.name,
        handler=handler_string(found),
        env={**(extra or {}), **dict(_backend_env(fn))},
        timeout_s=fn.timeout,
        memory_mb=memory_mb,
        method=fn.method,
        route=fn.route,
    )


def handler_string(found: Found) -> str:
    """`module.attribute` of a module-level name bound to the function's handler: platforms
    import a module and take one attribute of it."""
    from sff.cli import UsageError

    module = importlib.import_module(found.module)
    for attribute, value in vars(module).items():
        if value == found.function.handler:
            return f"{found.module}.{attribute}"
    raise UsageError(
        f"{found.module}: function {found.function.name!r} has no module-level handler; "
        f"add `handler = {found.attribute}.handler` to {found.file or found.module}"
    )


def _backend_env(fn: Function, seen: set[int] | None = None) -> Iterator[tuple[str, str]]:
    """Every backend URL variable the function (and the functions it calls) reads."""
    from sff.function import Function
    from sff.spec import CallSource, HttpSource

    seen = set() if seen is None else seen
    if id(fn) in seen:
        return
    seen.add(id(fn))
    for node in fn.plan.nodes.values():
        source = node.source
        if isinstance(source, HttpSource) and source.backend.env:
            yield source.backend.env, source.backend.default or ""
        elif isinstance(source, CallSource) and isinstance(source.target, Function):
            yield from _backend_env(source.target, seen)

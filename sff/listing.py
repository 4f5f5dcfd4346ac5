"""`sff list`: every function with its route, input, contract, sources and inferred plan."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from sff.cli import load, where
from sff.waterfall import stages_text

if TYPE_CHECKING:
    from sff.function import Function
    from sff.project import Found, Project
    from sff.spec import Fallback, Source


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
    lines.append(f"  stages    {stages_text(fn.plan.stages())}")
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

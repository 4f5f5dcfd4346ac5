"""`sff list`: every function with its route, input, contract, sources and inferred plan."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sff.cli import load, where
from sff.typeinfo import name as name_of
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
    reads = sorted(meta_sources(fn, None))
    if reads:
        shown = [f"{n} (status, headers)" if n in fn.plan.exposed else n for n in reads]
        lines.append(f"  shape reads meta of  {', '.join(shown)}")
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
        "shape_meta_reads": sorted(meta_sources(fn, None)),
        "exposed_responses": sorted(fn.plan.exposed),
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
    """Every declared option of a source, for `sff list` and `sff list --json` alike."""
    from sff.spec import HttpSource

    source: Source = fn.sources[name]
    opts = source.options
    fields: dict[str, Any] = {"deps": sorted(fn.plan.nodes[name].deps)}
    if isinstance(source, HttpSource):
        backend = source.backend
        fields.update(
            kind="http",
            backend=backend.name,
            method=source.method,
            path=source.path,
            query=dict(source.query),
            headers=dict(source.headers),
            body=source.body,
            idempotency_key=source.idempotency_key,
            forward_headers=list(backend.forward_headers),
            vary_headers=list(backend.vary_headers),
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
        concurrency=opts.concurrency if opts.each else None,
        tolerate=opts.tolerate or None,
        item_fallback=[_fallback_text(f) for f in opts.item_fallback],
        when=opts.when,
        timeout_s=_timeout(source),
        retry=_retry(source),
        circuit=_circuit(source),
        fallback=[_fallback_text(f) for f in opts.fallback],
        required=opts.required,
        personal=opts.personal or None,
        identity=opts.identity,
        response=name_of(opts.response, inner=True) if opts.response is not None else None,
        propagate=sorted(opts.propagate),
        meta_reads=_meta_reads(fn, name),
    )
    return {k: v for k, v in fields.items() if v not in (None, {}, [])}


def _meta_reads(fn: Function, name: str) -> list[str]:
    """What of other sources' ``meta`` this source's expressions read (``meta.todos``),
    marked ``+response`` for a source whose headers it may read."""
    return [
        f"{dep}+response" if dep in fn.plan.exposed else dep
        for dep in sorted(meta_sources(fn, name))
    ]


def meta_sources(fn: Function, name: str | None) -> set[str]:
    """Sources read as ``meta.X`` by one source's expressions (``None``: the shape's)."""
    from sff.fields import meta_refs
    from sff.plan import node_parts, shown_exprs

    parts = [fn.shape.value] if name is None else node_parts(fn.plan.nodes[name])
    found: set[str] = set()
    for expr, _, _ in shown_exprs(parts):
        if "meta" in expr.names:
            found |= meta_refs(expr._ast) or set(fn.plan.order)
    return found


def _timeout(source: Source) -> float | None:
    """The per-attempt timeout that applies: the source's, else its backend's."""
    if source.options.timeout is not None:
        return source.options.timeout
    backend = getattr(source, "backend", None)
    return None if backend is None else backend.timeout_s


def _retry(source: Source) -> dict[str, Any] | None:
    retry = source.options.retry or getattr(getattr(source, "backend", None), "retry", None)
    if retry is None:
        return None
    return {
        "retries": retry.retries if getattr(source, "idempotent", True) else 0,
        "backoff_s": retry.backoff,
        "max_backoff_s": retry.max_backoff,
        "statuses": sorted(retry.statuses),
        "from": "source" if source.options.retry else "backend",
    }


def _circuit(source: Source) -> dict[str, Any] | None:
    circuit = getattr(getattr(source, "backend", None), "circuit", None)
    if circuit is None:
        return None
    return {
        "failures": circuit.failures,
        "window_s": circuit.window,
        "cooldown_s": circuit.cooldown,
    }


def _source_text(fn: Function, name: str, indent: str) -> str:
    """The call on the first line, then what shapes it, then when and how it runs."""
    f = _source_fields(fn, name)
    if f["kind"] == "http":
        lines = [f"{f['method']} {f['backend']} {f['path']}"]
        lines += [f"query {k} = {_template(v)}" for k, v in f.get("query", {}).items()]
        lines += [f"header {k} = {_template(v)}" for k, v in f.get("headers", {}).items()]
        lines += [f"body  {_template(f['body'])}"] if "body" in f else []
        lines += [f"idempotency_key {f['idempotency_key']}"] if "idempotency_key" in f else []
        lines += [f"forwards {', '.join(f['forward_headers'])}"] if "forward_headers" in f else []
        lines += [f"varies by {', '.join(f['vary_headers'])}"] if "vary_headers" in f else []
    else:
        lines = [f"call {f['target']}({', '.join(f.get('args', {}))})"]
        lines += [f"arg   {k} = {_template(v)}" for k, v in f.get("args", {}).items()]
    lines += [f"{key:<5} {f[key]}" for key in ("each", "when") if key in f]
    lines += _each_text(f)
    lines += [f"identity {f['identity']}"] if "identity" in f else []
    lines += ["personal"] if f.get("personal") else []
    lines += [f"response {f['response']}"] if "response" in f else []
    lines += [f"reads meta of {', '.join(f['meta_reads'])}"] if "meta_reads" in f else []
    if "propagate" in f:
        lines.append(f"propagates {', '.join(map(str, f['propagate']))} as the answer's status")
    lines.append(" · ".join(_runs_text(f)))
    return f"\n{indent}".join(lines)


def _each_text(f: Mapping[str, Any]) -> list[str]:
    if "each" not in f:
        return []
    parts = [f"concurrency {f['concurrency']}"]
    parts += [f"tolerate {f['tolerate']:g}"] if "tolerate" in f else []
    parts += [f"item fallback {' → '.join(f['item_fallback'])}"] if "item_fallback" in f else []
    return [" · ".join(parts)]


def _runs_text(f: Mapping[str, Any]) -> list[str]:
    runs = [f"after {', '.join(f['deps'])}"] if "deps" in f else []
    runs += [f"timeout {f['timeout_s']:g}s"] if "timeout_s" in f else []
    retry = f.get("retry")
    if retry is not None:
        runs.append(
            f"retries {retry['retries']}" + (" (not idempotent)" if not retry["retries"] else "")
        )
    if "circuit" in f:
        c = f["circuit"]
        runs.append(f"circuit {c['failures']} in {c['window_s']:g}s, cooldown {c['cooldown_s']:g}s")
    runs += [f"fallback {' → '.join(f['fallback'])}"] if "fallback" in f else ["required"]
    return runs


def _template(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _fallback_text(step: Fallback) -> str:
    if step.kind == "value":
        return f"value({json.dumps(step.data)})"
    if step.kind == "cache":
        fresh = f", fresh={step.fresh:g}s" if step.fresh is not None else ""
        fresh = ', fresh="backend"' if step.backend_fresh else fresh
        return f"cache(max_stale={step.max_stale:g}s{fresh})"
    return "omit()"

"""Sources -> dependency graph. Compiled once, when a Function is declared.

A source depends on the sources whose names its expressions start from. Unknown names,
cycles and `item` outside `each` are rejected here, so `sff check` finds them before deploy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

from sff._record import record
from sff.errors import PlanError
from sff.expr import ROOT_READS, Expr, Template, Value, Where, compile_expr, compile_template
from sff.expr import compile_value as _value
from sff.spec import CallSource, HttpSource, Source

RESERVED = frozenset({"input", "item", "meta"})
"""Context names no source may take: the input, the current `each` item, source outcomes."""


@record(frozen=True)
class Request:
    """An HTTP source's compiled request: path template, query, headers, body."""

    path: Template
    query: Value
    headers: Value
    body: Value | None
    idempotency_key: Expr | None = None


@record(frozen=True)
class Node:
    name: str
    source: Source
    deps: frozenset[str]
    each: Expr | None
    when: Expr | None
    request: Request | None
    args: Value | None
    identity: Expr | None


@record(frozen=True)
class Plan:
    function: str
    nodes: Mapping[str, Node]
    order: tuple[str, ...]
    exposed: frozenset[str] = frozenset()
    """Sources whose response (headers, per-item status) an expression reads as
    ``meta.<source>``: only these build the mapping (`sff.http.exposed`)."""

    def dependents(self, name: str) -> list[str]:
        return [n for n in self.order if name in self.nodes[n].deps]

    def stages(self) -> list[list[str]]:
        """Sources grouped by depth: all of one stage can run together. (The executor does
        not wait for a stage; each source starts as soon as its own dependencies are done.)"""
        depth: dict[str, int] = {}
        for name in self.order:
            depth[name] = 1 + max((depth[d] for d in self.nodes[name].deps), default=-1)
        stages: list[list[str]] = [[] for _ in range(1 + max(depth.values(), default=-1))]
        for name in self.order:
            stages[depth[name]].append(name)
        return stages

    def critical_path(self, durations: Mapping[str, float] | None = None) -> list[str]:
        """The chain of sources that bounds the invocation: the longest by the given
        durations (e.g. measured ones from a Result's meta), by count without them."""
        cost: dict[str, tuple[float, list[str]]] = {}
        for name in self.order:
            own = (durations or {}).get(name, 1.0)
            best = max((cost[d] for d in self.nodes[name].deps), default=(0.0, []))
            cost[name] = (best[0] + own, [*best[1], name])
        return max(cost.values(), default=(0.0, []))[1]

    def describe(self) -> dict[str, Any]:
        """Edges, stages and critical path; computed once, since every invocation's meta
        carries it (treat the dict as read-only)."""
        return self._description

    @cached_property
    def _description(self) -> dict[str, Any]:
        return {
            "sources": {n: sorted(self.nodes[n].deps) for n in self.order},
            "stages": self.stages(),
            "critical_path": self.critical_path(),
        }


def build_plan(function: str, sources: Mapping[str, Source]) -> Plan:
    nodes = {
        name: _compile_node(function, name, src, set(sources)) for name, src in sources.items()
    }
    return Plan(function, nodes, _topological(function, nodes))


def _compile_node(function: str, name: str, source: Source, known: set[str]) -> Node:
    if not name.isidentifier() or name in RESERVED:
        raise PlanError(
            f"function {function!r}: {name!r} cannot name a source "
            "(use an identifier other than 'input', 'item' and 'meta')"
        )
    opts = source.options

    def at(place: str) -> Where:
        return Where(function, f"source {name!r} {place}")

    each = compile_expr(opts.each, at("each")) if opts.each else None
    when = compile_expr(opts.when, at("when")) if opts.when else None
    identity = compile_expr(opts.identity, at("identity")) if opts.identity else None
    request = _compile_request(source, at) if isinstance(source, HttpSource) else None
    args = _value(source.args, at("args")) if isinstance(source, CallSource) else None
    parts: list[Any] = [each, when, args]
    if request:
        parts += [request.path, request.query, request.headers, request.body]
        parts.append(request.idempotency_key)
    names = frozenset().union(*(p.names for p in parts if p is not None))
    _check_names(
        function,
        f"source {name!r}",
        names,
        known,
        allow_item=each is not None,
        exprs=shown_exprs(parts),
    )
    if when is not None and "item" in when.names:
        raise PlanError(
            f"function {function!r}, source {name!r}: `when` is checked once, "
            "before `each`; filter items inside the `each` expression instead"
        )
    if each is not None and "item" in each.names:
        raise PlanError(f"function {function!r}, source {name!r}: `each` cannot use `item`")
    if opts.propagate:
        _check_propagate(function, name, source)
    if opts.batch is not None or opts.paginate is not None:
        _check_paging(function, name, source, request)
    outcomes = _meta_deps(function, f"source {name!r}", parts, known, whole=False)
    deps = frozenset(names - RESERVED) | outcomes
    return Node(name, source, deps, each, when, request, args, identity)


def _check_propagate(function: str, name: str, source: Source) -> None:
    """``propagate=`` makes a status the answer: only a required single call can."""
    opts, place = source.options, f"source {name!r}"
    shown = ", ".join(map(str, sorted(opts.propagate)))
    if opts.fallback:
        raise PlanError(
            f"function {function!r}, {place}: propagate=({shown}) on a source with a "
            "fallback, which would stand in for that answer; a propagated status needs a "
            "required source (drop the fallback, or propagate=)",
            function=function,
            where=place,
        )
    if opts.each is not None:
        raise PlanError(
            f"function {function!r}, {place}: propagate= on an `each` source: one item's "
            "status cannot be the answer's (use tolerate= or item_fallback= for items)",
            function=function,
            where=place,
        )


def _check_paging(function: str, name: str, source: Source, request: Request | None) -> None:
    """`batch=` and `paginate=`: their own rules (`sff.batch`, `sff.paginate`), imported
    only for a source that declares one (a cold start loads neither otherwise)."""
    if source.options.batch is not None:
        from sff import batch

        if not isinstance(source.options.batch, batch.Batch):
            raise PlanError(f"function {function!r}, source {name!r}: batch= takes Batch(...)")
        batch.check(function, name, source, request)
    if source.options.paginate is not None:
        from sff import paginate

        paginate.check(function, name, source, isinstance(source, HttpSource))


def _meta_deps(
    function: str, place: str, parts: list[Any], known: set[str], *, whole: bool
) -> frozenset[str]:
    """Sources read as ``meta.X``: X must be a source, and the reader waits for it."""
    from sff.fields import meta_refs

    found: set[str] = set()
    for expr in _parts_exprs(parts):
        if "meta" not in expr.names:
            continue
        refs = meta_refs(expr._ast)
        if refs is None and not whole:
            raise PlanError(
                f"function {function!r}, {place}: `meta` is read as a whole, which would "
                "wait for every source; name the source: meta.<source>.degraded",
                function=function,
                where=place,
            )
        found |= refs or set()
    unknown = sorted(found - known)
    if unknown:
        raise PlanError(
            f"function {function!r}, {place}: `meta.{unknown[0]}` names no source; "
            f"known: {', '.join(sorted(known)) or '(no sources)'}",
            function=function,
            where=place,
            name=unknown[0],
        )
    return frozenset(found)


def node_parts(node: Node) -> list[Any]:
    """Every compiled expression holder of a node (for walks over what it reads)."""
    parts: list[Any] = [node.each, node.when, node.args]
    request = node.request
    if request is not None:
        parts += [request.path, request.query, request.headers, request.body]
        parts.append(request.idempotency_key)
    return parts


def _parts_exprs(parts: list[Any]) -> list[Expr]:
    return [expr for expr, _, _ in shown_exprs(parts)]


def shown_exprs(parts: list[Any]) -> list[tuple[Expr, str, int]]:
    """Every expression of the parts, with the text it is shown in and its offset there
    (a path placeholder is shown inside its template)."""
    found: list[tuple[Expr, str, int]] = []
    for part in parts:
        if isinstance(part, Expr):
            found.append((part, part.text, 0))
        elif isinstance(part, Template):
            offset = 0
            for piece in part.parts:
                if isinstance(piece, str):
                    offset += len(piece)
                else:
                    found.append((piece, part.text, offset + 1))
                    offset += len(piece.text) + 2
        elif isinstance(part, Value):
            found.extend((e, e.text, 0) for e in _tree_exprs(part.tree))
    return found


def _tree_exprs(tree: Any) -> list[Expr]:
    if isinstance(tree, Expr):
        return [tree]
    children = tree.values() if isinstance(tree, dict) else tree if isinstance(tree, list) else ()
    return [e for c in children for e in _tree_exprs(c)]


def _compile_request(source: HttpSource, at: Callable[[str], Where]) -> Request:
    body = None if source.body is None else _value(source.body, at("body"))
    key = source.idempotency_key
    return Request(
        compile_template(source.path, at("path")),
        _value(dict(source.query), at("query")),
        _value(dict(source.headers), at("headers")),
        body,
        None if key is None else compile_expr(key, at("idempotency_key")),
    )


def check_names(
    function: str, place: str, names: frozenset[str], known: set[str], value: Value | None = None
) -> None:
    """Names an expression starts from must be `input`, `meta` or a source. ``place`` is
    shown as is (e.g. ``shape``); the shape may read `meta` whole, as it runs last."""
    exprs = shown_exprs([value]) if value is not None else []
    _check_names(function, place, names, known, allow_item=False, exprs=exprs)
    if value is not None:
        _meta_deps(function, place, [value], known, whole=True)


def _check_names(
    function: str,
    place: str,
    names: frozenset[str],
    known: set[str],
    *,
    allow_item: bool,
    exprs: list[tuple[Expr, str, int]] | None = None,
) -> None:
    whole = sorted(names & ROOT_READS.keys())
    if whole:
        raise PlanError(
            f"function {function!r}, {place}: {ROOT_READS[whole[0]]}; "
            f"name the sources you need instead: {', '.join(['input', *sorted(known)])}",
            function=function,
            where=place,
        )
    if "item" in names and not allow_item:
        raise PlanError(
            f"function {function!r}, {place}: `item` exists only in a source with `each`"
        )
    unknown = sorted(names - known - RESERVED)
    if unknown:
        from sff.fields import unknown_name

        where, shown = unknown_name(unknown[0], sorted(known), exprs or [])
        raise PlanError(
            f"function {function!r}, {where or place}: unknown name {unknown[0]!r}; "
            f"known: input, {', '.join(sorted(known)) or '(no sources)'}{shown}",
            function=function,
            where=where or place,
            name=unknown[0],
        )


def _topological(function: str, nodes: Mapping[str, Node]) -> tuple[str, ...]:
    order: list[str] = []
    state: dict[str, str] = {}  # "visiting" | "done"

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = [*trail[trail.index(name) :], name]
            raise PlanError(
                f"function {function!r}: sources depend on each other in a cycle: "
                f"{' -> '.join(cycle)}",
                function=function,
                cycle=cycle,
            )
        state[name] = "visiting"
        for dep in sorted(nodes[name].deps):
            visit(dep, [*trail, name])
        state[name] = "done"
        order.append(name)

    for name in nodes:
        visit(name, [])
    return tuple(order)

"""Sources -> dependency graph. Compiled once, when a Function is declared.

A source depends on the sources whose names its expressions start from. Unknown names,
cycles and `item` outside `each` are rejected here, so `sff check` finds them before deploy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sff.errors import PlanError
from sff.expr import ROOT_READS, Expr, Template, Value, Where, compile_expr, compile_template
from sff.expr import compile_value as _value
from sff.spec import CallSource, HttpSource, Source

RESERVED = frozenset({"input", "item"})


@dataclass(frozen=True)
class Request:
    """An HTTP source's compiled request: path template, query, headers, body."""

    path: Template
    query: Value
    headers: Value
    body: Value | None
    idempotency_key: Expr | None = None


@dataclass(frozen=True)
class Node:
    name: str
    source: Source
    deps: frozenset[str]
    each: Expr | None
    when: Expr | None
    request: Request | None
    args: Value | None
    identity: Expr | None


@dataclass(frozen=True)
class Plan:
    function: str
    nodes: Mapping[str, Node]
    order: tuple[str, ...]

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
            "(use an identifier other than 'input' and 'item')"
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
    _check_names(function, f"source {name!r}", names, known, allow_item=each is not None)
    if when is not None and "item" in when.names:
        raise PlanError(
            f"function {function!r}, source {name!r}: `when` is checked once, "
            "before `each`; filter items inside the `each` expression instead"
        )
    if each is not None and "item" in each.names:
        raise PlanError(f"function {function!r}, source {name!r}: `each` cannot use `item`")
    deps = frozenset(names - RESERVED)
    return Node(name, source, deps, each, when, request, args, identity)


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


def check_names(function: str, place: str, names: frozenset[str], known: set[str]) -> None:
    """Names an expression starts from must be `input` or a source. ``place`` is shown
    as is (e.g. ``shape``)."""
    _check_names(function, place, names, known, allow_item=False)


def _check_names(
    function: str, place: str, names: frozenset[str], known: set[str], *, allow_item: bool
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
        raise PlanError(
            f"function {function!r}, {place}: unknown name {unknown[0]!r}; "
            f"known: input, {', '.join(sorted(known)) or '(no sources)'}",
            function=function,
            where=place,
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

"""Field paths checked against the models sff knows, when a function is declared.

Every expression of a function (path placeholders, query/header/body/args templates,
`each`, `when`, `identity`, the shape) is walked over its JMESPath AST with the types
known for its context: the input model for ``input``, a source's ``response=`` model (or
a called Function's contract) for its JSON, the element type of `each` for ``item``, and
the fixed keys of ``meta``. A field a model does not have is an error with a caret under
the name and a "did you mean"; a type sff cannot read (no ``response=``) claims nothing.
The shape's result is then held against the contract: unknown keys, missing required
fields, and an array, object or scalar where the contract wants another kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sff import typeinfo as ti
from sff.errors import ExpressionError
from sff.expr import Expr, Template, Value
from sff.infer import Infer, Miss, Path, did_you_mean
from sff.typeinfo import UNKNOWN, Rec

if TYPE_CHECKING:
    from sff.function import Function
    from sff.plan import Node

META_KEYS: dict[str, Any] = {
    "outcome": str,
    "degraded": bool,
    "reason": str | None,
    "stale_s": float | None,
    "status": int | None,
}
"""What ``meta.<source>`` holds for every source; an HTTP source adds its response's
``headers`` (an `each` source: ``items``, each item's ``status`` and ``headers``)."""
RESPONSE_KEYS = frozenset({"headers", "items"})
HEADERS = ti.HeaderMap("the response headers (lower-case names)")


def meta_type(node: Node) -> Rec:
    """The type of ``meta.<source>`` for this source."""
    from sff.spec import HttpSource

    keys = dict(META_KEYS)
    if isinstance(node.source, HttpSource) and node.each is None:
        keys["headers"] = HEADERS
    elif isinstance(node.source, HttpSource):
        one = Rec(f"an item of meta.{node.name}.items", {"status": int | None, "headers": HEADERS})
        keys["items"] = list[one]  # type: ignore[valid-type]
    return Rec(f"meta.{node.name}", keys)


def exposed_sources(fn: Function) -> frozenset[str]:
    """The HTTP sources whose response some expression of ``fn`` reads (`Plan.exposed`)."""
    from sff.plan import node_parts, shown_exprs
    from sff.spec import HttpSource

    plan = fn.plan
    http = {n for n, node in plan.nodes.items() if isinstance(node.source, HttpSource)}
    parts: list[Any] = [fn.shape.value]
    for node in plan.nodes.values():
        parts += node_parts(node)
    found: set[str] = set()
    for expr, _, _ in shown_exprs(parts):
        if "meta" not in expr.names:
            continue
        reads = meta_reads(expr._ast)
        if reads is None:  # the shape reads `meta` whole
            return frozenset(http)
        found |= {name for name, response in reads.items() if response}
    return frozenset(found & http)


def check_function(fn: Function) -> None:
    """Raise the first field-path mistake of ``fn`` as a declaration error."""
    checker = Checker(fn)
    for node in fn.plan.nodes.values():
        checker.source(node)
    checker.shape()


def meta_refs(ast: Any) -> set[str] | None:
    """The sources whose outcome an expression reads as ``meta.X``; None when it reads
    ``meta`` as a whole (which would depend on every source)."""
    reads = meta_reads(ast)
    return None if reads is None else set(reads)


def meta_reads(ast: Any) -> dict[str, bool] | None:
    """``meta.X`` read by an expression: X -> whether its response (``headers``,
    ``items``, or ``meta.X`` as a whole) is read; None when ``meta`` itself is."""
    found: dict[str, bool] = {}
    for node in _root_nodes(ast):
        kind = node["type"]
        if kind == "field" and node["value"] == "meta":
            return None
        if kind in ("subexpression", "index_expression") and _is_meta(node["children"][0]):
            second = node["children"][1]
            if second["type"] != "field":
                return None
            rest = node["children"][2:]
            key = _leftmost_field(rest[0]) if rest else None
            response = key is None or key in RESPONSE_KEYS
            found[second["value"]] = found.get(second["value"], False) or response
    return found


def _leftmost_field(node: Any) -> str | None:
    """The first key a chain reads (``headers`` of ``headers."x"``, ``items`` of
    ``items[*].status``); None when it does not start with one."""
    while isinstance(node, dict):
        if node["type"] == "field":
            return str(node["value"])
        if node["type"] not in ("subexpression", "index_expression", "projection", "flatten"):
            return None
        node = node["children"][0]
    return None


def _is_meta(node: Any) -> bool:
    return isinstance(node, dict) and node["type"] == "field" and node["value"] == "meta"


_LEFT_ONLY = {"projection", "value_projection", "filter_projection", "pipe"}


def _root_nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Nodes evaluated against the root context: where ``meta.X`` can start."""
    if not isinstance(node, dict) or node["type"] in ("literal", "expref"):
        return
    kind = node["type"]
    if kind in ("subexpression", "index_expression") and _is_meta(node["children"][0]):
        yield node
        return
    yield node
    children = node.get("children", [])
    if kind in _LEFT_ONLY or kind in ("subexpression", "index_expression"):
        children = children[:1]
    for child in children:
        yield from _root_nodes(child)


def unknown_name(
    name: str, known: list[str], exprs: list[tuple[Expr, str, int]]
) -> tuple[str | None, str]:
    """For an unknown root name: the place of the expression using it, and a did-you-mean
    with the expression (as shown: a placeholder inside its template) and a caret."""
    from sff.errors import pointed
    from sff.positions import root_column

    for expr, shown, offset in exprs:
        if name in expr.names:
            hint = did_you_mean(name, ["input", *known]).split(" (fields:")[0]
            at = root_column(expr.text, name)
            return (
                expr.where.place,
                f"{hint}\n{pointed(shown, None if at is None else offset + at)}",
            )
    return None, ""


class Checker:
    """Types of one function's context, and the walk of its expressions."""

    def __init__(self, fn: Function) -> None:
        self.fn = fn
        self.input: Any = fn.input if fn.input is not None else UNKNOWN
        self.sources = {name: source_type(node) for name, node in fn.plan.nodes.items()}
        entries = {n: meta_type(node) for n, node in fn.plan.nodes.items()}
        self.meta = Rec("meta (the sources' outcomes)", entries)

        self.root = Rec("the context", {"input": self.input, **self.sources, "meta": self.meta})

    def scope(self, item: Any = None) -> Rec:
        if item is None:
            return self.root
        return Rec("the context", {**self.root.fields, "item": item})

    def source(self, node: Node) -> None:
        scope = self.scope()
        item = None
        if node.each is not None:
            item = ti.element(self.expr(node.each, scope))
        scope = self.scope(item if item is not None else None)
        if node.when is not None:
            self.expr(node.when, scope)
        if node.identity is not None:
            known = {"input": self.input, "headers": dict[str, str]}
            self.expr(node.identity, Rec("identity's context {input, headers}", known))
        if node.args is not None:
            self.value(node.args, scope)
        request = node.request
        if request is None:
            return
        self.template(request.path, scope)
        for value in (request.query, request.headers, request.body):
            if value is not None:
                self.value(value, scope)
        if request.idempotency_key is not None:
            self.expr(request.idempotency_key, scope)

    def shape(self) -> None:
        shape = self.fn.shape
        if shape.value is None:
            return
        from sff.fit import Fit

        fit = Fit(self, self.fn.contract.__name__ if self.fn.contract else "")
        fit.tree(shape.value.tree, self.fn.contract or UNKNOWN, "shape")

    # -- walking expressions ------------------------------------------------------------

    def expr(self, expr: Expr, scope: Any, *, shown: str | None = None, offset: int = 0) -> Any:
        try:
            return Infer().node(expr._ast, scope, ())
        except Miss as miss:
            raise located(expr, miss.path, miss.reason, shown, offset) from None

    def template(self, template: Template, scope: Any) -> None:
        offset = 0
        for part in template.parts:
            if isinstance(part, str):
                offset += len(part)
                continue
            self.expr(part, scope, shown=template.text, offset=offset + 1)
            offset += len(part.text) + 2

    def value(self, value: Value, scope: Any) -> None:
        for expr in _exprs(value.tree):
            self.expr(expr, scope)


def source_type(node: Node) -> Any:
    """What a source's JSON is known to be: ``response=``, a called Function's contract,
    else unknown; a list of that with `each`."""
    from sff.function import Function

    declared = node.source.options.response
    target = getattr(node.source, "target", None)
    if declared is None and isinstance(target, Function) and target.contract is not None:
        declared = target.contract
    one = UNKNOWN if declared is None else declared
    return list[one] if node.each is not None else one  # type: ignore[valid-type]


def _exprs(tree: Any) -> Iterator[Expr]:
    if isinstance(tree, Expr):
        yield tree
    elif isinstance(tree, dict):
        for child in tree.values():
            yield from _exprs(child)
    elif isinstance(tree, list):
        for child in tree:
            yield from _exprs(child)


def located(
    expr: Expr, path: Path, reason: str, shown: str | None = None, offset: int = 0
) -> ExpressionError:
    from sff.positions import column

    at = column(expr.text, path)
    return ExpressionError(
        reason,
        function=expr.where.function,
        where=expr.where.place,
        expression=expr.text if shown is None else shown,
        column=None if at is None else offset + at,
    )

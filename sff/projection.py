"""Which parts of each source's JSON any expression of a function can read (projection pushdown).

Walked backwards over every JMESPath AST of a function: from what is observed of an
expression's result (``ALL``, or only some fields) to what is observed of the value it is
evaluated on. A `Pick` keeps, of an object, only the named keys (each kept as its own
demand says) and, with ``every``, all other keys too; of an array, every element, each
picked the same way; a scalar is always kept whole. Pruning by a `Pick` never changes a
value's type nor an array's length, so whatever an expression does not read by name
(its truth, its length, a function's type checks) comes out as over the full document.

Anything that observes a value as a whole (a comparison, most function arguments, the
shape's result) demands ``ALL``; anything this walk does not know also does, so an
unknown construct costs speed, never correctness. The result, per source, is what
`sff.http.projected` decodes a body into; ``ALL`` (or no result at all) is a full parse.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from sff.expr import Expr
    from sff.function import Function


class _All:
    """The whole value."""

    def __repr__(self) -> str:
        return "ALL"


ALL: Final = _All()


class Pick:
    """Of an object only ``fields`` (each as its demand says) and, with ``every``, all the
    other keys as ``every`` says; of an array every element, as ``items`` says (None:
    nothing inside them is read); a scalar whole. Immutable, hashable: decoders are kept
    per distinct demand. (A plain class: a dataclass costs the handler's import time.)"""

    __slots__ = ("every", "fields", "items")

    def __init__(
        self,
        fields: Mapping[str, Demand] | None = None,
        every: Demand | None = None,
        items: Demand | None = None,
    ) -> None:
        self.fields: Mapping[str, Demand] = fields or {}
        self.every, self.items = every, items

    def _key(self) -> tuple[Any, ...]:
        return (tuple(sorted(self.fields.items(), key=_first)), self.every, self.items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pick) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Pick({dict(self.fields)!r}, every={self.every!r}, items={self.items!r})"


def _first(pair: tuple[str, Any]) -> str:
    return pair[0]


Demand = _All | Pick
EMPTY: Final = Pick()  # the value's type, an array's length: nothing inside
TRUTH: Final = Pick(every=EMPTY, items=EMPTY)  # whether it is empty: its keys or elements


def join(a: Demand | None, b: Demand | None) -> Demand | None:
    """What is read by either."""
    if a is None:
        return b
    if b is None or a is b:
        return a
    if a is ALL or b is ALL:
        return ALL
    assert isinstance(a, Pick) and isinstance(b, Pick)
    fields = dict(a.fields)
    for name, more in b.fields.items():
        fields[name] = _j(fields.get(name), more)
    return Pick(fields, join(a.every, b.every), join(a.items, b.items))


def _j(a: Demand | None, b: Demand | None) -> Demand:
    return join(a, b) or EMPTY


def _items(out: Demand) -> Demand:
    """What is read of each element of an array read by ``out``."""
    return out.items or EMPTY if isinstance(out, Pick) else ALL


def _key_out(out: Demand, key: str) -> Demand:
    """What is read of one key of an object read by ``out``."""
    return _j(out.fields.get(key), out.every) if isinstance(out, Pick) else ALL


# -- one expression -----------------------------------------------------------------------


def need(node: dict[str, Any], out: Demand) -> Demand | None:
    """What ``node`` reads of the value it is evaluated on, when ``out`` of its result is
    read; None when it reads nothing of it (a literal)."""
    kind = node["type"]
    kids = node.get("children", [])
    if kind == "field":
        return Pick({node["value"]: out})
    if kind in ("identity", "current"):
        return out
    if kind == "literal":
        return None
    if kind == "index":
        return Pick(items=out)
    if kind == "slice":
        return Pick(items=_items(out))
    if kind in ("subexpression", "index_expression", "pipe"):
        demand: Demand = out
        for child in reversed(kids):
            demand = need(child, demand) or EMPTY
        return demand
    if kind == "flatten":
        each = _items(out)
        return need(kids[0], Pick(items=_j(each, Pick(items=each))))
    if kind == "projection":
        return need(kids[0], Pick(items=need(kids[1], _items(out)) or EMPTY))
    if kind == "value_projection":
        return need(kids[0], Pick(every=need(kids[1], _items(out)) or EMPTY))
    if kind == "filter_projection":
        each = _j(need(kids[1], _items(out)), need(kids[2], TRUTH))
        return need(kids[0], Pick(items=each))
    if kind in ("or_expression", "and_expression"):
        return join(need(kids[0], _j(out, TRUTH)), need(kids[1], out))
    if kind == "not_expression":
        return need(kids[0], TRUTH)
    if kind == "multi_select_list":
        return _any(need(child, _items(out)) for child in kids)
    if kind == "multi_select_dict":
        return _any(need(kv["children"][0], _key_out(out, kv["value"])) for kv in kids)
    if kind == "function_expression":
        return _function(node, out)
    if kind == "comparator":
        return _any(need(child, ALL) for child in kids)
    return ALL  # a node this walk does not know reads everything


def _any(demands: Iterator[Demand | None]) -> Demand | None:
    found: Demand | None = None
    for one in demands:
        found = join(found, one)
    return found


_PASS = {"default", "coalesce", "not_null", "reverse"}  # the result is one of the arguments


def _function(node: dict[str, Any], out: Demand) -> Demand | None:
    name, args = node["value"], node["children"]
    refs = [a["children"][0] if a["type"] == "expref" else None for a in args]
    if name in _PASS:
        return _any(need(arg, out) for arg in args)
    if name in ("length", "keys") and len(args) == 1:
        return need(args[0], TRUTH)  # keys of an object, elements of an array, all of a string
    if name == "type" and len(args) == 1:
        return need(args[0], EMPTY)
    if name == "values" and len(args) == 1:
        return need(args[0], Pick(every=_items(out)))
    if name in ("sort_by", "max_by", "min_by") and len(args) == 2 and refs[1] is not None:
        key = need(refs[1], ALL) or EMPTY  # the keys are compared whole
        each = _items(out) if name == "sort_by" else out
        return need(args[0], Pick(items=_j(each, key)))
    if name == "map" and len(args) == 2 and refs[0] is not None:
        return need(args[1], Pick(items=need(refs[0], _items(out)) or EMPTY))
    # anything else reads its arguments whole (an `&expr` runs on another argument's elements,
    # read whole here too)
    return _any(need(ref or arg, ALL) for arg, ref in zip(args, refs, strict=True))


# -- one function -------------------------------------------------------------------------


_known: weakref.WeakKeyDictionary[Function, dict[str, Demand]] = weakref.WeakKeyDictionary()


def reads_of(fn: Function) -> dict[str, Demand]:
    """`reads`, worked out once per function."""
    found = _known.get(fn)
    if found is None:
        found = _known[fn] = reads(fn)
    return found


def reads(fn: Function) -> dict[str, Demand]:
    """Per source of ``fn``, what any of its expressions can read of the source's JSON
    (for an `each` source: of one item's JSON); ``ALL`` where that is everything."""
    root: Demand | None = _root_reads(fn)
    found: dict[str, Demand] = {}
    for name in fn.plan.nodes:
        if not isinstance(root, Pick):
            found[name] = ALL
            continue
        whole = _key_out(root, name)
        found[name] = _items(whole) if fn.plan.nodes[name].each is not None else whole
    return _per_backend(fn, found)


def _per_backend(fn: Function, found: dict[str, Demand]) -> dict[str, Demand]:
    """Joined over the GET sources of each backend: an identical GET is sent once per
    invocation and its answer serves every source that asked for it, so it is decoded for
    all of them."""
    joined: dict[Any, Demand] = {}
    gets = {}
    for name, node in fn.plan.nodes.items():
        backend = getattr(node.source, "backend", None)
        if backend is not None and getattr(node.source, "method", "") in ("GET", "HEAD"):
            gets[name] = backend
            joined[backend] = _j(joined.get(backend), found[name])
    return {name: joined[gets[name]] if name in gets else d for name, d in found.items()}


def _root_reads(fn: Function) -> Demand | None:
    shape = fn.shape.value
    if shape is None:
        return ALL  # the answer is every source as it came
    demand = _value(shape, ALL)
    for node in fn.plan.nodes.values():
        own: Demand | None = None  # what this source's own expressions read (`item` too)
        for expr in _node_exprs(node):
            own = join(own, need(expr._ast, ALL))
        if node.when is not None:
            own = join(own, need(node.when._ast, TRUTH))
        if node.each is not None:
            item = own.fields.get("item") if isinstance(own, Pick) else ALL
            own = join(own, need(node.each._ast, Pick(items=item or EMPTY)))
        if isinstance(own, Pick) and "item" in own.fields:
            own = Pick({k: v for k, v in own.fields.items() if k != "item"}, own.every)
        demand = join(demand, own)
    return demand


def _value(value: Any, out: Demand) -> Demand | None:
    return _any(need(expr._ast, out) for expr in _tree_exprs(value.tree))


def _node_exprs(node: Any) -> Iterator[Expr]:
    """The expressions of a source evaluated over the invocation's context (not
    ``identity``, which reads only the input and headers)."""
    if node.args is not None:
        yield from _tree_exprs(node.args.tree)
    request = node.request
    if request is None:
        return
    yield from (p for p in request.path.parts if not isinstance(p, str))
    for value in (request.query, request.headers, request.body):
        if value is not None:
            yield from _tree_exprs(value.tree)
    if request.idempotency_key is not None:
        yield request.idempotency_key


def _tree_exprs(tree: Any) -> Iterator[Expr]:
    from sff.expr import Expr

    if isinstance(tree, Expr):
        yield tree
    elif isinstance(tree, dict):
        for child in tree.values():
            yield from _tree_exprs(child)
    elif isinstance(tree, list):
        for child in tree:
            yield from _tree_exprs(child)


def prune(value: Any, demand: Demand) -> Any:
    """``value`` as `demand` keeps it: the reference the decoders are checked against."""
    if demand is ALL or not isinstance(demand, Pick):
        return value
    if type(value) is list:
        return [prune(v, demand.items or EMPTY) for v in value]
    if type(value) is not dict:
        return value
    if demand.every is not None:
        return {k: prune(v, _j(demand.fields.get(k), demand.every)) for k, v in value.items()}
    return {k: prune(value[k], d) for k, d in demand.fields.items() if k in value}

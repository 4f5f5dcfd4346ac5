"""What each source's JSON a function can read: `sff.projection` over all its expressions.

The shape's result is read whole (it is the answer, or validated into the contract);
a source's own templates, ``args`` and ``when`` read what they render or test; an
`each` source's items are read as the sources' expressions read ``item``. Without a
shape, every source is the answer, whole.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sff.projection import (
    ALL,
    EMPTY,
    TRUTH,
    Demand,
    Pick,
    element_of,
    join,
    join_all,
    joined,
    key_of,
    need,
)

if TYPE_CHECKING:
    from sff.expr import Expr
    from sff.function import Function

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
        whole = key_of(root, name)
        found[name] = element_of(whole) if fn.plan.nodes[name].each is not None else whole
    return _per_backend(fn, found)


def _per_backend(fn: Function, found: dict[str, Demand]) -> dict[str, Demand]:
    """Joined over the GET sources of each backend: an identical GET is sent once per
    invocation and its answer serves every source that asked for it, so it is decoded for
    all of them."""
    by_backend: dict[Any, Demand] = {}
    gets = {}
    for name, node in fn.plan.nodes.items():
        backend = getattr(node.source, "backend", None)
        if backend is not None and getattr(node.source, "method", "") in ("GET", "HEAD"):
            gets[name] = backend
            by_backend[backend] = joined(by_backend.get(backend), found[name])
    return {name: by_backend[gets[name]] if name in gets else d for name, d in found.items()}


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
    return join_all(need(expr._ast, out) for expr in _tree_exprs(value.tree))


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



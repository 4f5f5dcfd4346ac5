"""JMESPath ASTs compiled once into nested Python closures.

jmespath's TreeInterpreter dispatches on a node's type string for every node and every
element, which made shaping a 3 MB payload cost more than parsing it. Each closure here is
one node with the dispatch done ahead of time. Every node type is compiled (nothing runs
on the interpreter), and the semantics are the spec's rather than jmespath's where the two
differ (JSON equality, ordering of mixed types); the compliance suite checks them.

Whatever the data, a closure returns a JSON value or raises `Failure`; what can be known
from the text alone (unknown functions, arity, ``&`` outside a function taking one, a
slice step of 0) raises `Refused` while compiling, with the column to put a caret under.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from sff._jmes_calls import compile_call
from sff._jmes_functions import Ref
from sff._jmes_values import Failure, Refused, equal, fresh, is_false, kind, ordered

Run = Callable[[Any], Any]
Node = dict[str, Any]


class Engine:
    """The function table to compile calls against, and the instance that runs them."""

    def __init__(self, functions: Any) -> None:
        self.functions = functions
        self.table: dict[str, Any] = functions.FUNCTION_TABLE
        self.takes_ref = sorted(
            name
            for name, spec in self.table.items()
            if any("expref" in p["types"] for p in spec["signature"])
        )


def compile_node(node: Node, engine: Engine) -> Run:
    return _BUILDERS[node["type"]](node, engine)


def _kids(node: Node, engine: Engine) -> list[Run]:
    return [compile_node(c, engine) for c in node["children"]]


def _chain(node: Node, engine: Engine) -> Run:
    steps = _kids(node, engine)
    if len(steps) == 2:
        first, second = steps
        return lambda value: second(first(value))

    def run(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value

    return run


def _field(node: Node, _: Engine) -> Run:
    key = node["value"]

    def run(value: Any) -> Any:
        return value.get(key) if type(value) is dict else None

    return run


def _current(node: Node, _: Engine) -> Run:
    return lambda value: value


def _literal(node: Node, _: Engine) -> Run:
    constant = node["value"]
    if isinstance(constant, list | dict):  # a fresh copy each time: results share nothing
        return lambda value: fresh(constant)
    return lambda value: constant


def _index(node: Node, _: Engine) -> Run:
    position = node["value"]

    def run(value: Any) -> Any:
        if type(value) is not list:
            return None
        try:
            return value[position]
        except IndexError:
            return None

    return run


def _slice(node: Node, _: Engine) -> Run:
    start, stop, step = node["children"]
    if step == 0:  # the grammar allows only number tokens here, so it is always known now
        raise Refused("a slice step cannot be 0", node.get("pos"))
    cut = slice(start, stop, step)
    return lambda value: value[cut] if type(value) is list else None


_ORDER: dict[str, Callable[[Any, Any], Any]] = {
    "lt": ordered(operator.lt),
    "gt": ordered(operator.gt),
    "lte": ordered(operator.le),
    "gte": ordered(operator.ge),
}


def _comparator(node: Node, engine: Engine) -> Run:
    left, right = _kids(node, engine)
    op = node["value"]
    if op == "eq":
        return lambda value: equal(left(value), right(value))
    if op == "ne":
        return lambda value: not equal(left(value), right(value))
    order = _ORDER[op]
    return lambda value: order(left(value), right(value))


def _projection(node: Node, engine: Engine) -> Run:
    base, each = _kids(node, engine)

    def run(value: Any) -> Any:
        items = base(value)
        if type(items) is not list:
            return None
        return [r for r in map(each, items) if r is not None]

    return run


def _value_projection(node: Node, engine: Engine) -> Run:
    base, each = _kids(node, engine)

    def run(value: Any) -> Any:
        items = base(value)
        if type(items) is not dict:
            return None
        return [r for r in map(each, items.values()) if r is not None]

    return run


def _filter_projection(node: Node, engine: Engine) -> Run:
    base, each, keep = _kids(node, engine)

    def run(value: Any) -> Any:
        items = base(value)
        if type(items) is not list:
            return None
        collected = []
        for item in items:
            if not is_false(keep(item)):
                current = each(item)
                if current is not None:
                    collected.append(current)
        return collected

    return run


def _flatten(node: Node, engine: Engine) -> Run:
    (base,) = _kids(node, engine)

    def run(value: Any) -> Any:
        items = base(value)
        if type(items) is not list:
            return None
        merged: list[Any] = []
        for item in items:
            if type(item) is list:
                merged.extend(item)
            else:
                merged.append(item)
        return merged

    return run


def _multi_select_dict(node: Node, engine: Engine) -> Run:
    pairs = [(c["value"], compile_node(c["children"][0], engine)) for c in node["children"]]

    def run(value: Any) -> Any:
        if value is None:
            return None
        return {key: get(value) for key, get in pairs}

    return run


def _multi_select_list(node: Node, engine: Engine) -> Run:
    parts = _kids(node, engine)
    return lambda value: None if value is None else [get(value) for get in parts]


def _or(node: Node, engine: Engine) -> Run:
    left, right = _kids(node, engine)

    def run(value: Any) -> Any:
        matched = left(value)
        return right(value) if is_false(matched) else matched

    return run


def _and(node: Node, engine: Engine) -> Run:
    left, right = _kids(node, engine)

    def run(value: Any) -> Any:
        matched = left(value)
        return matched if is_false(matched) else right(value)

    return run


def _not(node: Node, engine: Engine) -> Run:
    (inner,) = _kids(node, engine)
    return lambda value: is_false(inner(value))


def _expref(node: Node, engine: Engine) -> Run:
    raise Refused(
        "`&` makes an expression reference, which only a function argument that takes one "
        f"accepts ({', '.join(engine.takes_ref)})",
        node.get("pos"),
    )


def _function(node: Node, engine: Engine) -> Run:
    return compile_call(
        node, engine.functions, engine.takes_ref, lambda child: compile_node(child, engine)
    )


_BUILDERS: dict[str, Callable[[Node, Engine], Run]] = {
    "subexpression": _chain,
    "index_expression": _chain,
    "pipe": _chain,
    "field": _field,
    "current": _current,
    "identity": _current,
    "literal": _literal,
    "index": _index,
    "slice": _slice,
    "comparator": _comparator,
    "projection": _projection,
    "value_projection": _value_projection,
    "filter_projection": _filter_projection,
    "flatten": _flatten,
    "multi_select_dict": _multi_select_dict,
    "multi_select_list": _multi_select_list,
    "or_expression": _or,
    "and_expression": _and,
    "not_expression": _not,
    "expref": _expref,
    "function_expression": _function,
}

__all__ = ["Engine", "Failure", "Ref", "Refused", "Run", "compile_node", "kind"]

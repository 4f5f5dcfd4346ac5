"""JMESPath ASTs compiled once into nested Python closures.

jmespath's TreeInterpreter dispatches on a node's type string for every node and every
element, which made shaping a 3 MB payload cost more than parsing it. Each closure here
is the corresponding ``TreeInterpreter.visit_*`` method with the dispatch done ahead of
time, so results are the same value for value (the tests check them against jmespath).
Node types not listed (``expref`` and functions taking one, e.g. ``sort_by``) keep
running on the interpreter, subtree by subtree.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from numbers import Number
from typing import Any, cast

from jmespath.functions import Functions
from jmespath.visitor import TreeInterpreter

Run = Callable[[Any], Any]
Node = dict[str, Any]


class Engine:
    """The interpreter (for node types run as they are) and the function table."""

    def __init__(self, interpreter: TreeInterpreter, functions: Functions) -> None:
        self.interpreter, self.functions = interpreter, functions


def compile_node(node: Node, engine: Engine) -> Run:
    build = _BUILDERS.get(node["type"])
    if build is None or _has_expref(node):
        visit = engine.interpreter.visit
        return lambda value: visit(cast(Any, node), value)
    return build(node, engine)


def _has_expref(node: Node) -> bool:
    return node["type"] == "function_expression" and any(
        c["type"] == "expref" for c in node["children"]
    )


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
        try:
            return value.get(key)
        except AttributeError:
            return None

    return run


def _current(node: Node, _: Engine) -> Run:
    return lambda value: value


def _literal(node: Node, _: Engine) -> Run:
    constant = node["value"]
    return lambda value: constant


def _index(node: Node, _: Engine) -> Run:
    position = node["value"]

    def run(value: Any) -> Any:
        if not isinstance(value, list):
            return None
        try:
            return value[position]
        except IndexError:
            return None

    return run


def _slice(node: Node, _: Engine) -> Run:
    cut = slice(*node["children"])
    return lambda value: value[cut] if isinstance(value, list) else None


def _is_number(x: Any) -> bool:
    return not isinstance(x, bool) and isinstance(x, Number)


def _equals(x: Any, y: Any) -> bool:
    if _is_number(x) and x in (0, 1) and isinstance(y, bool):
        return False
    if _is_number(y) and y in (0, 1) and isinstance(x, bool):
        return False
    return bool(x == y)


def _comparable(x: Any) -> bool:
    return _is_number(x) or isinstance(x, str)


_ORDER: dict[str, Callable[[Any, Any], Any]] = {
    "lt": operator.lt,
    "gt": operator.gt,
    "lte": operator.le,
    "gte": operator.ge,
}


def _comparator(node: Node, engine: Engine) -> Run:
    left, right = _kids(node, engine)
    op = node["value"]
    if op == "eq":
        return lambda value: _equals(left(value), right(value))
    if op == "ne":
        return lambda value: not _equals(left(value), right(value))
    order = _ORDER[op]

    def run(value: Any) -> Any:
        a, b = left(value), right(value)
        if not (_comparable(a) and _comparable(b)):
            return None
        return order(a, b)

    return run


def _is_false(value: Any) -> bool:
    return value == "" or value == [] or value == {} or value is None or value is False


def _projection(node: Node, engine: Engine) -> Run:
    base, each = _kids(node, engine)

    def run(value: Any) -> Any:
        items = base(value)
        if not isinstance(items, list):
            return None
        return [r for r in map(each, items) if r is not None]

    return run


def _value_projection(node: Node, engine: Engine) -> Run:
    base, each = _kids(node, engine)

    def run(value: Any) -> Any:
        try:
            items = base(value).values()
        except AttributeError:
            return None
        return [r for r in map(each, items) if r is not None]

    return run


def _filter_projection(node: Node, engine: Engine) -> Run:
    base, each, keep = _kids(node, engine)

    def run(value: Any) -> Any:
        items = base(value)
        if not isinstance(items, list):
            return None
        collected = []
        for item in items:
            if not _is_false(keep(item)):
                current = each(item)
                if current is not None:
                    collected.append(current)
        return collected

    return run


def _flatten(node: Node, engine: Engine) -> Run:
    (base,) = _kids(node, engine)

    def run(value: Any) -> Any:
        items = base(value)
        if not isinstance(items, list):
            return None
        merged: list[Any] = []
        for item in items:
            if isinstance(item, list):
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
        return right(value) if _is_false(matched) else matched

    return run


def _and(node: Node, engine: Engine) -> Run:
    left, right = _kids(node, engine)

    def run(value: Any) -> Any:
        matched = left(value)
        return matched if _is_false(matched) else right(value)

    return run


def _not(node: Node, engine: Engine) -> Run:
    (inner,) = _kids(node, engine)

    def run(value: Any) -> Any:
        result = inner(value)
        if _is_number(result) and result == 0:
            return False  # !0 is false: 0 is not special in JMESPath
        return not result

    return run


def _function(node: Node, engine: Engine) -> Run:
    args = _kids(node, engine)
    name = node["value"]
    call = engine.functions.call_function
    return lambda value: call(name, [arg(value) for arg in args])


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
    "function_expression": _function,
}

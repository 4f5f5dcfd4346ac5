"""JSON values as JMESPath sees them: types, equality, ordering, truth and fresh copies.

Python's own ``==`` is not JSON equality (``[0] == [False]`` and ``1 == True`` hold in
Python, not in JSON), and Python orders mixed types by raising TypeError; every operator
of the compiled evaluator goes through these instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


class Failure(Exception):
    """An expression failed on its data (e.g. ``length(null)``); the message says why.

    Raised by the compiled closures and functions; `sff.expr.Expr.search` turns it into the
    `expression_failed` error naming the function, the field and the expression.
    """


class Refused(Exception):
    """An expression that cannot be right whatever the data; ``pos`` is a column or None."""

    def __init__(self, reason: str, pos: int | None) -> None:
        super().__init__(reason)
        self.reason, self.pos = reason, pos


_KINDS: dict[type, str] = {
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
    type(None): "null",
}


def kind(value: Any) -> str:
    """The JMESPath type name of a value: number, string, boolean, array, object or null."""
    found = _KINDS.get(type(value))
    if found is not None:
        return found
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return "unknown"


def equal(x: Any, y: Any) -> bool:
    """JSON equality: numbers by value (``1 == 1.0``), never a boolean with a number, and
    arrays and objects member by member."""
    tx, ty = type(x), type(y)
    if tx is ty and (tx is str or tx is int or tx is float or tx is bool or x is None):
        return bool(x == y)
    a, b = kind(x), kind(y)
    if a != b:
        return False
    if a == "array":
        return len(x) == len(y) and all(map(equal, x, y))
    if a == "object":
        return x.keys() == y.keys() and all(equal(v, y[k]) for k, v in x.items())
    return bool(x == y)


def ordered(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool | None]:
    """``<``-like operators: two numbers, or two strings by code point (sff keeps string
    ordering, as jmespath-community standardised it); any other pair gives null."""

    def compare(x: Any, y: Any) -> bool | None:
        a, b = kind(x), kind(y)
        if a != b or (a != "number" and a != "string"):
            return None
        return op(x, y)

    return compare


def is_false(value: Any) -> bool:
    """JMESPath falsehood: null, false, and empty strings, arrays and objects (not 0)."""
    if value is True:
        return False
    if value is None or value is False:
        return True
    t = type(value)
    if t is str or t is list or t is dict:
        return not value
    if t is int or t is float:
        return False
    k = kind(value)
    return (k == "string" or k == "array" or k == "object") and not value


def fresh(value: Any) -> Any:
    """A deep copy of a JSON value (scalars are immutable and returned as they are)."""
    t = type(value)
    if t is dict:
        return {k: fresh(v) for k, v in value.items()}
    if t is list:
        return [fresh(v) for v in value]
    return value

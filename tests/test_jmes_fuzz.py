"""Random expressions from a small grammar over random JSON: `Expr.search` answers a JSON
value or raises `EvaluationError`, nothing else, and the same holds through `invoke`."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sff import ExpressionError, Function
from sff.errors import SffError
from sff.expr import EvaluationError, Where, compile_expr

_NAMES = ["a", "b", "c"]
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.sampled_from([0, 1, -1, 10**400])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "a", "b", "1", "12", "NaN", "true", "null"])
    | st.text(max_size=4)
)
DOCS = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(_NAMES), inner),
    max_leaves=15,
)

_LITERALS = [
    "`1`", "`0`", "`-2.5`", "`1e308`", '`"x"`', "'a'", "'1'", "`null`", "`true`", "`false`",
    "`[]`", "`[0]`", "`[false]`", '`{"a": 1}`', "`{}`", '`[1, "a"]`', "`[1e308, 1e308]`",
]  # fmt: skip
_UNARY = [
    "length", "keys", "values", "sort", "reverse", "to_string", "to_number", "type", "abs",
    "ceil", "floor", "sum", "avg", "max", "min", "not_null", "to_array",
]  # fmt: skip
_BINARY = [
    "contains", "starts_with", "ends_with", "join", "merge", "default", "coalesce", "pick",
]  # fmt: skip
_BY = ["sort_by", "max_by", "min_by"]


def _grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(inner, inner)
    name = st.sampled_from(_NAMES)
    return st.one_of(
        st.tuples(inner, name).map(lambda t: f"({t[0]}).{t[1]}"),
        st.tuples(inner, st.integers(-3, 3)).map(lambda t: f"({t[0]})[{t[1]}]"),
        st.tuples(inner, st.sampled_from(["[1:]", "[::-1]", "[:2:2]", "[-2:]"])).map(
            lambda t: f"({t[0]}){t[1]}"
        ),
        st.tuples(inner, name).map(lambda t: f"({t[0]})[*].{t[1]}"),
        inner.map(lambda e: f"({e})[]"),
        inner.map(lambda e: f"({e}).*"),
        pair.map(lambda t: f"({t[0]})[?{t[1]}]"),
        st.tuples(inner, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), inner).map(
            lambda t: f"({t[0]}) {t[1]} ({t[2]})"
        ),
        st.tuples(inner, st.sampled_from(["||", "&&", "|"]), inner).map(
            lambda t: f"({t[0]}) {t[1]} ({t[2]})"
        ),
        inner.map(lambda e: f"!({e})"),
        pair.map(lambda t: f"{{a: {t[0]}, b: {t[1]}}}"),
        pair.map(lambda t: f"[{t[0]}, {t[1]}]"),
        st.tuples(st.sampled_from(_UNARY), inner).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(_BINARY), inner, inner).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.tuples(st.sampled_from(_BY), inner, inner).map(lambda t: f"{t[0]}({t[1]}, &{t[2]})"),
        pair.map(lambda t: f"map(&{t[0]}, {t[1]})"),
        st.tuples(st.sampled_from(["index_by", "group_by"]), inner, name).map(
            lambda t: f"{t[0]}({t[1]}, '{t[2]}')"
        ),
        pair.map(lambda t: f"join_on({t[0]}, {t[1]}, 'a', 'b', 'c')"),
    )


EXPRESSIONS = st.recursive(st.sampled_from([*_NAMES, "@", *_LITERALS]), _grow, max_leaves=8)


def is_json(value: Any) -> bool:
    """Exactly the values JSON has: no tuples, no infinities, no expression objects."""
    if value is None or type(value) in (bool, int, str):
        return True
    if type(value) is float:
        return math.isfinite(value)
    if type(value) is list:
        return all(map(is_json, value))
    if type(value) is dict:
        return all(type(k) is str and is_json(v) for k, v in value.items())
    return False


@settings(max_examples=800, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=EXPRESSIONS, doc=DOCS)
def test_search_answers_json_or_raises_evaluation_error(text: str, doc: Any) -> None:
    try:
        expr = compile_expr(text, Where("fuzz", "shape"))
    except ExpressionError:  # e.g. a `&` the grammar put where no function takes one
        return
    try:
        value = expr.search(doc)
    except EvaluationError as exc:
        assert exc.code == "expression_failed" and exc.detail["expression"] == text
        return
    assert is_json(value), f"{text} on {doc!r} gave {value!r}"


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=EXPRESSIONS, doc=DOCS)
def test_invoke_answers_json_or_expression_failed(text: str, doc: Any) -> None:
    try:
        fn = Function("fuzz", shape=f"input.doc | ({text})")
    except ExpressionError:
        return
    try:
        result = asyncio.run(fn.invoke({"doc": doc}))
    except SffError as exc:
        assert exc.code == "expression_failed", exc
        return
    assert is_json(result.data)

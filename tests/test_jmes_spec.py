"""Probes from the JMESPath spec's own text, and sff's deliberate differences from it.

Each probe runs twice: directly (`Expr.search`) and end to end through `Function.invoke`
(the document given as input, the expression as the shape: ``input.doc | (expr)``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sff import ExpressionError, Function
from sff.expr import EvaluationError, Where, compile_expr


def direct(text: str, doc: Any) -> Any:
    return compile_expr(text, Where("probe", "shape")).search(doc)


def invoked(text: str, doc: Any) -> Any:
    # Inputs of 100,000 nested arrays are over the default max_input_values: raised, so the
    # evaluator's own depth guard is what answers.
    fn = Function("probe", shape=f"input.doc | ({text})", max_input_values=10**6)
    return asyncio.run(fn.invoke({"doc": doc})).data


PATHS = pytest.mark.parametrize("run", [direct, invoked], ids=["direct", "invoke"])


def _nested(depth: int) -> list[Any]:
    doc: list[Any] = []
    for _ in range(depth):
        doc = [doc]
    return doc


MIX = {"mix": [{"a": 1}, {"a": "x"}, {"a": 3}, {"a": None}], "n": 1, "s": "text"}


@PATHS
@pytest.mark.parametrize(
    ("text", "doc", "want"),
    [
        # JSON equality: arrays and objects member by member, never a boolean with a number.
        ("`[0]` == `[false]`", {}, False),
        ('`{"a": 0}` == `{"a": false}`', {}, False),
        ("`[1, [2]]` == `[1.0, [2.0]]`", {}, True),
        ("`1` == `1.0`", {}, True),
        ("`0` == `false`", {}, False),
        ("`[0]` != `[false]`", {}, True),
        # Ordering: two numbers, or two strings (kept, see README); any other pair is null.
        ("mix[?a < `2`].a", MIX, [1]),
        ("mix[?a >= `2`].a", MIX, [3]),
        ("n < s", MIX, None),
        ("`[1]` < `[2]`", {}, None),
        ("`true` > `false`", {}, None),
        ("'a' < 'b'", {}, True),
        ("'2024-05-05' > '2024-04-30'", {}, True),
        ("'B' < 'a'", {}, True),
        # contains: a string holds only strings; an array by JSON equality.
        ("contains('foo123', '123')", {}, True),
        ("contains(`[0]`, `false`)", {}, False),
        ("contains(`[1]`, `1.0`)", {}, True),
        ("contains(`[[0]]`, `[false]`)", {}, False),
        # to_number: only text that is a JSON number.
        ("to_number('NaN')", {}, None),
        ("to_number('Infinity')", {}, None),
        ("to_number('-Infinity')", {}, None),
        ("to_number(' 12 ')", {}, None),
        ("to_number('1_000')", {}, None),
        ("to_number('+1')", {}, None),
        ("to_number('01')", {}, None),
        ("to_number('1e999')", {}, None),
        ("to_number('0x10')", {}, None),
        ("to_number('12')", {}, 12),
        ("to_number('-1.5e2')", {}, -150.0),
        ("to_number('0.5')", {}, 0.5),
        ("to_number(`true`)", {}, None),
        # sort_by, max_by, min_by on comparable keys.
        ("sort_by(xs, &k)[*].k", {"xs": [{"k": 2}, {"k": 1.5}, {"k": 3}]}, [1.5, 2, 3]),
        ("max_by(xs, &k).k", {"xs": [{"k": "b"}, {"k": "c"}, {"k": "a"}]}, "c"),
        ("min_by(xs, &k)", {"xs": []}, None),
        ("sort_by(xs, &k)", {"xs": []}, []),
        # A leading `@` step reads the name after it.
        ("@.bar", {"bar": 7}, 7),
        ("@ | bar", {"bar": 7}, 7),
    ],
)
def test_the_spec_where_it_speaks(run: Any, text: str, doc: Any, want: Any) -> None:
    got = run(text, doc)
    assert got == want and type(got) is type(want)


@PATHS
@pytest.mark.parametrize(
    ("text", "doc", "says"),
    [
        ("max_by(xs, &k)", {"xs": [{"k": 1}, {"k": "a"}]}, "max_by() key of item 1 is string"),
        ("min_by(xs, &k)", {"xs": [{"k": "a"}, {"k": 1}]}, "min_by() key of item 1 is number"),
        ("sort_by(xs, &k)", {"xs": [{"k": 1}, {"k": "a"}]}, "sort_by() key of item 1"),
        ("sort_by(xs, &k)", {"xs": [{"k": True}]}, "sort_by() key of item 0 is boolean"),
        ("max_by(xs, &k)", {"xs": [{"k": None}]}, "max_by() key of item 0 is null"),
        ("contains('foobar', `123`)", {}, "contains() searches a string for a string, got number"),
        ("contains(s, `null`)", {"s": "null"}, "contains() searches a string for a string"),
        (
            "length(missing)",
            {},
            "length() argument 1: expected string or array or object, got null",
        ),
        ("sum(xs)", {"xs": [1, "2"]}, "sum() argument 1: expected array of numbers"),
        ("sort(xs)", {"xs": [1, "2"]}, "sort() argument 1"),
        ("sum(xs)", {"xs": [1e308, 1e308]}, "sum() overflowed"),
        ("avg(xs)", {"xs": [10**400, 1]}, "avg() cannot take these arguments"),
        ("index_by(xs, 'id')", {"xs": "text"}, "index_by() argument 1: expected array or null"),
        ("to_string(xs)", {"xs": _nested(100_000)}, "nested too deeply"),
        ("xs == ys", {"xs": _nested(100_000), "ys": _nested(100_000)}, "nested too deeply"),
    ],
)
def test_type_mismatches_fail_as_expression_failed_naming_the_function(
    run: Any, text: str, doc: Any, says: str
) -> None:
    with pytest.raises(EvaluationError) as caught:
        run(text, doc)
    assert caught.value.code == "expression_failed"
    assert says in caught.value.message
    assert caught.value.detail["function"] == "probe"


@pytest.mark.parametrize(
    ("text", "column", "says"),
    [
        ("foo[8:2:0]", 3, "a slice step cannot be 0"),
        ("foo[::0].bar", 3, "a slice step cannot be 0"),
        ("`foo`", 0, "literal `foo` is not JSON"),
        ("a == `bar baz`", 5, "is not JSON"),
        ("`NaN`", 0, "is not JSON"),
        ("`Infinity`", 0, "is not JSON"),
        ("`1e999`", 0, "is not JSON"),
        ("&input", 0, "`&` makes an expression reference"),
        ("[&foo]", 1, "`&` makes an expression reference"),
        ("{a: &b}", 4, "`&` makes an expression reference"),
        ("a || &b", 5, "`&` makes an expression reference"),
        ("default(&a, 'x')", 8, "default() argument 1 takes a value, not an expression reference"),
        ("not_null(x, &foo)", 12, "not_null() argument 2 takes a value"),
        ("to_string(&foo)", 10, "to_string() argument 1 takes a value"),
        ("sort_by(xs, k)", 0, "sort_by() argument 2 must be an expression reference"),
        ("xs | nope(@)", 5, "unknown function nope()"),
        ("a.length(b, c)", 2, "length() takes 1 arguments, got 2"),
    ],
)
def test_what_the_text_alone_rules_out_is_a_declaration_error_with_a_caret(
    text: str, column: int, says: str
) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expr(text, Where("probe", "shape"))
    error = caught.value
    assert says in str(error)
    assert error.detail["column"] == column
    assert str(error).splitlines()[-1] == "    " + " " * column + "^"
    with pytest.raises(ExpressionError):  # and the same when a function is declared
        Function("probe", shape=f"input.doc | ({text})")


def test_expression_references_work_where_a_function_takes_one() -> None:
    doc = {"xs": [{"k": 2, "n": "b"}, {"k": 1, "n": "a"}]}
    assert direct("map(&n, sort_by(xs, &k))", doc) == ["a", "b"]
    assert direct("max_by(xs, &k).n", doc) == "b"
    assert direct("sort_by(xs, &to_number(to_string(k)))[0].n", doc) == "a"
    assert direct("map(&sort_by(@, &@), `[[3, 1], [2]]`)", {}) == [[1, 3], [2]]


@PATHS
def test_a_literal_is_a_fresh_value_every_time(run: Any) -> None:
    first = run('`{"tags": ["a"]}`', {})
    first["tags"].append("leak")
    assert run('`{"tags": ["a"]}`', {}) == {"tags": ["a"]}
    expr = compile_expr('{t: `["a"]`, u: `["a"]`}', Where("probe", "shape"))
    one, two = expr.search({}), expr.search({})
    one["t"].append("leak")
    assert two == {"t": ["a"], "u": ["a"]} and one["t"] is not one["u"]
    assert expr.search({}) == {"t": ["a"], "u": ["a"]}


@pytest.mark.parametrize(
    "text", ["(" * 5000 + "a" + ")" * 5000, "`" + "[" * 100_000 + "]" * 100_000 + "`"]
)
def test_an_absurdly_nested_expression_is_a_declaration_error(text: str) -> None:
    with pytest.raises(ExpressionError):
        compile_expr(text, Where("probe", "shape"))


def test_a_caret_inside_a_template_points_at_the_offending_part() -> None:
    from sff.expr import compile_template

    with pytest.raises(ExpressionError) as caught:
        compile_template("/u/{default(&a, 'x')}/t/{xs[::0]}", Where("probe", "path"))
    assert caught.value.detail["column"] == len("/u/{default(")
    with pytest.raises(ExpressionError) as caught:
        compile_template("/u/{a}/t/{xs[::0]}", Where("probe", "path"))
    assert caught.value.detail["column"] == len("/u/{a}/t/{xs")


def test_a_function_of_sffs_own_that_declares_a_reference_gets_one() -> None:
    from jmespath import functions as jfun

    from sff._jmes import Engine, compile_node
    from sff._jmes_parse import parse
    from sff._jmes_values import Refused
    from sff.expr import SffFunctions

    class WithRef(SffFunctions):
        @jfun.signature({"types": ["array"]}, {"types": ["expref"]})
        def _func_count_by(self, items: list[Any], ref: Any) -> int:
            return sum(1 for item in items if ref(item))

    engine = Engine(WithRef())
    assert "count_by" in engine.takes_ref
    run = compile_node(parse("count_by(xs, &done)"), engine)
    assert run({"xs": [{"done": True}, {"done": False}, {"done": True}]}) == 2
    with pytest.raises(Refused, match="argument 2 must be an expression reference"):
        compile_node(parse("count_by(xs, done)"), engine)

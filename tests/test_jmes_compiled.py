"""Compiled JMESPath closures give exactly what jmespath's interpreter gives."""

from __future__ import annotations

from typing import Any

import jmespath
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jmespath.visitor import Options

from sff.expr import _FUNCTIONS, Where, compile_expr

DATA: list[Any] = [
    {
        "a": {"b": {"c": 1}, "list": [0, 1, 2, [3, [4]], None, False, "", [], {}]},
        "people": [
            {"name": "ann", "age": 30, "done": False, "tags": ["x", "y"], "n": 0},
            {"name": "bob", "age": None, "done": True, "tags": [], "n": 1},
            {"name": "cy", "age": 25.5, "done": 0, "tags": None, "n": True},
            {"age": "40", "done": "", "n": False},
            "not an object",
            None,
        ],
        "obj": {"k1": {"v": 1}, "k2": {"v": None}, "k3": {"v": [1, 2]}},
        "zero": 0,
        "one": 1,
        "f": False,
        "t": True,
        "empty": "",
        "s": "text",
        "nested": [[1, 2], [3, [4, 5]], 6, [], None],
    },
    [1, 2, 3],
    "scalar",
    None,
    0,
    {},
]

EXPRESSIONS = [
    "a",
    "a.b.c",
    "a.b.c.d",
    "missing.x",
    "@",
    "a.list[0]",
    "a.list[-1]",
    "a.list[99]",
    "a.list[1:3]",
    "a.list[::-1]",
    "a.list[::2]",
    "s[0]",
    "people[*].name",
    "people[*].age",
    "people[].tags[]",
    "nested[]",
    "nested[][]",
    "people[?done].name",
    "people[?!done].name",
    "people[?age > `26`].name",
    "people[?age >= `25.5`].name",
    "people[?age < `40`].name",
    "people[?age <= `30`].name",
    "people[?age == `30`].name",
    "people[?age != `30`].name",
    "people[?n == `0`].name",
    "people[?n == `false`].name",
    "people[?n == `1`].name",
    "people[?n == `true`].name",
    "people[?name == 'ann'] | [0].tags",
    "people[?name > 'b'].name",
    "people[?tags].name",
    "obj.*.v",
    "obj.*",
    "s.*",
    "{x: a.b.c, y: people[0].name, z: missing}",
    "people[*].{n: name, a: age}",
    "[zero, one, f, missing]",
    "missing.{a: a}",
    "missing.[a]",
    "zero || one",
    "f || empty || 'fallback'",
    "empty && s",
    "s && one",
    "!zero",
    "!one",
    "!f",
    "!empty",
    "!a.list",
    "!`[]`",
    "!`{}`",
    "!missing",
    "length(people)",
    "length(people[?done])",
    "keys(obj)",
    "max_by(people[?age != null && type(age) == 'number'], &age).name",
    "sort_by(people[?name], &name)[*].name",
    "map(&name, people[?name])",
    "default(missing, 'd')",
    "coalesce(missing, zero, one)",
    "index_by(people[?name], 'name').ann.age",
    '`"lit"`',
    "'raw'",
    "people | [1]",
    "a.list[3][1][0]",
    "people[0:2].name",
    "people[*].tags[0]",
    "obj.*.v[]",
    "[*]",
    "*",
    "[]",
    "[0]",
]


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_compiled_expression_matches_the_interpreter(text: str) -> None:
    compiled = compile_expr(text, Where("f", "shape"))
    options = Options(custom_functions=_FUNCTIONS)
    for data in DATA:
        try:
            expected: Any = ("ok", jmespath.search(text, data, options=options))
        except Exception as exc:  # the same failure, whatever it is
            expected = ("error", type(exc).__name__)
        try:
            got: Any = ("ok", compiled._run(data))
        except Exception as exc:  # the same failure, whatever it is
            got = ("error", type(exc).__name__)
        assert got == expected, f"{text} on {data!r}"
        if got[0] == "ok":
            assert type(got[1]) is type(expected[1])


# Random documents built from a few keys the expressions use, so paths hit, miss and meet
# every JSON type: the compiled closures must agree with the interpreter on all of them.
_KEYS = st.sampled_from(["a", "b", "done", "name", "n"])
_SCALARS = st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["", "x", "ann"])
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=12,
)
_RANDOM_EXPRESSIONS = [
    "a.b",
    "a[*].b",
    "a[].name",
    "a[?done].name",
    "a[?!done] | [0]",
    "a[?n > `0`].n",
    "a[?name == 'ann'] | length(@)",
    "{x: a, y: b.n}",
    "[a, b][]",
    "a || b",
    "a && b",
    "a.*.n",
    "sort_by(a, &n)",
    "length(a)",
    "not_null(a.n, b.n, `0`)",
    "default(a.name, 'none')",
    "join_on(a, b, 'n', 'n', 'm')",
]


def _outcome(run: Any) -> tuple[str, Any]:
    try:
        value = run()
    except Exception as exc:  # the same failure, whatever it is
        return ("error", type(exc).__name__)
    return ("ok", value)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=_DOCUMENTS, text=st.sampled_from(_RANDOM_EXPRESSIONS))
def test_compiled_expressions_agree_with_the_interpreter_on_random_documents(
    doc: Any, text: str
) -> None:
    compiled = compile_expr(text, Where("f", "shape"))
    options = Options(custom_functions=_FUNCTIONS)
    expected = _outcome(lambda: jmespath.search(text, doc, options=options))
    got = _outcome(lambda: compiled._run(doc))
    assert got == expected, f"{text} on {doc!r}"

"""Compiled JMESPath closures give what jmespath's interpreter gives, wherever it answers.

Where the interpreter raises a raw Python error (ordering a string against a number,
``max_by`` over mixed keys), sff must answer a value or `EvaluationError`; where jmespath
departs from the spec, the spec wins (tests/test_jmes_spec.py lists those places).
"""

from __future__ import annotations

from typing import Any

import jmespath
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jmespath.exceptions import JMESPathError
from jmespath.visitor import Options

from sff.expr import _FUNCTIONS, EvaluationError, Where, compile_expr

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


def reference(text: str, data: Any) -> tuple[str, Any]:
    """jmespath's answer: ("ok", value), ("error",) for a JMESPath error, or ("raw", name)
    when a Python error escapes it (there sff has to do better, so anything clean goes)."""
    try:
        return ("ok", jmespath.search(text, data, options=Options(custom_functions=_FUNCTIONS)))
    except JMESPathError:
        return ("error",)
    except Exception as exc:  # a raw Python error escaping jmespath
        return ("raw", type(exc).__name__)


def ours(text: str, data: Any) -> tuple[str, Any]:
    try:
        return ("ok", compile_expr(text, Where("f", "shape")).search(data))
    except EvaluationError:
        return ("error",)


def agree(text: str, data: Any) -> None:
    expected, got = reference(text, data), ours(text, data)
    if expected[0] == "raw":
        return
    assert got == expected, f"{text} on {data!r}"
    if got[0] == "ok":
        assert type(got[1]) is type(expected[1])


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_compiled_expression_matches_the_interpreter(text: str) -> None:
    for data in DATA:
        agree(text, data)


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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=_DOCUMENTS, text=st.sampled_from(_RANDOM_EXPRESSIONS))
def test_compiled_expressions_agree_with_the_interpreter_on_random_documents(
    doc: Any, text: str
) -> None:
    agree(text, doc)

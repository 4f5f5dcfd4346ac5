"""JMESPath compiled once: referenced names, caret errors, templates, custom functions."""

from __future__ import annotations

from typing import Any

import pytest

from sff import ExpressionError
from sff.expr import (
    WHOLE_CONTEXT,
    EvaluationError,
    compile_expr,
    compile_template,
    compile_value,
)
from sff.expr import Where as W

AT = W("fn", "shape")


def search(text: str, context: dict[str, Any] | None = None) -> Any:
    return compile_expr(text, AT).search(context or {})


def error_for(text: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        compile_expr(text, AT)
    return caught.value


def caret_column(error: ExpressionError) -> int:
    """The column the caret line points at, read from the message itself."""
    caret_line = str(error).splitlines()[-1]
    assert caret_line.strip() == "^"
    return caret_line.index("^") - 4  # the expression line is indented by four spaces


# -- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("input.user_id", {"input"}),
        ("todos[?!done].id", {"todos"}),
        ("todos[*].user.id", {"todos"}),
        ("todos | [0]", {"todos"}),
        ("length(todos)", {"todos"}),
        ("user.name || team.name", {"user", "team"}),
        ("user && !team", {"user", "team"}),
        ("{a: user.name, b: [team.id, todos[0]]}", {"user", "team", "todos"}),
        ("sort_by(todos, &user.id)", {"todos"}),
        ("todos[?user == input.x]", {"todos"}),
        ("todos[].tags[]", {"todos"}),
        ("`[1, 2]`", set()),
        ("'text'", set()),
        ('"quoted name".x', {"quoted name"}),
        ("@", {WHOLE_CONTEXT}),
        ("length(@)", {WHOLE_CONTEXT}),
    ],
)
def test_names_are_the_context_keys_an_expression_starts_from(text: str, names: set[str]) -> None:
    assert compile_expr(text, AT).names == names


def test_template_names_are_the_union_of_its_placeholders() -> None:
    template = compile_template("/teams/{user.team_id}/todos/{input.todo}", AT)
    assert template.names == {"user", "input"}


def test_value_names_cover_nested_dicts_and_lists() -> None:
    value = compile_value({"a": "user.id", "b": ["team.id", 3, None], "c": {"d": "x"}}, AT)
    assert value.names == {"user", "team", "x"}


# -- compile errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("user.name[", 10),
        ("a.b.c)", 5),
        ("a[?x ==]", 7),
        ("a ||", 4),
    ],
)
def test_syntax_error_puts_the_caret_under_the_offending_column(text: str, column: int) -> None:
    error = error_for(text)
    assert error.detail["column"] == column
    assert caret_column(error) == column
    lines = str(error).splitlines()
    assert lines[0].startswith("function 'fn', shape: ")
    assert lines[1] == f"    {text}"


def test_template_error_caret_points_inside_the_whole_template() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_template("/users/{input.}/x", W("fn", "source 'user' path"))
    error = caught.value
    assert error.detail["expression"] == "/users/{input.}/x"
    assert error.detail["where"] == "source 'user' path"
    assert caret_column(error) == len("/users/{input.")


def test_unclosed_placeholder_points_at_its_brace() -> None:
    with pytest.raises(ExpressionError, match="never closed") as caught:
        compile_template("/users/{input.id", AT)
    assert caret_column(caught.value) == len("/users/")


def test_stray_closing_brace_is_rejected() -> None:
    with pytest.raises(ExpressionError, match=r"'\}' without '\{'") as caught:
        compile_template("/users/1}", AT)
    assert caret_column(caught.value) == len("/users/1")


def test_empty_placeholder_is_rejected() -> None:
    with pytest.raises(ExpressionError, match="empty expression"):
        compile_template("/users/{}", AT)


def test_empty_expression_is_rejected() -> None:
    assert "empty expression" in str(error_for("  "))


def test_unknown_function_is_a_declaration_error() -> None:
    assert "unknown function nope()" in str(error_for("nope(user)"))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("default(user)", "default() takes 2 arguments, got 1"),
        ("pick(user, ['a'], 'x')", "pick() takes 2 arguments, got 3"),
        ("length(a, b)", "length() takes 1 arguments, got 2"),
        ("coalesce()", "coalesce() takes 1+ arguments, got 0"),
    ],
)
def test_wrong_argument_count_is_a_declaration_error(text: str, reason: str) -> None:
    assert reason in str(error_for(text))


def test_variadic_functions_accept_many_arguments() -> None:
    assert search("coalesce(a, b, c, d)", {"d": 4}) == 4
    assert search("not_null(a, b, c)", {"c": 3}) == 3


def test_placeholders_may_hold_braces_and_quotes() -> None:
    template = compile_template("/x/{join('-', ['}', input.a])}/y", AT)
    assert template.render({"input": {"a": "b"}}, lambda _e, v: str(v)) == "/x/}-b/y"
    hashed = compile_template("/x/{{k: input.a}.k}", AT)
    assert hashed.render({"input": {"a": "v"}}, lambda _e, v: str(v)) == "/x/v"


# -- evaluation ------------------------------------------------------------------------------


def test_evaluation_error_names_function_place_and_expression() -> None:
    expr = compile_expr("length(user.tags)", W("fn", "source 'x' query.n"))
    with pytest.raises(EvaluationError) as caught:
        expr.search({"user": {}})
    error = caught.value
    assert error.status == 502
    assert error.detail["expression"] == "length(user.tags)"
    assert error.detail["where"] == "source 'x' query.n"
    assert "function 'fn'" in error.message


def test_value_renders_expressions_and_keeps_literals() -> None:
    value = compile_value({"id": "user.id", "n": 3, "flag": True, "none": None, "l": ["'a'"]}, AT)
    rendered = value.render({"user": {"id": 7}})
    assert rendered == {"id": 7, "n": 3, "flag": True, "none": None, "l": ["a"]}


# -- custom functions ------------------------------------------------------------------------


def test_default_replaces_only_null() -> None:
    assert search("default(team.name, 'none')", {"team": None}) == "none"
    assert search("default(team.name, 'none')", {"team": {"name": "core"}}) == "core"
    assert search("default(n, `5`)", {"n": 0}) == 0
    assert search("default(s, 'x')", {"s": ""}) == ""
    assert search("default(b, `true`)", {"b": False}) is False


def test_coalesce_returns_the_first_non_null() -> None:
    assert search("coalesce(a, b, c)", {"b": 0, "c": 1}) == 0
    assert search("coalesce(a, b)", {}) is None
    assert search("coalesce(a, 'x')", {"a": False}) is False


def test_index_by_keys_items_by_their_key_as_text_and_leaves_out_keyless_ones() -> None:
    users = [
        {"id": 1, "n": "a"},
        {"id": "2", "n": "b"},
        {"n": "no id"},
        {"id": None, "n": "null id"},
        {"id": True, "n": "boolean id"},
        "not an object",
    ]
    assert search("index_by(users, 'id')", {"users": users}) == {
        "1": {"id": 1, "n": "a"},
        "2": {"id": "2", "n": "b"},
    }
    assert search("index_by(users, 'id')", {"users": None}) == {}
    assert search("index_by(users, 'id').\"1\".n", {"users": users}) == "a"


def test_index_by_keeps_the_last_item_of_a_repeated_key() -> None:
    users = [{"id": 1, "v": "first"}, {"id": 1, "v": "last"}]
    assert search("index_by(users, 'id')", {"users": users}) == {"1": {"id": 1, "v": "last"}}


def test_group_by_collects_items_in_order_per_key() -> None:
    todos = [{"u": 1, "t": "a"}, {"u": 2, "t": "b"}, {"u": 1, "t": "c"}, 5]
    assert search("group_by(todos, 'u')", {"todos": todos}) == {
        "1": [{"u": 1, "t": "a"}, {"u": 1, "t": "c"}],
        "2": [{"u": 2, "t": "b"}],
    }
    assert search("group_by(todos, 'u')", {"todos": None}) == {}
    assert search("group_by(todos, 'u')", {"todos": []}) == {}


def test_join_on_attaches_the_matching_right_item_or_null() -> None:
    todos = [{"id": 10, "user_id": 1}, {"id": 11, "user_id": 9}, "odd"]
    users = [{"id": 1, "name": "ann"}]
    context = {"todos": todos, "users": users}
    joined = search("join_on(todos, users, 'user_id', 'id', 'owner')", context)
    assert joined == [
        {"id": 10, "user_id": 1, "owner": {"id": 1, "name": "ann"}},
        {"id": 11, "user_id": 9, "owner": None},
        "odd",
    ]


def test_join_on_matches_a_number_with_its_text() -> None:
    context = {"l": [{"k": "1"}, {"k": 2}], "r": [{"id": 1, "v": "x"}, {"id": "2", "v": "y"}]}
    assert search("join_on(l, r, 'k', 'id', 'm')[*].m.v", context) == ["x", "y"]


def test_join_on_with_null_sides() -> None:
    assert search("join_on(l, r, 'a', 'b', 'c')", {"l": None, "r": [{"b": 1}]}) == []
    assert search("join_on(l, r, 'a', 'b', 'c')", {"l": [{"a": 1}], "r": None}) == [
        {"a": 1, "c": None}
    ]


def test_pick_keeps_only_named_keys_that_exist() -> None:
    user = {"id": 1, "name": "ann", "secret": "x"}
    assert search("pick(user, ['id', 'name', 'missing'])", {"user": user}) == {
        "id": 1,
        "name": "ann",
    }
    assert search("pick(user, ['id'])", {"user": None}) is None
    assert search("pick(user, `[]`)", {"user": user}) == {}


def test_pick_ignores_keys_that_are_not_text() -> None:
    assert search('pick(user, `[[1], 2, "id"]`)', {"user": {"id": 1}}) == {"id": 1}


def test_custom_functions_reject_wrong_types_at_evaluation() -> None:
    with pytest.raises(EvaluationError, match="index_by"):
        search("index_by(users, 'id')", {"users": "not a list"})
    with pytest.raises(EvaluationError):
        search("pick(user, ['a'])", {"user": [1]})


# -- keys of index_by, group_by, join_on ----------------------------------------------------


def test_join_on_a_null_or_missing_key_matches_nothing() -> None:
    todos = [{"t": "no key"}, {"t": "null key", "user_id": None}, {"t": "one", "user_id": 1}]
    users = [{"id": None, "n": "null id"}, {"n": "no id"}, {"id": 1, "n": "ann"}]
    joined = search(
        "join_on(todos, users, 'user_id', 'id', 'owner')", {"todos": todos, "users": users}
    )
    assert [j["owner"] for j in joined] == [None, None, {"id": 1, "n": "ann"}]


def test_join_on_the_string_null_is_a_key_like_any_other_text() -> None:
    todos = [{"user_id": "null"}, {"user_id": None}]
    users = [{"id": "null", "n": "literally null"}, {"id": None, "n": "no id"}]
    joined = search(
        "join_on(todos, users, 'user_id', 'id', 'o')[*].o", {"todos": todos, "users": users}
    )
    assert joined == [{"id": "null", "n": "literally null"}]


def test_index_by_leaves_out_every_item_without_a_key() -> None:
    users = [{"id": None, "n": "a"}, {"id": None, "n": "b"}, {"n": "c"}, {"id": 2, "n": "d"}]
    assert search("index_by(users, 'id')", {"users": users}) == {"2": {"id": 2, "n": "d"}}


def test_numbers_meet_as_numbers_and_plain_text() -> None:
    left = [{"k": 1}, {"k": 1.0}, {"k": "1"}, {"k": 2.5}, {"k": "2.5"}, {"k": "01"}, {"k": " 1"}]
    right = [{"id": 1.0, "v": "one"}, {"id": 2.5, "v": "two and a half"}]
    got = search("join_on(l, r, 'k', 'id', 'm')[*].m.v", {"l": left, "r": right})
    assert got == ["one", "one", "one", "two and a half", "two and a half"]
    assert search("index_by(r, 'id')", {"r": right}).keys() == {"1", "2.5"}


def test_booleans_are_no_key_and_never_meet_their_text() -> None:
    left = [{"k": True}, {"k": "true"}, {"k": False}]
    right = [{"id": "true", "v": "text"}, {"id": True, "v": "bool"}]
    got = search("join_on(l, r, 'k', 'id', 'm')[*].m", {"l": left, "r": right})
    assert got == [{"id": "true", "v": "text"}]
    grouped = search("group_by(l, 'k')", {"l": left})
    assert grouped == {"true": [{"k": "true"}]}


def test_group_by_leaves_out_null_keys_and_merges_equal_numbers() -> None:
    todos = [{"u": 1, "t": "a"}, {"u": None, "t": "b"}, {"t": "c"}, {"u": 1.0, "t": "d"}]
    assert search("group_by(todos, 'u')", {"todos": todos}) == {
        "1": [{"u": 1, "t": "a"}, {"u": 1.0, "t": "d"}]
    }

"""Shape: a JMESPath string or a nested dict of expressions, validated into the contract."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from sff import ContractError, Function
from sff.expr import EvaluationError
from sff.shape import compile_shape

CONTEXT: dict[str, Any] = {
    "input": {"user_id": 1},
    "user": {"id": 1, "name": "ann", "team_id": 7},
    "team": {"name": "core"},
    "todos": [{"id": 1, "title": "a", "done": False}, {"id": 2, "title": "b", "done": True}],
}


class Todo(BaseModel):
    id: int
    title: str


class Owner(BaseModel):
    name: str
    team: str


class Dashboard(BaseModel):
    owner: Owner
    open_count: int
    open: list[Todo]


def apply(shape: Any, contract: type[BaseModel] | None = None) -> Any:
    return compile_shape("dash", shape, contract).apply(CONTEXT)


def mismatch(shape: Any, contract: type[BaseModel]) -> ContractError:
    with pytest.raises(ContractError) as caught:
        apply(shape, contract)
    return caught.value


def test_string_shape_is_one_expression() -> None:
    shape = "{name: user.name, open: todos[?!done].id}"
    assert apply(shape) == {"name": "ann", "open": [1]}


def test_dict_shape_nests_and_keeps_literals() -> None:
    shape = {"owner": {"name": "user.name", "tags": ["team.name", 3]}, "v": 2, "none": None}
    assert apply(shape) == {"owner": {"name": "ann", "tags": ["core", 3]}, "v": 2, "none": None}


def test_without_shape_the_data_is_every_source_but_not_the_input() -> None:
    data = apply(None)
    assert set(data) == {"user", "team", "todos"}


def test_valid_data_becomes_a_contract_instance() -> None:
    shape = {
        "owner": {"name": "user.name", "team": "team.name"},
        "open_count": "length(todos[?!done])",
        "open": "todos[?!done].{id: id, title: title}",
    }
    data = apply(shape, Dashboard)
    assert isinstance(data, Dashboard)
    assert data.open == [Todo(id=1, title="a")]


def test_mismatch_of_a_string_shape_names_field_expected_and_expression() -> None:
    class Named(BaseModel):
        name: int

    error = mismatch("{name: user.name}", Named)
    assert error.status == 502 and error.code == "contract_mismatch"
    assert error.detail["field"] == "name"
    assert error.detail["expected"] == "int_parsing"
    assert error.detail["expression"] == "{name: user.name}"
    assert error.detail["contract"] == "Named"
    assert "field 'name'" in error.message and "(got 'ann')" in error.message


def test_mismatch_in_a_nested_dict_names_the_deepest_expression() -> None:
    shape = {
        "owner": {"name": "user.name", "team": "team.id"},
        "open_count": "`1`",
        "open": "`[]`",
    }
    error = mismatch(shape, Dashboard)
    assert error.detail["field"] == "owner.team"
    assert error.detail["expression"] == "team.id"
    assert error.detail["expected"] == "string_type"
    assert "produced by shape expression `team.id`" in error.message


def test_mismatch_inside_a_projected_list_names_the_list_expression() -> None:
    shape = {
        "owner": {"name": "user.name", "team": "team.name"},
        "open_count": "`1`",
        "open": "todos[*].{id: title, title: title}",
    }
    error = mismatch(shape, Dashboard)
    assert error.detail["field"] == "open.0.id"
    assert error.detail["expression"] == "todos[*].{id: title, title: title}"


def test_mismatch_of_a_literal_says_so() -> None:
    class Count(BaseModel):
        n: int

    error = mismatch({"n": []}, Count)
    assert error.detail["expression"] == "(literal)"


def test_field_missing_from_a_dict_shape_is_not_blamed_on_a_literal() -> None:
    error = mismatch({"owner": {"name": "user.name", "team": "team.name"}}, Dashboard)
    assert error.detail["field"] == "open_count"
    assert error.detail["expected"] == "missing"
    assert error.detail["expression"] != "(literal)"
    assert "not in the shape" in error.detail["expression"]


def test_shape_expression_failing_on_the_data_is_a_502() -> None:
    with pytest.raises(EvaluationError) as caught:
        apply({"n": "length(team.members)"})
    assert caught.value.status == 502
    assert caught.value.detail["where"] == "shape.n"


def test_shape_names_become_function_dependencies_checks() -> None:
    fn = Function("f", shape={"a": "input.x"})
    assert fn.shape.names == {"input"}

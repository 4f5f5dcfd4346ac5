"""The plan: dependencies inferred from names, stages, critical path, declaration errors."""

from __future__ import annotations

import importlib
import re
import sys

import pytest
from pydantic import BaseModel

from sff import Backend, DeclarationError, ExpressionError, Function, PlanError, call
from sff.plan import build_plan

api = Backend("api", default="http://api.test")


def scenario(name: str) -> object:
    """Import a scenario module afresh, so a failing one raises every time."""
    module = f"tests.scenarios.{name}"
    sys.modules.pop(module, None)
    return importlib.import_module(module)


def test_diamond_dependencies_are_inferred_from_the_names_expressions_start_from() -> None:
    fn = scenario("diamond").diamond  # type: ignore[attr-defined]
    assert isinstance(fn, Function)
    deps = {name: sorted(node.deps) for name, node in fn.plan.nodes.items()}
    assert deps == {"user": [], "team": ["user"], "todos": ["user"], "summary": ["team", "todos"]}


def test_diamond_stages_group_sources_by_depth() -> None:
    fn = scenario("diamond").diamond  # type: ignore[attr-defined]
    assert fn.plan.stages() == [["user"], ["team", "todos"], ["summary"]]
    assert fn.plan.dependents("user") == ["team", "todos"]
    assert fn.plan.dependents("summary") == []


def test_critical_path_follows_the_slowest_branch_when_durations_are_given() -> None:
    plan = scenario("diamond").diamond.plan  # type: ignore[attr-defined]
    slow_team = {"user": 10.0, "team": 90.0, "todos": 20.0, "summary": 5.0}
    slow_todos = {"user": 10.0, "team": 20.0, "todos": 90.0, "summary": 5.0}
    assert plan.critical_path(slow_team) == ["user", "team", "summary"]
    assert plan.critical_path(slow_todos) == ["user", "todos", "summary"]


def test_critical_path_without_durations_is_the_longest_chain() -> None:
    plan = build_plan(
        "f",
        {
            "a": api.get("/a"),
            "b": api.get("/b/{a.id}"),
            "c": api.get("/c/{b.id}"),
            "lone": api.get("/lone"),
        },
    )
    assert plan.critical_path() == ["a", "b", "c"]


def test_chain_has_one_source_per_stage() -> None:
    plan = build_plan(
        "chain", {"user": api.get("/users/1"), "team": api.get("/teams/{user.team_id}")}
    )
    assert plan.stages() == [["user"], ["team"]]
    assert plan.order == ("user", "team")


def test_independent_sources_share_one_stage() -> None:
    plan = build_plan("f", {n: api.get(f"/{n}") for n in ("a", "b", "c")})
    assert plan.stages() == [["a", "b", "c"]]
    assert all(not node.deps for node in plan.nodes.values())


def test_empty_plan_has_no_stages_and_no_critical_path() -> None:
    plan = build_plan("f", {})
    assert plan.stages() == []
    assert plan.critical_path() == []


def test_describe_lists_edges_stages_and_critical_path() -> None:
    fn = scenario("diamond").diamond  # type: ignore[attr-defined]
    described = fn.plan.describe()
    assert described["sources"]["summary"] == ["team", "todos"]
    assert described["stages"] == [["user"], ["team", "todos"], ["summary"]]
    assert described["critical_path"][0] == "user"
    assert described["critical_path"][-1] == "summary"


def test_every_expression_kind_contributes_dependencies() -> None:
    plan = build_plan(
        "f",
        {
            "a": api.get("/a"),
            "b": api.get("/b"),
            "c": api.get("/c"),
            "d": api.get("/d"),
            "e": api.get("/e"),
            "all": api.post(
                "/x/{a.id}",
                query={"q": "b.q"},
                headers={"x-h": "c.h"},
                body={"nested": ["d.v"]},
                when="e.ok",
            ),
            "fan": api.get("/y/{item}", each="a.ids"),
        },
    )
    assert plan.nodes["all"].deps == {"a", "b", "c", "d", "e"}
    assert plan.nodes["fan"].deps == {"a"}


def test_call_args_contribute_dependencies() -> None:
    async def service(to: str) -> dict[str, str]:
        return {"to": to}

    plan = build_plan("f", {"user": api.get("/u"), "mail": call(service, {"to": "user.email"})})
    assert plan.nodes["mail"].deps == {"user"}


def test_names_inside_filters_and_projections_are_not_dependencies() -> None:
    # `input` inside the filter is a field of each todo, not the invocation input.
    plan = build_plan(
        "f", {"todos": api.get("/t"), "x": api.post("/x", body="todos[?input == `1`].user")}
    )
    assert plan.nodes["x"].deps == {"todos"}


# -- declaration errors, from scenario modules ------------------------------------------


def test_cycle_is_rejected_at_import_listing_the_cycle() -> None:
    with pytest.raises(PlanError) as caught:
        scenario("cycle")
    message = str(caught.value)
    assert "function 'cycle'" in message
    assert "a -> c -> b -> a" in message
    assert caught.value.detail["cycle"] == ["a", "c", "b", "a"]
    assert "free" not in message


def test_self_reference_is_a_cycle() -> None:
    with pytest.raises(PlanError, match="cycle: me -> me"):
        Function("f", sources={"me": api.get("/me/{me.id}")})


def test_unknown_name_is_rejected_listing_the_known_names() -> None:
    with pytest.raises(PlanError) as caught:
        scenario("missing_source")
    message = str(caught.value)
    assert "function 'missing_source', source 'team'" in message
    assert "unknown name 'usr'" in message
    assert "known: input, team, todos, user" in message
    assert caught.value.detail["name"] == "usr"
    assert caught.value.detail["where"] == "source 'team' path"  # the field that reads it
    assert "did you mean 'user'?" in message
    assert message.endswith("\n    /teams/{usr.team_id}\n" + " " * 12 + "^")  # under the name


def test_unknown_name_without_sources_says_so() -> None:
    with pytest.raises(PlanError, match=r"known: input, \(no sources\)"):
        Function("f", shape="user.name")


def test_bad_expression_is_rejected_at_import_with_a_caret() -> None:
    with pytest.raises(ExpressionError) as caught:
        scenario("bad_expression")
    error = caught.value
    assert error.detail["function"] == "bad_expression"
    assert error.detail["where"] == "source 'todos' query.userId"
    assert error.detail["expression"] == "input.user_id ||"
    lines = str(error).splitlines()
    assert lines[1] == "    input.user_id ||"
    assert lines[2] == "    " + " " * error.detail["column"] + "^"


def test_item_outside_each_is_rejected() -> None:
    with pytest.raises(PlanError, match="`item` exists only in a source with `each`"):
        scenario("item_outside_each")


def test_item_in_when_is_rejected_because_when_runs_before_each() -> None:
    with pytest.raises(PlanError, match="`when` is checked once"):
        Function("f", sources={"c": api.get("/c/{item}", each="input.ids", when="item")})


def test_item_in_each_itself_is_rejected() -> None:
    with pytest.raises(PlanError, match="`each` cannot use `item`"):
        Function("f", sources={"c": api.get("/c/{item}", each="item.ids")})


def test_item_in_shape_is_rejected() -> None:
    with pytest.raises(PlanError, match="`item` exists only"):
        Function("f", sources={"c": api.get("/c")}, shape="item")


def test_whole_context_at_root_is_rejected() -> None:
    with pytest.raises(PlanError, match=r"`@` at the top reads the whole context \(input, meta"):
        scenario("whole_context")


@pytest.mark.parametrize(
    ("shape", "reads"),
    [
        ("*.id", "`*` at the top projects over every value of the context"),
        ("[0]", "reads the context as an array, but it is an object"),
        ("[*].id", "reads the context as an array"),
        ("[?id].id", "reads the context as an array"),
        ("length(@)", "`@` at the top reads the whole context"),
    ],
)
def test_root_rejection_says_what_the_expression_reads(shape: str, reads: str) -> None:
    with pytest.raises(PlanError, match=re.escape(reads)) as caught:
        Function("f", sources={"c": api.get("/c"), "b": api.get("/b")}, shape=shape)
    assert caught.value.message.endswith("name the sources you need instead: input, b, c")
    assert caught.value.detail["where"] == "shape"


def test_a_leading_at_step_reads_the_name_after_it() -> None:
    fn = Function("f", sources={"c": api.get("/c")}, shape={"a": "@.c.id", "b": "@ | c"})
    assert fn.shape.names == {"c"}
    with pytest.raises(PlanError, match="unknown name 'bar'"):
        Function("g", sources={"c": api.get("/c")}, shape="@.bar")


def test_whole_context_in_a_source_is_rejected_naming_the_source() -> None:
    with pytest.raises(PlanError, match=r"source 'b'.*`@` at the top"):
        Function("f", sources={"a": api.get("/a"), "b": api.post("/b", body="@")})


def test_shape_errors_name_the_shape_not_a_source() -> None:
    with pytest.raises(PlanError) as caught:
        Function("f", sources={"user": api.get("/u")}, shape={"name": "usr.name"})
    assert "function 'f', shape.name:" in str(caught.value)
    assert "source 'shape'" not in str(caught.value)


@pytest.mark.parametrize("name", ["input", "item", "not-an-identifier", "1st", ""])
def test_bad_source_names_are_rejected(name: str) -> None:
    with pytest.raises(PlanError, match="cannot name a source"):
        Function("f", sources={name: api.get("/x")})


def test_source_named_input_is_rejected_from_a_scenario_module() -> None:
    with pytest.raises(PlanError, match="'input' cannot name a source"):
        scenario("bad_source_name")


def test_plan_errors_are_declaration_errors_with_status_500() -> None:
    with pytest.raises(DeclarationError) as caught:
        scenario("cycle")
    assert caught.value.code == "bad_plan"
    assert caught.value.status == 500


@pytest.mark.parametrize("name", ["", "has space", "slash/y", "dot.ted"])
def test_bad_function_names_are_rejected(name: str) -> None:
    with pytest.raises(DeclarationError, match="function name"):
        Function(name)


def test_input_and_contract_must_be_pydantic_models() -> None:
    class Model(BaseModel):
        x: int

    with pytest.raises(DeclarationError, match="input must be a pydantic model"):
        Function("f", input=dict)  # type: ignore[arg-type]
    with pytest.raises(DeclarationError, match="contract must be a pydantic model"):
        Function("f", contract=dict)  # type: ignore[arg-type]
    assert Function("f", input=Model, contract=Model).contract is Model


def test_backend_without_url_source_is_rejected() -> None:
    with pytest.raises(DeclarationError, match="needs env= or default="):
        Backend("nowhere")


def test_relative_path_is_rejected() -> None:
    with pytest.raises(DeclarationError, match="path must start with '/'"):
        api.get("users/1")


def test_concurrency_below_one_is_rejected() -> None:
    with pytest.raises(DeclarationError, match="concurrency must be at least 1"):
        api.get("/x/{item}", each="input.ids", concurrency=0)


@pytest.mark.parametrize("text", ["soon", "-1s", "5 minutes"])
def test_bad_durations_are_rejected(text: str) -> None:
    with pytest.raises(DeclarationError, match="duration"):
        Function("f", timeout=text)

"""Contracts exported as JSON Schema, TypeScript and OpenAPI; data generated from models."""

from __future__ import annotations

import json
from typing import Literal

from hypothesis import given, settings
from pydantic import BaseModel, Field

from sff import Backend, Function
from sff.testing.generate import minimal, strategy
from sff.testing.schema import export, json_schema, openapi, typescript

api = Backend("api", env="SFFT_SCHEMA_API")


class Owner(BaseModel):
    id: int
    name: str | None = None


class Item(BaseModel):
    """One line of the board."""

    title: str = Field(min_length=1, description="What to do")
    state: Literal["open", "done"]
    owner: Owner | None
    tags: list[str]
    pair: tuple[int, str]
    extra: dict[str, int] = {}


class Board(BaseModel):
    items: list[Item | Owner]
    count: int = Field(ge=0)


class BoardQuery(BaseModel):
    team_id: int
    page: int = 1


board = Function(
    "team-board",
    input=BoardQuery,
    sources={"raw": api.get("/boards/{input.team_id}")},
    shape="raw",
    contract=Board,
    description="The team's board",
)
create = Function("create-item", input=Owner, sources={}, shape="`{}`", method="POST")


def test_typescript_declares_nested_models_enums_optional_and_nullable_fields() -> None:
    ts = typescript([board])
    assert "export interface TeamBoardInput {\n  team_id: number;\n  page?: number;\n}" in ts
    assert (
        "export interface TeamBoardOutput {\n  items: (Item | Owner)[];\n  count: number;\n}" in ts
    )
    assert '  state: "open" | "done";' in ts
    assert "  owner: Owner | null;" in ts
    assert "  pair: [number, string];" in ts
    assert "  extra?: Record<string, number>;" in ts
    assert "  /** What to do */\n  title: string;" in ts
    assert ts.count("export interface Owner ") == 1


def test_a_model_shared_by_two_functions_is_declared_once() -> None:
    assert typescript([board, create]).count("export interface Owner ") == 1


def test_openapi_has_one_path_per_function_with_query_or_body_and_errors() -> None:
    doc = openapi([board, create])
    get = doc["paths"]["/team-board"]["get"]
    assert [(p["name"], p["in"], p["required"]) for p in get["parameters"]] == [
        ("team_id", "query", True),
        ("page", "query", False),
    ]
    ok = get["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/Board"}
    assert set(get["responses"]) == {"200", "400", "502", "504"}
    post = doc["paths"]["/create-item"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/Owner")
    assert {"Board", "Item", "Owner", "Error"} <= set(doc["components"]["schemas"])
    assert doc["openapi"] == "3.1.0"


def test_json_schema_export_gives_input_and_output_per_function() -> None:
    data = json.loads(export([board], "json-schema"))
    assert data["team-board"]["input"]["required"] == ["team_id"]
    assert data["team-board"]["output"]["title"] == "Board"
    assert json_schema([create])["create-item"]["output"] == {}


def test_the_minimal_value_of_a_model_is_valid() -> None:
    assert Board.model_validate(minimal(Board)) == Board(items=[], count=0)
    Item.model_validate(minimal(Item))


@settings(max_examples=40, deadline=None, database=None)
@given(strategy(Board))
def test_generated_values_fit_the_model(value: object) -> None:
    Board.model_validate(value)


class ProductInput(BaseModel):
    product_id: int = Field(ge=1, description="Which product.")
    currency: str = "EUR"


product_page = Function(
    "product_page",
    input=ProductInput,
    route="/products/{product_id}",
    sources={"p": api.get("/products/{input.product_id}")},
    shape="p",
)


def test_openapi_types_a_path_parameter_as_the_input_model_does() -> None:
    operation = openapi([product_page])["paths"]["/products/{product_id}"]["get"]
    by_name = {p["name"]: p for p in operation["parameters"]}

    assert by_name["product_id"]["in"] == "path" and by_name["product_id"]["required"]
    assert by_name["product_id"]["schema"]["type"] == "integer"
    assert by_name["product_id"]["schema"]["minimum"] == 1
    assert by_name["product_id"]["description"] == "Which product."
    assert by_name["currency"]["in"] == "query"


def test_typescript_types_a_path_parameter_as_the_input_model_does() -> None:
    declared = typescript([product_page])

    assert "// GET /products/{product_id}" in declared
    assert "product_id: number;" in declared

"""A contract's long lists of models are validated item by item (`sff.itemwise`): the
answer, and every failure, are the ones a whole validation gives; only the peak differs."""

from __future__ import annotations

import gc
import json
import tracemalloc
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from sff import Backend, ContractError, Function, Retry
from sff.shape import CHUNKED_FROM, compile_shape
from tests.scripted_http import Reply, Script, serve

CHUNK = 512  # a stretch of items, for positions far apart
LONG = CHUNKED_FROM + 3 * CHUNK + 7


class Item(BaseModel):
    id: int
    name: str


class Page(BaseModel):
    items: list[Item]
    total: int


def rows(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "f1": f"row {i}", "f2": "x" * 20} for i in range(n)]


SHAPE = {"items": "rows[*].{id: id, name: f1}", "total": "length(rows)"}


def whole(contract: type[BaseModel], data: Any) -> Any:
    return contract.model_validate(data)


def test_a_long_list_gives_the_instances_a_whole_validation_gives() -> None:
    shape = compile_shape("page", SHAPE, Page)
    context = {"rows": rows(LONG)}
    expected = whole(Page, shape.render(context))
    assert shape.apply(context) == expected
    assert all(type(i) is Item for i in shape.apply(context).items)


@pytest.mark.parametrize("bad", [0, CHUNK + 1, LONG - 3])
def test_a_bad_item_anywhere_fails_naming_its_field_and_the_expression(bad: int) -> None:
    data = rows(LONG)
    data[bad]["id"] = "not a number"
    data[LONG - 1]["f1"] = None  # a second problem, in a later stretch
    with pytest.raises(ContractError) as failed:
        compile_shape("page", SHAPE, Page).apply({"rows": data})
    assert failed.value.detail["field"] == f"items.{bad}.id"
    assert failed.value.detail["problems"] == 2
    assert "rows[*].{id: id, name: f1}" in str(failed.value)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(min_value=CHUNKED_FROM - 2, max_value=CHUNKED_FROM + 2 * CHUNK),
    bad=st.lists(st.integers(min_value=0, max_value=CHUNKED_FROM + 2 * CHUNK), max_size=3),
)
def test_itemwise_validation_fails_and_succeeds_as_a_whole_one(n: int, bad: list[int]) -> None:
    data = rows(n)
    for i in bad:
        if i < n:
            data[i]["f1"] = i  # not a string
    shape = compile_shape("page", SHAPE, Page)
    try:
        expected = whole(Page, shape.render({"rows": data}))
    except ValidationError as exc:
        first = ".".join(str(p) for p in exc.errors()[0]["loc"])
        with pytest.raises(ContractError) as failed:
            shape.apply({"rows": data})
        assert failed.value.detail["field"] == first
        assert failed.value.detail["problems"] == len(exc.errors())
    else:
        assert shape.apply({"rows": data}) == expected


class Checked(BaseModel):
    items: list[Item]
    seen: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def record(cls, data: Any) -> Any:
        data["seen"] = sorted({type(i).__name__ for i in data["items"]})
        return data


class Named(BaseModel):
    items: list[Item] = Field(alias="rows")


class Strict(BaseModel):
    model_config = {"strict": True}
    items: list[Item]


class Validated(BaseModel):
    items: list[Item]

    @field_validator("items", mode="before")
    @classmethod
    def only_dicts(cls, value: Any) -> Any:
        assert all(type(v) is dict for v in value)
        return value


def test_a_contract_with_validators_of_its_own_sees_the_shaped_dicts() -> None:
    shape = compile_shape("page", {"items": "rows[*].{id: id, name: f1}"}, Checked)
    assert shape.apply({"rows": rows(LONG)}).seen == ["dict"]
    validated = compile_shape("v", {"items": SHAPE["items"]}, Validated)
    assert len(validated.apply({"rows": rows(LONG)}).items) == LONG


def test_aliased_and_strict_contracts_validate_as_a_whole() -> None:
    named = compile_shape("n", {"rows": "rows[*].{id: id, name: f1}"}, Named)
    assert len(named.apply({"rows": rows(LONG)}).items) == LONG
    strict = compile_shape("s", {"items": "rows[*].{id: id, name: f1}"}, Strict)
    assert len(strict.apply({"rows": rows(LONG)}).items) == LONG


class Other(BaseModel):
    id: int
    f1: str


class Twice(BaseModel):
    items: list[Item]
    others: list[Other]


def test_a_list_the_shaped_data_shares_is_never_changed() -> None:
    """``rows`` is the source's own list, held by the context and twice by the data: turning
    it into Items in place would hand Items to the second field, and to the context."""
    listed = [{"id": i, "name": f"n{i}", "f1": f"r{i}"} for i in range(LONG)]
    context = {"rows": listed}
    got = compile_shape("t", {"items": "rows", "others": "rows"}, Twice).apply(context)
    assert len(got.items) == len(got.others) == LONG
    assert all(type(r) is dict for r in context["rows"])


def peak_of(apply: Any) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        apply()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_peak_holds_the_instances_not_the_shaped_dicts_beside_them() -> None:
    """Validated whole, the shaped dicts and the instances are all alive at the end; item by
    item, each dict is gone before the next instance is made."""
    shape = compile_shape("page", SHAPE, Page)
    n = 20 * CHUNK
    itemwise = peak_of(lambda: shape.validate(shape.render({"rows": rows(n)})))
    at_once = peak_of(lambda: Page.model_validate(shape.render({"rows": rows(n)})))
    dicts = peak_of(lambda: shape.render({"rows": rows(n)})) - peak_of(lambda: rows(n))
    assert at_once - itemwise > 0.6 * dicts


async def test_a_large_answer_over_a_socket_is_the_whole_validations_answer() -> None:
    """The production path: a large body fetched over loopback, projected, shaped, validated
    item by item and serialized, byte for byte what the whole validation serializes."""
    body = json.dumps(rows(LONG)).encode()
    script = Script()
    script.on("/rows", Reply(body=body, headers={"content-type": "application/json"}))
    with serve(script) as url:
        api = Backend("api", default=url, retry=Retry.none())
        fn = Function("page", sources={"rows": api.get("/rows")}, shape=SHAPE, contract=Page)
        result = await fn.invoke({})
    expected = Page.model_validate(compile_shape("page", SHAPE, None).apply({"rows": rows(LONG)}))
    assert result.body() == expected.model_dump_json().encode()
    script.on("/rows", Reply(body=body.replace(b'"row 5"', b"5", 1)))
    with serve(script) as url:
        api = Backend("api", default=url, retry=Retry.none())
        fn = Function("page", sources={"rows": api.get("/rows")}, shape=SHAPE, contract=Page)
        with pytest.raises(ContractError, match=r"items\.5\.name"):
            await fn.invoke({})

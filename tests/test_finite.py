"""NaN and Infinity never pass a contract or an input model as a silent ``null`` (issue 10).
Backends are real servers on loopback."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pydantic import BaseModel

from sff import Backend, Fallback, Function, Retry, SffError, call
from tests.wire_servers import Recorder, always, ok


class Item(BaseModel):
    name: str
    price: float


class Cart(BaseModel):
    total: float | None = None
    items: list[Item]


def api(url: str) -> Backend:
    return Backend("api", default=url, retry=Retry.none())


async def failure(fn: Function, input: Any = None) -> SffError:
    with pytest.raises(SffError) as caught:
        await fn.invoke(input)
    return caught.value


def cart(url: str, **kw: Any) -> Function:
    return Function("cart", sources={"c": api(url).get("/cart", **kw)},
                    shape={"items": "c.items"}, contract=Cart)  # fmt: skip


# -- NaN and Infinity in a contract -----------------------------------------------------------


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-inf", "nan"])
async def test_a_backend_string_pydantic_would_read_as_nan_is_a_502_naming_the_field(
    text: str,
) -> None:
    body = json.dumps({"items": [{"name": "a", "price": 1}, {"name": "b", "price": text}]})
    async with Recorder(always(ok(body.encode()))) as server:
        fn = cart(server.url)
        error = await failure(fn)
        # an adapter runs its own loop (here in a thread): a JSON error body, never `null`
        reply = await asyncio.to_thread(fn.handler, {}, None)
    assert error.status == 502 and error.code == "contract_mismatch"
    assert error.detail["field"] == "items.1.price"
    assert error.detail["expected"] == "finite_number"
    assert error.detail["expression"] == "c.items"
    assert "field 'items.1.price'" in error.message
    assert reply["statusCode"] == 502
    assert json.loads(reply["body"])["error"]["field"] == "items.1.price"


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"1e999", b"-1e999"])
async def test_a_backend_number_json_cannot_carry_fails_the_source_and_its_fallback_applies(
    number: bytes,
) -> None:
    body = b'{"items": [{"name": "a", "price": ' + number + b"}]}"
    spare = Fallback.value({"items": [{"name": "spare", "price": 0}]})
    async with Recorder(always(ok(body))) as server:
        error = await failure(cart(server.url))
        rescued = await cart(server.url, fallback=spare).invoke({})
    assert error.code == "source_failed"
    assert "is not JSON" in error.message or "out of range" in error.message
    assert rescued.data.items[0].name == "spare"
    assert b'price":null' not in rescued.body()


async def _prices() -> dict[str, Any]:
    return {"items": [{"name": "x", "price": float("nan")}]}


async def test_a_call_source_handing_back_nan_is_a_502_never_a_null() -> None:
    fn = Function("cart", sources={"c": call(_prices)}, shape={"items": "c.items"},
                  contract=Cart)  # fmt: skip
    error = await failure(fn)
    assert error.code == "contract_mismatch" and error.detail["field"] == "items.0.price"


async def test_finite_numbers_pass_untouched() -> None:
    body = b'{"items": [{"name": "a", "price": "1.5"}, {"name": "b", "price": 1e308}]}'
    async with Recorder(always(ok(body))) as server:
        result = await cart(server.url).invoke({})
    assert [i.price for i in result.data.items] == [1.5, 1e308]


# -- NaN and Infinity in an input model -------------------------------------------------------


class Query(BaseModel):
    limit: float = 10


async def _echo(limit: float) -> dict[str, float]:
    return {"limit": limit}


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity"])
async def test_an_input_field_given_nan_is_a_400_naming_it(value: str) -> None:
    fn = Function("q", input=Query, sources={"e": call(_echo, {"limit": "input.limit"})},
                  shape="e")  # fmt: skip
    error = await failure(fn, {"limit": value})
    assert error.status == 400 and error.code == "invalid_input"
    assert error.detail["field"] == "limit" and "finite" in error.message
    assert (await fn.invoke({"limit": "2.5"})).data == {"limit": 2.5}


class Loose(BaseModel):
    raw: Any
    note: str = ""


async def _loose() -> dict[str, Any]:
    return {"rows": [{"v": 1.5, "s": "NaN is a word here"}, {"v": [2, float("-inf")]}]}


async def test_a_nan_inside_an_any_field_is_found_where_it_is() -> None:
    fn = Function("loose", sources={"c": call(_loose)}, shape={"raw": "c.rows"},
                  contract=Loose)  # fmt: skip
    error = await failure(fn)
    assert error.code == "contract_mismatch" and error.detail["field"] == "raw.1.v.1"


async def _words() -> dict[str, Any]:
    return {"rows": [{"s": "NaN"}, {"s": "Infinity and beyond"}, 1e308]}


async def test_the_words_nan_and_infinity_in_strings_are_just_text() -> None:
    fn = Function("loose", sources={"c": call(_words)}, shape={"raw": "c.rows"},
                  contract=Loose)  # fmt: skip
    result = await fn.invoke()
    assert result.data.raw[0] == {"s": "NaN"} and b"Infinity and beyond" in result.body()

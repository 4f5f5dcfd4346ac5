"""Bounded work per invocation: one input cannot buy unbounded tasks, calls or loop time."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from pydantic import BaseModel, field_validator

from sff import Backend, Function, call
from sff.errors import DeadlineError, DeclarationError, InputError, SourceError
from tests.echo_server import echo_server


class Ids(BaseModel):
    ids: list[int]


def counting() -> tuple[list[int], Any]:
    calls: list[int] = []

    async def fetch(id: int) -> int:
        calls.append(id)
        return id

    return calls, fetch


async def test_each_over_200000_input_ids_fails_naming_the_count_before_any_call() -> None:
    calls, fetch = counting()
    fn = Function(
        "many",
        input=Ids,
        sources={"items": call(fetch, {"id": "item"}, each="input.ids")},
        timeout=2,
        max_input_values=10**6,
    )
    with pytest.raises(SourceError) as caught:
        await fn.invoke({"ids": list(range(200_000))})
    assert "200000 items, over its max_items of 1000" in caught.value.message
    assert calls == []


async def test_an_input_over_max_input_values_is_a_400_naming_the_bound() -> None:
    calls, fetch = counting()
    fn = Function(
        "many", input=Ids, sources={"items": call(fetch, {"id": "item"}, each="input.ids")}
    )
    with pytest.raises(InputError) as caught:
        await fn.invoke({"ids": list(range(200_000))})
    assert caught.value.status == 400
    assert "more than 20000 values, over max_input_values" in caught.value.message
    assert caught.value.detail["limit"] == 20_000 and calls == []


async def test_max_items_is_set_per_source() -> None:
    _, fetch = counting()
    source = call(fetch, {"id": "item"}, each="input.ids", max_items=5)
    fn = Function("few", input=Ids, sources={"items": source}, shape="items")
    assert (await fn.invoke({"ids": [1, 2, 3, 4, 5]})).data == [1, 2, 3, 4, 5]
    with pytest.raises(SourceError, match="6 items, over its max_items of 5"):
        await fn.invoke({"ids": [1, 2, 3, 4, 5, 6]})
    with pytest.raises(DeclarationError, match="max_items"):
        call(fetch, each="input.ids", max_items=0)


async def peak_tasks(items: int, concurrency: int) -> tuple[int, list[int]]:
    peak = 0

    async def fetch(id: int) -> int:
        nonlocal peak
        peak = max(peak, len(asyncio.all_tasks()))
        await asyncio.sleep(0)
        return id * 10

    source = call(fetch, {"id": "item"}, each="input.ids", concurrency=concurrency)
    fn = Function("fan", input=Ids, sources={"items": source}, shape="items")
    result = await fn.invoke({"ids": list(range(items))})
    return peak, result.data


async def test_each_never_holds_more_live_tasks_than_its_concurrency() -> None:
    few, few_data = await peak_tasks(6, 3)
    many, many_data = await peak_tasks(900, 3)
    assert many == few  # no task per item: the count does not grow with the items
    assert many_data == [i * 10 for i in range(900)] and few_data == [0, 10, 20, 30, 40, 50]


async def test_each_items_keep_their_order_over_a_real_backend() -> None:
    with echo_server() as server:
        api = Backend("api", default=server.url)
        source = api.get("/ok/{item}", each="input.ids", concurrency=4)
        fn = Function("order", input=Ids, sources={"items": source}, shape="items[].path")
        result = await fn.invoke({"ids": list(range(30))})
    assert result.data == [f"/ok/{i}" for i in range(30)]


class Row(BaseModel):
    id: int
    group: str


THREADS: list[str] = []


class Summary(BaseModel):
    top: list[int]
    groups: list[str]

    @field_validator("top")
    @classmethod
    def where(cls, value: list[int]) -> list[int]:
        THREADS.append(threading.current_thread().name)
        return value


class Rows(BaseModel):
    rows: list[Row]


SHAPE = "{top: sort_by(input.rows, &id)[-3:].id, groups: keys(group_by(input.rows, 'group'))}"


def rows(n: int) -> dict[str, Any]:
    return {"rows": [{"id": i, "group": f"g{i % 3}"} for i in range(n)]}


async def test_large_data_is_shaped_off_the_event_loop_and_small_data_on_it() -> None:
    fn = Function("big", input=Rows, shape=SHAPE, contract=Summary, max_input_values=10**6)
    THREADS.clear()
    small = await fn.invoke(rows(10))
    large = await fn.invoke(rows(30_000))
    assert small.json()["top"] == [7, 8, 9] and large.json()["top"] == [29997, 29998, 29999]
    assert THREADS[0] == threading.current_thread().name
    assert THREADS[1].startswith("sff-shape")


class Slow(BaseModel):
    top: list[int]

    @field_validator("top")
    @classmethod
    def slow(cls, value: list[int]) -> list[int]:
        time.sleep(1.5)  # stands for a shape that outgrows the deadline
        return value


async def test_shaping_past_the_deadline_is_a_504_naming_the_stage() -> None:
    fn = Function(
        "slow",
        input=Rows,
        shape="{top: input.rows[-1:].id}",
        contract=Slow,
        timeout=0.8,  # room for the input (counted and validated on the pool) under load
        max_input_values=10**6,
    )
    with pytest.raises(DeadlineError) as caught:
        await fn.invoke(rows(30_000))
    assert caught.value.status == 504 and "in shape" in caught.value.message


async def test_an_input_validated_past_the_deadline_is_a_504_naming_the_input() -> None:
    class Late(BaseModel):
        rows: list[Row]

        @field_validator("rows")
        @classmethod
        def slow(cls, value: list[Row]) -> list[Row]:
            time.sleep(0.6)  # stands for an input too large to validate in time
            return value

    fn = Function("late", input=Late, shape="length(input.rows)", timeout=0.2,
                  max_input_values=10**6)  # fmt: skip
    with pytest.raises(DeadlineError) as caught:
        await fn.invoke(rows(30_000))
    assert caught.value.status == 504 and "in input" in caught.value.message


async def test_a_body_over_max_input_bytes_is_a_413_before_it_is_parsed() -> None:
    import httpx

    from sff.adapters.asgi import app

    fn = Function("post", method="POST", shape="input", max_input_bytes=1000)
    application = app(fn)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://sff.test") as client:
        small = await client.post("/post", json={"a": 1})
        large = await client.post("/post", content=b"[" + b"1," * 1000 + b"1]")
    await application.shutdown()
    assert small.status_code == 200 and small.json() == {"a": 1}
    assert large.status_code == 413
    assert "over max_input_bytes (1000) of function 'post'" in large.json()["error"]["message"]

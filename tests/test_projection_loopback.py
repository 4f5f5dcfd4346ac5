"""Projection pushdown over a real socket: a large body (and each `each` item's) is decoded
into what the function reads, and the answer is byte for byte the full parse's; a read
field of the wrong type and invalid JSON in an unread one fail as they always did."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from sff import Backend, Fallback, Function, Retry
from sff.errors import SffError
from sff.http import response
from sff.http.projected import Projected
from tests.wire_servers import Conn, Recorder, ok


class Row(BaseModel):
    id: int
    name: str


class Detail(BaseModel):
    id: int
    x: str


class Page(BaseModel):
    items: list[Row]
    count: int
    details: list[Detail]


def rows(bad: bytes = b"") -> bytes:
    many = [{"id": i, "active": i % 2 == 0, **{f"f{k}": f"v{i}-{k}" for k in range(20)}}
            for i in range(400)]  # fmt: skip
    body = json.dumps(many).encode()
    return body[:-1] + b"," + bad + b"]" if bad else body


def detail(n: int) -> bytes:
    return json.dumps({"id": n, "x": f"d{n}", "blob": ["y" * 100] * 800}).encode()


async def by_path(conn: Conn, request: bytes, bad: bytes = b"") -> bool:
    path = request.split(b" ")[1]
    body = rows(bad) if path == b"/rows" else detail(int(path.rsplit(b"/", 1)[1]))
    await conn.send(ok(body))
    return True


def page(url: str, **rows_options: Any) -> Function:
    api = Backend("api", default=url, retry=Retry.none())
    return Function(
        "page",
        sources={
            "rows": api.get("/rows", **rows_options),
            "detail": api.get("/detail/{item}", each="rows[:3].id"),
        },
        shape={
            "items": "rows[?active].{id: id, name: f1}",
            "count": "length(rows)",
            "details": "detail[*].{id: id, x: x}",
        },
        contract=Page,
    )


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Sizes of the bodies the projected decoder was given."""
    seen: list[int] = []
    real = Projected.__call__

    def spy(self: Projected, body: bytes) -> Any:
        seen.append(len(body))
        return real(self, body)

    monkeypatch.setattr(Projected, "__call__", spy)
    yield seen


async def test_the_answer_is_the_full_parse_s_byte_for_byte(
    decoded: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Recorder(by_path) as server:
        fn = page(server.url)
        projected = await fn.invoke()
        assert len(decoded) == 4 and min(decoded) >= response.MIN_BYTES  # rows + 3 items
        monkeypatch.setattr(response, "MIN_BYTES", 1 << 40)  # every body parsed whole
        full = await fn.invoke()
    assert len(decoded) == 4
    assert projected.body() == full.body()
    assert projected.data.count == 400 and projected.data.details[2].x == "d2"


async def test_a_read_field_of_the_wrong_type_is_the_same_contract_mismatch(
    decoded: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def wrong(conn: Conn, request: bytes) -> bool:
        return await by_path(conn, request, b'{"id": 9000, "active": true, "f1": 5}')

    async with Recorder(wrong) as server:
        fn = page(server.url)
        with pytest.raises(SffError) as projected:
            await fn.invoke()
        monkeypatch.setattr(response, "MIN_BYTES", 1 << 40)
        with pytest.raises(SffError) as full:
            await fn.invoke()
    assert decoded and projected.value.code == "contract_mismatch"
    assert projected.value.detail["field"] == "items.200.name"
    assert projected.value.message == full.value.message


async def test_invalid_json_in_an_unread_field_fails_the_source_and_its_fallback_applies(
    decoded: list[int],
) -> None:
    async def broken(conn: Conn, request: bytes) -> bool:
        return await by_path(conn, request, b'{"id": 1, "f7": "\xff"}')

    async with Recorder(broken) as server:
        with pytest.raises(SffError) as failed:
            await page(server.url).invoke()
        rescued = await page(server.url, fallback=Fallback.value([])).invoke()
    assert failed.value.code == "source_failed" and "invalid JSON" in failed.value.message
    assert rescued.meta.sources["rows"].outcome == "degraded" and rescued.data.count == 0
    assert decoded  # the projected decode saw it and handed it to the stdlib parse


async def test_two_sources_reading_different_fields_of_one_get_still_send_it_once() -> None:
    sent: list[bytes] = []

    async def count(conn: Conn, request: bytes) -> bool:
        sent.append(request)
        return await by_path(conn, request)

    async with Recorder(count) as server:
        api = Backend("api", default=server.url, retry=Retry.none())
        fn = Function(
            "two",
            sources={"a": api.get("/rows"), "b": api.get("/rows")},
            shape={"ids": "a[:2].id", "names": "b[:2].f3"},
        )
        result = await fn.invoke()
    assert len(sent) == 1
    assert result.data == {"ids": [0, 1], "names": ["v0-3", "v1-3"]}

"""No work done twice: the shaped data is validated into the contract once and serialized
once, straight to bytes; the fallback cache keeps the bytes a source answered with, never
a re-serialization of what sff parsed (a called Function's: the bytes it answered)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx
from pydantic import BaseModel

from sff import Backend, Fallback, Function, Retry, call
from sff.cache import CacheEntry, MemoryStore

BASE = "http://api.test"
api = Backend("api", default=BASE, retry=Retry.none())
# spacing, an escape and key order a re-serialization would not keep
RECEIVED = b'{ "name" : "Ad\\u00e9",  "z": 1, "a": [1.50, 2] }'


class Card(BaseModel):
    name: str


def entries(store: MemoryStore) -> list[CacheEntry]:
    return [CacheEntry.decode(raw) for raw, _ in store._items.values()]


async def test_the_contract_is_validated_once_and_serialized_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counted: dict[str, int] = {"validate": 0, "dump": 0}
    real_validate = Card.model_validate.__func__  # type: ignore[attr-defined]

    def validate(cls: type[Card], data: Any, **kw: Any) -> Card:
        counted["validate"] += 1
        return real_validate(cls, data, **kw)  # type: ignore[no-any-return]

    def dump(self: Card, **kw: Any) -> str:
        counted["dump"] += 1
        raise AssertionError("the answer is serialized to bytes directly")

    monkeypatch.setattr(Card, "model_validate", classmethod(validate))
    monkeypatch.setattr(Card, "model_dump_json", dump)
    with respx.mock:
        respx.get(f"{BASE}/u").mock(return_value=httpx.Response(200, content=RECEIVED))
        fn = Function("card", sources={"u": api.get("/u")}, shape={"name": "u.name"}, contract=Card)
        result = await fn.invoke()
    assert result.body() == b'{"name":"Ad\xc3\xa9"}' and result.body() is result.body()
    assert counted == {"validate": 1, "dump": 0}


async def test_the_fallback_cache_keeps_the_bytes_the_backend_sent() -> None:
    store = MemoryStore()
    with respx.mock:
        respx.get(f"{BASE}/u").mock(return_value=httpx.Response(200, content=RECEIVED))
        fn = Function("card", sources={"u": api.get("/u", fallback=Fallback.cache())})
        await fn.invoke(cache=store)
    assert [e.body for e in entries(store)] == [RECEIVED]


async def test_a_called_function_s_answer_is_kept_as_the_bytes_it_answered() -> None:
    store = MemoryStore()
    with respx.mock:
        respx.get(f"{BASE}/u").mock(return_value=httpx.Response(200, content=RECEIVED))
        inner = Function("inner", sources={"u": api.get("/u")}, shape={"name": "u.name"},
                         contract=Card)  # fmt: skip
        outer = Function(
            "outer", sources={"card": call(inner, {}, fallback=Fallback.cache())}, shape="card"
        )
        answered = await inner.invoke()
        await outer.invoke(cache=store)
    assert [e.body for e in entries(store)] == [answered.body()]

"""The answer's own Cache-Control and ETag, from its sources over real loopback HTTP, and
304 to a conditional request through a platform adapter."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sff import Backend, Fallback, Function, Retry
from sff.adapters import runtime
from sff.answer import etag, not_modified
from sff.cache import MemoryStore
from tests.scripted_http import Reply, Script, serve

EVENTS = Path(__file__).parent / "events"


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def base(script: Script) -> Iterator[str]:
    with serve(script) as url:
        yield url
    runtime.stop()


def page(base: str, **fn: Any) -> Function:
    api = Backend("api", default=base, retry=Retry.none(), forward_headers=("authorization",))
    return Function(
        "page",
        sources={"a": api.get("/a"), "b": api.get("/b")},
        shape="{a: a, b: b}",
        **fn,
    )


def reply(cc: str | None, body: bytes = b"1", **more: str) -> Reply:
    headers = {"cache-control": cc} if cc is not None else {}
    return Reply(200, body, {**headers, **more})


async def cache_control_of(fn: Function, **invoke: Any) -> str:
    return (await fn.invoke(**invoke)).headers()["cache-control"]


async def test_the_smallest_declared_freshness_wins(script: Script, base: str) -> None:
    script.on("/a", reply("max-age=60"))
    script.on("/b", reply("public, max-age=30", age="10"))
    assert await cache_control_of(page(base)) == "max-age=20"


async def test_a_source_declaring_nothing_does_not_count(script: Script, base: str) -> None:
    script.on("/a", reply("max-age=60"))
    script.on("/b", reply(None))
    assert await cache_control_of(page(base)) == "max-age=60"


async def test_nothing_declared_means_revalidate(script: Script, base: str) -> None:
    script.on("/a", reply(None))
    script.on("/b", reply(None))
    assert await cache_control_of(page(base)) == "no-cache"


async def test_no_store_from_any_source_wins(script: Script, base: str) -> None:
    script.on("/a", reply("max-age=60"))
    script.on("/b", reply("no-store"))
    assert await cache_control_of(page(base)) == "no-store"


async def test_a_private_backend_answer_makes_it_private(script: Script, base: str) -> None:
    script.on("/a", reply("private, max-age=60"))
    script.on("/b", reply("max-age=30"))
    assert await cache_control_of(page(base)) == "private, max-age=30"


async def test_forwarded_credentials_make_it_private(script: Script, base: str) -> None:
    script.on("/a", reply("max-age=60"))
    script.on("/b", reply("max-age=60"))
    fn = page(base)
    assert await cache_control_of(fn, headers={"authorization": "Bearer t"}) == (
        "private, max-age=60"
    )
    assert script.seen[-1].headers["authorization"] == "Bearer t"
    assert await cache_control_of(fn, headers={"accept": "x"}) == "max-age=60"


async def test_a_personal_source_makes_it_private(script: Script, base: str) -> None:
    script.on("/me", reply("max-age=60"))
    api = Backend("api", default=base)
    fn = Function("me", sources={"me": api.get("/me", personal=True)})
    assert await cache_control_of(fn) == "private, max-age=60"


async def test_a_degraded_answer_is_no_store(script: Script, base: str) -> None:
    script.on("/a", reply("max-age=60"), Reply(500, b"{}"))
    api = Backend("api", default=base, retry=Retry.none())
    fn = Function("d", sources={"a": api.get("/a", fallback=Fallback.cache())})
    store = MemoryStore()
    assert await cache_control_of(fn, cache=store) == "max-age=60"
    second = await fn.invoke(cache=store)
    assert second.meta.degraded == ["a"]
    assert second.headers()["cache-control"] == "no-store"


async def test_the_function_may_set_its_own(script: Script, base: str) -> None:
    script.on("/a", reply("no-store"))
    script.on("/b", reply(None))
    fn = page(base, cache_control="public, max-age=5")
    assert await cache_control_of(fn) == "public, max-age=5"


async def test_the_etag_is_of_the_body(script: Script, base: str) -> None:
    script.on("/a", reply(None, b"1"))
    script.on("/b", reply(None, b"2"))
    result = await page(base).invoke()
    assert result.headers()["etag"] == etag(result.body()) == etag(b'{"a":1,"b":2}')
    script.on("/b", reply(None, b"3"))
    assert (await page(base).invoke()).headers()["etag"] != result.headers()["etag"]


def lambda_event(headers: dict[str, str]) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "aws_apiGatewayProxyV2Event_GET.json").read_text())
    event["headers"] = headers
    event.pop("cookies")
    return event


def test_a_matching_if_none_match_gets_304_without_the_body(script: Script, base: str) -> None:
    script.on("/a", reply("max-age=60", b"1"))
    script.on("/b", reply("max-age=60", b"2"))
    fn = page(base)
    first = fn.handler(lambda_event({}), None)
    assert first["statusCode"] == 200
    tag = first["headers"]["etag"]
    again = fn.handler(lambda_event({"if-none-match": f'W/"x", {tag}'}), None)
    assert again["statusCode"] == 304
    assert again["body"] == ""
    assert again["headers"]["etag"] == tag
    assert again["headers"]["cache-control"] == "max-age=60"
    changed = fn.handler(lambda_event({"if-none-match": '"other"'}), None)
    assert changed["statusCode"] == 200 and json.loads(changed["body"]) == {"a": 1, "b": 2}


def test_an_error_is_never_cached_and_has_no_etag(script: Script, base: str) -> None:
    script.on("/a", Reply(500, b"{}"))
    script.on("/b", reply("max-age=60"))
    answer = page(base).handler(lambda_event({}), None)
    assert answer["statusCode"] == 502
    assert answer["headers"]["cache-control"] == "no-store"
    assert "etag" not in answer["headers"]


def test_if_none_match_comparison() -> None:
    assert not_modified('"a"', '"a"') and not_modified('W/"a"', '"a"')
    assert not_modified("*", '"a"') and not_modified(' "b" , "a"', '"a"')
    assert not not_modified(None, '"a"') and not not_modified('"b"', '"a"')


async def test_a_called_function_passes_its_rule_on(script: Script, base: str) -> None:
    from sff import call

    script.on("/me", reply("max-age=60"))
    api = Backend("api", default=base)
    inner = Function("me", sources={"me": api.get("/me", personal=True)})
    outer = Function("page", sources={"me": call(inner)})
    assert await cache_control_of(outer) == "private, max-age=60"
    script.on("/me", reply("no-store"))
    assert await cache_control_of(outer) == "no-store"

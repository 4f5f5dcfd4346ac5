"""A value placed in a path is ONE percent-encoded segment; the origin comes only from the
Backend. Checked on the exact request target httpx sends (``url.raw_path``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from sff import Backend, Function, Retry, SourceError

BASE = "http://api.test:8080/base"
api = Backend("api", default=BASE, retry=Retry.none())


@pytest.fixture
def sent() -> Iterator[list[httpx.Request]]:
    """Every request that reached the mocked network, whatever its host."""
    requests: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={"ok": True})

    with respx.mock(assert_all_called=False) as router:
        router.route().mock(side_effect=record)
        yield requests


async def fetch_with(
    value: Any, requests: list[httpx.Request], path: str = "/users/{input.v}/x"
) -> httpx.Request:
    fn = Function("f", sources={"s": api.get(path)})
    await fn.invoke({"v": value})
    assert len(requests) == 1
    return requests[0]


@pytest.mark.parametrize(
    ("value", "segment"),
    [
        ("../admin?x=1#y", b"..%2Fadmin%3Fx%3D1%23y"),
        ("a/b", b"a%2Fb"),
        ("..", b"%2E%2E"),
        (".", b"%2E"),
        ("%2F", b"%252F"),
        ("zoë/東京", b"zo%C3%AB%2F%E6%9D%B1%E4%BA%AC"),
        ("a b+c", b"a%20b%2Bc"),
        ("a;b=c", b"a%3Bb%3Dc"),
        ("\\..\\x", b"%5C..%5Cx"),
        ("@evil.test:1", b"%40evil.test%3A1"),
        (42, b"42"),
        (True, b"true"),
    ],
)
async def test_path_value_stays_one_segment(
    sent: list[httpx.Request], value: Any, segment: bytes
) -> None:
    request = await fetch_with(value, sent)
    assert request.url.raw_path == b"/base/users/" + segment + b"/x"
    assert request.url.host == "api.test"
    assert request.url.port == 8080
    assert request.url.query == b""


async def test_a_whole_path_value_cannot_reach_another_host(sent: list[httpx.Request]) -> None:
    request = await fetch_with("//evil.test/steal", sent, path="/{input.v}")
    assert (request.url.scheme, request.url.host, request.url.port) == ("http", "api.test", 8080)
    assert request.url.raw_path == b"/base/%2F%2Fevil.test%2Fsteal"


@pytest.mark.parametrize("value", ["http://evil.test/", "https://evil.test:443", "evil.test"])
async def test_an_absolute_url_as_value_is_just_text_in_the_path(
    sent: list[httpx.Request], value: str
) -> None:
    request = await fetch_with(value, sent, path="/{input.v}")
    assert request.url.host == "api.test"
    assert request.url.raw_path.startswith(b"/base/")
    assert b"/" not in request.url.raw_path[len(b"/base/") :]


async def test_query_values_cannot_add_parameters(sent: list[httpx.Request]) -> None:
    fn = Function("f", sources={"s": api.get("/q", query={"q": "input.q"})})
    await fn.invoke({"q": "a&admin=1#frag"})
    url = sent[0].url
    assert url.params.multi_items() == [("q", "a&admin=1#frag")]
    assert url.fragment == ""
    assert url.raw_path.startswith(b"/base/q?")


async def test_query_keys_from_the_template_are_kept_as_declared(
    sent: list[httpx.Request],
) -> None:
    fn = Function("f", sources={"s": api.get("/q", query={"a b": "'x'"})})
    await fn.invoke()
    assert sent[0].url.params["a b"] == "x"


async def test_empty_path_value_is_a_source_failure(sent: list[httpx.Request]) -> None:
    fn = Function("f", sources={"s": api.get("/users/{input.v}")})
    with pytest.raises(SourceError, match="is empty"):
        await fn.invoke({"v": ""})
    assert sent == []


async def test_backend_base_path_and_trailing_slash_are_kept(sent: list[httpx.Request]) -> None:
    slashed = Backend("slashed", default="http://api.test/v1/", retry=Retry.none())
    await Function("f", sources={"s": slashed.get("/users/{input.v}")}).invoke({"v": "a/b"})
    assert sent[0].url.raw_path == b"/v1/users/a%2Fb"


async def test_literal_template_parts_are_sent_as_declared(sent: list[httpx.Request]) -> None:
    fn = Function("f", sources={"s": api.get("/teams/{input.t}/members/{input.m}")})
    await fn.invoke({"t": "x y", "m": 3})
    assert sent[0].url.raw_path == b"/base/teams/x%20y/members/3"

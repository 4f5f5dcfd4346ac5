"""The lean send without httpx loaded: what it reproduces of httpx, checked against httpx.

`sff.http.client` finds httpx's default headers without importing it, `sff.http.lean`
reads a base URL as httpx would, and `sff.http.faults` mirrors httpx's exception names;
each is compared here with httpx itself, so a new httpx release that changes one fails.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import BaseModel

import sff.http.client
from demo.backend import serve_in_thread
from sff import Backend, Fallback, Function
from sff.cache import MemoryStore
from sff.http import faults
from sff.http.client import Client, default_headers, lean_sender, new_client
from sff.http.lean import LeanSender, prefix


def test_the_default_headers_are_httpx_own() -> None:
    assert default_headers() == httpx.AsyncClient().headers.raw
    assert new_client().headers.raw == default_headers()  # the httpx half sends them too


@pytest.mark.parametrize(
    "base",
    [
        "http://api.test",
        "http://API.Test/v1/",
        "http://api.test:80",
        "http://api.test:080/x",
        "http://api.test:8080/a/b",
        "http://127.0.0.1:9",
        "http://10.0.0.300",  # httpx refuses it
        "http://010.0.0.1",  # httpx refuses a leading zero
        "http://[::1]:8080",
        "http://bücher.example",
        "http://a%41.test",
        "http://api.test:99999",
        "http://api.test:",
        "HTTP://api.test/v1",
        "http://:80/x",
        "http://a.test/%7Ex",
        "http://a_b.test~/x-y",
    ],
)
def test_a_base_url_is_read_as_httpx_reads_it_or_left_to_httpx(base: str) -> None:
    found = prefix(base)
    if found is None:
        return  # httpx builds (or refuses) the request: nothing to compare
    url = httpx.URL(base)
    assert found.origin == (url.host, url.port or 80)
    assert found.host == url.netloc
    assert found.url == f"http://{url.netloc.decode()}"
    assert (found.path + "/x").encode() == httpx.URL(base + "/x").raw_path  # no query here


def test_prefix_takes_the_common_base_urls_and_leaves_what_httpx_refuses() -> None:
    for base in ("http://api.test", "http://127.0.0.1:9/v1", "http://API.test:80/v1"):
        assert prefix(base) is not None, base
    for base in ("http://10.0.0.300", "http://010.0.0.1", "http://api.test:abc"):
        assert prefix(base) is None, base
        with pytest.raises(httpx.InvalidURL):
            httpx.URL(base)


def test_every_fault_is_an_httpx_exception_of_the_same_name_and_kind() -> None:
    kinds = [k for k in vars(faults).values() if isinstance(k, type) and issubclass(k, Exception)]
    assert len(kinds) == 9
    for kind in kinds:
        theirs = getattr(httpx, kind.__name__)
        for base in kind.__mro__[1:-3]:  # ours up to TransportError: httpx's the same way
            assert issubclass(theirs, getattr(httpx, base.__name__)), (kind, base)
        made = faults.as_httpx(kind("why"), None)
        assert type(made) is theirs and str(made) == "why"


async def test_a_client_set_up_through_its_httpx_half_is_sent_as_set_up() -> None:
    plain = new_client()
    assert isinstance(lean_sender(plain), LeanSender) and plain.built is None
    hooked = new_client()
    seen: list[Any] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request)

    hooked.event_hooks["request"].append(hook)
    assert lean_sender(hooked) is None  # httpx runs the hook: httpx sends
    headed = new_client()
    headed.headers["X-Team"] = "a"
    sender = lean_sender(headed)
    assert isinstance(sender, LeanSender)
    base = prefix("http://api.test")
    assert base is not None
    request = sender.render(base, "GET", "/x", [], {}, None)
    assert request is not None and b"\r\nX-Team: a\r\n" in request.payload
    authed = new_client()
    authed.auth = httpx.BasicAuth("u", "p")  # set on its httpx half, as on an httpx client
    assert authed.httpx_client.auth is not None and lean_sender(authed) is None
    assert lean_sender(httpx.AsyncClient()) is None  # a caller's own: always httpx
    with serve_in_thread() as url:
        fn = Function("f", sources={"u": Backend("u", default=url).get("/users/1")}, shape="u.id")
        async with hooked:
            assert (await fn.invoke(client=hooked)).data == 1
    assert len(seen) == 1


async def test_a_closed_client_sends_nothing() -> None:
    client = Client()
    await client.aclose()
    assert client.is_closed and lean_sender(client) is not None
    with pytest.raises(RuntimeError, match="client has been closed"):
        await client.get("http://api.test/x")


class Query(BaseModel):
    id: int
    v: str


async def test_a_cached_copy_has_the_same_key_whichever_path_sends_the_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Copies kept by a deploy that sent through httpx must still be found by the lean send.
    keep = Fallback.cache()
    with serve_in_thread() as url:
        api = Backend(
            "api",
            default=url,
            headers={"X-Api-Key": "k", "Accept": "application/json"},
            forward_headers=("x-team", "authorization"),
            shared_headers=("x-team",),
        )
        fn = Function(
            "f",
            input=Query,
            sources={
                "user": api.get("/users/{input.id}", query={"v": "input.v"}, fallback=keep),
                "todos": api.get("/todos", query={"userId": "input.id"}, fallback=keep),
                "echo": api.post("/echo/x", body={"k": "input.v"}, fallback=keep),
            },
        )
        incoming = {"X-Team": "t1", "Authorization": "Bearer s"}
        stores, sent = [], []
        real = LeanSender.send

        async def spy(self: LeanSender, name: str, request: Any, limit: int) -> Any:
            sent.append(name)
            return await real(self, name, request, limit)

        monkeypatch.setattr(LeanSender, "send", spy)
        for lean in (True, False):
            if not lean:
                monkeypatch.setattr(sff.http.client, "lean_sender", lambda client: None)
            store = MemoryStore()
            result = await fn.invoke({"id": 2, "v": "a b"}, headers=incoming, cache=store)
            assert sorted(result.data) == ["echo", "todos", "user"]
            stores.append(sorted(store._items))
    assert sorted(sent) == ["echo", "todos", "user"]  # the first time only
    assert len(stores[0]) == 3 and stores[0] == stores[1]

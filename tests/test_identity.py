"""Nothing of one user reaches another: every credential sent keys the fallback copy.

Two users, A and B, call the same function against a REAL loopback backend that echoes
what it received (so A's answer holds A's credential); then the backend goes down for
good and B calls: B must never be served A's copy, from memory, SQLite or a real Redis.
A still gets A's own copy, which proves the copy was kept at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sff import Backend, Fallback, Function, Retry
from sff.cache import MemoryStore, SafeStore, open_store
from sff.errors import DeclarationError
from tests.echo_server import EchoServer, echo_server
from tests.redis_server import redis_url  # noqa: F401


class Kind:
    """One kind of credential: how the backend gets it, and A's and B's calls."""

    def __init__(
        self,
        name: str,
        backend: dict[str, Any],
        source: dict[str, Any],
        a: tuple[dict[str, Any], dict[str, str]],
        b: tuple[dict[str, Any], dict[str, str]],
    ) -> None:
        self.name, self.backend, self.source, self.a, self.b = name, backend, source, a, b


KINDS = [
    Kind(
        "authorization",
        {"forward_headers": ("authorization",)},
        {},
        ({}, {"Authorization": "Bearer alice-token"}),
        ({}, {"Authorization": "Bearer bob-token"}),
    ),
    Kind(
        "cookie",
        {"forward_headers": ("cookie",)},
        {},
        ({}, {"Cookie": "sid=alice-session"}),
        ({}, {"Cookie": "sid=bob-session"}),
    ),
    Kind(
        "x-api-key",
        {"forward_headers": ("x-api-key",)},
        {},
        ({}, {"x-api-key": "alice-key-1"}),
        ({}, {"x-api-key": "bob-key-2"}),
    ),
    Kind(
        "custom forwarded header",
        {"forward_headers": ("x-tenant-auth",)},
        {},
        ({}, {"X-Tenant-Auth": "alice"}),
        ({}, {"X-Tenant-Auth": "bob"}),
    ),
    Kind(
        "templated header",
        {},
        {"headers": {"x-user-token": "input.token"}},
        ({"token": "alice-tok"}, {}),
        ({"token": "bob-tok"}, {}),
    ),
    Kind(
        "secret query value",
        {"secret_query": ("sig",)},
        {"query": {"sig": "input.sig"}},
        ({"sig": "alice-sig"}, {}),
        ({"sig": "bob-sig"}, {}),
    ),
]


def function(url: str, kind: Kind, chain: list[Fallback]) -> Function:
    backend = Backend("api", default=url, retry=Retry.none(), **kind.backend)
    source = backend.get("/ok/private", fallback=chain, **kind.source)
    return Function("private", sources={"me": source})


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Any]]:
    if request.param == "memory":
        shared = MemoryStore()
        yield lambda: shared
    elif request.param == "sqlite":
        url = f"sqlite://{tmp_path / 'cache.sqlite3'}"
        yield lambda: open_store(url)  # a fresh handle per invocation, as instances do
    else:
        url = request.getfixturevalue("redis_url")
        yield lambda: open_store(url)


async def invoke(fn: Function, call: tuple[dict[str, Any], dict[str, str]], store: Any) -> Any:
    input, headers = call
    result = await fn.invoke(input, headers=headers, cache=store)
    if isinstance(store, SafeStore):
        await store.close()
    return result.data


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
async def test_b_never_receives_a_s_copy_when_the_backend_is_down(
    kind: Kind, store_factory: Callable[[], Any]
) -> None:
    with echo_server() as server:
        fn = function(server.url, kind, [Fallback.cache(), Fallback.value("spare")])
        fresh = await invoke(fn, kind.a, store_factory())
        assert fresh["me"]["path"] == "/ok/private"
        server.stop()
        b = await invoke(fn, kind.b, store_factory())
        a = await invoke(fn, kind.a, store_factory())
    assert b == {"me": "spare"}, f"B got {b!r}"
    assert a == fresh  # A's own copy was kept: the key is per credential, not "never cache"


async def test_a_required_source_fails_for_b_rather_than_serve_a_s_copy() -> None:
    kind = KINDS[2]
    store = MemoryStore()
    with echo_server() as server:
        fn = function(server.url, kind, [Fallback.cache()])
        await invoke(fn, kind.a, store)
        server.stop()
        with pytest.raises(Exception) as caught:
            await invoke(fn, kind.b, store)
    assert "alice" not in json.dumps(caught.value.to_dict())  # type: ignore[attr-defined]


def shared_language(server: EchoServer) -> Function:
    backend = Backend(
        "api",
        default=server.url,
        retry=Retry.none(),
        forward_headers=("accept-language", "x-api-key"),
        shared_headers=("accept-language",),
    )
    source = backend.get("/ok/news", fallback=[Fallback.cache(), Fallback.value("spare")])
    return Function("news", sources={"news": source})


async def test_a_shared_header_does_not_split_the_copy_but_the_credential_still_does() -> None:
    store = MemoryStore()
    with echo_server() as server:
        fn = shared_language(server)
        fresh = await invoke(fn, ({}, {"accept-language": "de", "x-api-key": "alice-key"}), store)
        server.stop()
        other_language = ({}, {"accept-language": "fr", "x-api-key": "alice-key"})
        assert await invoke(fn, other_language, store) == fresh
        other_user = ({}, {"accept-language": "de", "x-api-key": "bob-key"})
        assert await invoke(fn, other_user, store) == {"news": "spare"}


def test_a_credential_cannot_be_declared_shared() -> None:
    with pytest.raises(DeclarationError, match="identifies the caller"):
        Backend(
            "api", default="http://x", forward_headers=("x-api-key",), shared_headers=("x-api-key",)
        )


def test_a_shared_header_must_be_forwarded() -> None:
    with pytest.raises(DeclarationError, match="does not forward"):
        Backend("api", default="http://x", shared_headers=("accept-language",))


def test_names_given_as_one_string_are_refused() -> None:
    with pytest.raises(DeclarationError, match="tuple of names"):
        Backend("api", default="http://x", forward_headers="accept-language")  # type: ignore[arg-type]


async def test_over_http_b_gets_a_502_not_a_s_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    from sff.adapters.asgi import app

    monkeypatch.setenv("SFF_CACHE_URL", f"sqlite://{tmp_path / 'cache.sqlite3'}")
    with echo_server() as server:
        fn = function(server.url, KINDS[2], [Fallback.cache()])
        application = app(fn)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://sff.test") as client:
            a = await client.get("/private", headers={"x-api-key": "alice-key-1"})
            server.stop()
            b = await client.get("/private", headers={"x-api-key": "bob-key-2"})
            again = await client.get("/private", headers={"x-api-key": "alice-key-1"})
        await application.shutdown()
    assert a.status_code == 200 and "alice-key-1" in a.text
    assert b.status_code == 502 and "alice" not in b.text
    assert again.status_code == 200 and again.json() == a.json()
    assert again.headers["x-sff-degraded"].startswith("me;reason=cache")

"""Redirects a backend allows stay on its origin, and credentials never leave it: real
loopback servers record exactly what each one received."""

from __future__ import annotations

from typing import Any

import pytest

from sff import Backend, Function, Retry, SffError
from tests.wire_servers import Conn, Recorder, always, ok


def redirect_to(location: str, status: str = "302 Found") -> bytes:
    return f"HTTP/1.1 {status}\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode()


def backend(url: str, **kw: Any) -> Backend:
    return Backend(
        "api",
        default=url,
        follow_redirects=True,
        retry=Retry.none(),
        headers={"X-Api-Key": "secret-key"},
        forward_headers=("authorization",),
        **kw,
    )


async def test_a_redirect_on_the_same_origin_is_followed_with_its_headers() -> None:
    async def hop(conn: Conn, request: bytes) -> bool:
        path = request.split(b" ")[1]
        await conn.send(redirect_to("/new") if path == b"/old" else ok(b'{"moved":true}'))
        return True

    async with Recorder(hop) as server:
        fn = Function("f", sources={"a": backend(server.url).get("/old")}, shape="a")
        result = await fn.invoke(headers={"authorization": "Bearer alice"})
    assert result.data == {"moved": True}
    assert [r.split(b" ")[1] for r in server.requests] == [b"/old", b"/new"]
    assert all(b"X-Api-Key: secret-key" in r for r in server.requests)


async def test_a_redirect_to_another_origin_is_refused_and_nothing_reaches_it() -> None:
    async with (
        Recorder(always(ok())) as elsewhere,
        Recorder(always(redirect_to(elsewhere.url + "/steal"))) as server,
    ):
        fn = Function("f", sources={"a": backend(server.url).get("/old")})
        with pytest.raises(SffError) as caught:
            await fn.invoke(headers={"authorization": "Bearer alice"})
    assert caught.value.code == "source_failed"
    assert "redirect to another origin refused" in caught.value.detail["cause"]
    assert elsewhere.received == b""


async def test_a_listed_host_is_followed_without_static_or_forwarded_credentials() -> None:
    async with Recorder(always(ok(b'{"there":1}'))) as elsewhere:
        port = elsewhere.url.rsplit(":", 1)[1]
        target = f"http://localhost:{port}/there"
        async with Recorder(always(redirect_to(target, "307 Temporary Redirect"))) as server:
            api = backend(server.url, redirect_hosts=("LocalHost",))
            fn = Function("f", sources={"a": api.get("/old")}, shape="a")
            result = await fn.invoke(headers={"authorization": "Bearer alice"})
    assert result.data == {"there": 1}
    (sent,) = elsewhere.requests
    assert sent.startswith(b"GET /there HTTP/1.1\r\n")
    assert b"secret-key" not in sent and b"alice" not in sent.lower()
    assert b"x-request-id: " in sent  # the request id is not a credential
    assert b"secret-key" in server.requests[0] and b"Bearer alice" in server.requests[0]


async def test_redirects_are_not_followed_unless_the_backend_allows_them() -> None:
    async with Recorder(always(redirect_to("/new"))) as server:
        plain = Backend("api", default=server.url, retry=Retry.none())
        with pytest.raises(SffError) as caught:
            await Function("f", sources={"a": plain.get("/old")}).invoke()
    assert caught.value.detail["upstream_status"] == 302
    assert len(server.requests) == 1

"""The outbound wire against hostile input and misbehaving servers, over REAL loopback sockets.

Every case asserts both what reached the wire (the recording server keeps the exact bytes
it received) and what the caller got. None of these is a mock.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import struct
import tracemalloc
from typing import Any

import pytest

from sff import Backend, DeclarationError, Fallback, Function, Retry, SffError
from sff.http.client import new_client
from tests.wire_servers import Conn, Recorder, always, ok

MiB = 1024 * 1024


def api(url: str, **kw: Any) -> Backend:
    return Backend("api", default=url, retry=Retry.none(), **kw)


async def failure(fn: Function, input: Any = None, **kw: Any) -> SffError:
    with pytest.raises(SffError) as caught:
        await fn.invoke(input, **kw)
    return caught.value


# -- nothing unsafe leaves ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["a\r\nX-Injected: 1", "a\nX-Injected: 1", "a\rb", "a\x00b", "a\x7fb", "a\x01b"],
)
async def test_a_header_from_the_input_that_would_inject_is_a_400_and_never_sent(
    value: str,
) -> None:
    async with Recorder(always(ok())) as server:
        fn = Function("f", sources={"a": api(server.url).get("/x", headers={"x-n": "input.n"})})
        error = await failure(fn, {"n": value})
    assert error.status == 400 and error.code == "invalid_input"
    assert error.detail == {**error.detail, "source": "a", "field": "header 'x-n'"}
    assert server.received == b""  # not one byte, not even a connection's worth


async def test_a_smuggled_second_request_never_reaches_the_wire() -> None:
    smuggle = "1\r\nContent-Length: 0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\nX-Pad: "
    async with Recorder(always(ok())) as server:
        fn = Function("f", sources={"a": api(server.url).get("/x", headers={"x-n": "input.n"})})
        error = await failure(fn, {"n": smuggle})
    assert error.status == 400
    assert b"/smuggled" not in server.received


async def test_a_forwarded_header_with_crlf_is_a_400_before_any_backend_is_called() -> None:
    async with Recorder(always(ok())) as server:
        backend = api(server.url, forward_headers=("x-user",))
        other = Backend("other", default=server.url)
        fn = Function("f", sources={"a": other.get("/first"), "b": backend.get("/x")})
        error = await failure(fn, headers={"x-user": "bob\r\nX-Admin: 1"})
    assert error.status == 400 and error.detail["source"] == "b"
    assert server.received == b""


async def test_a_request_id_with_crlf_is_a_400() -> None:
    async with Recorder(always(ok())) as server:
        fn = Function("f", sources={"a": api(server.url).get("/x")})
        error = await failure(fn, request_id="r\r\nX-Admin: 1")
    assert error.status == 400 and error.detail["field"] == "header 'x-request-id'"
    assert server.received == b""


async def test_an_idempotency_key_with_crlf_is_a_400() -> None:
    async with Recorder(always(ok())) as server:
        fn = Function("f", sources={"a": api(server.url).post("/x", idempotency_key="input.k")})
        error = await failure(fn, {"k": "k\r\nX-Admin: 1"})
    assert error.status == 400 and error.detail["field"] == "header 'idempotency-key'"
    assert server.received == b""


def test_a_bad_static_header_is_a_declaration_error() -> None:
    with pytest.raises(DeclarationError, match="x-key"):
        Backend("b", default="http://x", headers={"x-key": "k\r\nX-Admin: 1"})
    with pytest.raises(DeclarationError, match="not a valid header name"):
        Backend("b", default="http://x", headers={"x key": "k"})
    with pytest.raises(DeclarationError, match="not a valid header name"):
        Backend("b", default="http://x").get("/x", headers={"bad:name": "input.n"})


async def test_a_lone_surrogate_in_a_query_value_is_a_400_never_a_500() -> None:
    async with Recorder(always(ok())) as server:
        fn = Function("f", sources={"a": api(server.url).get("/x", query={"q": "input.q"})})
        error = await failure(fn, {"q": "\ud800"})
    assert error.status == 400 and error.detail["field"] == "query 'q'"
    assert server.received == b""


async def test_in_resident_mode_every_caller_gets_their_own_answer() -> None:
    async def by_user(conn: Conn, request: bytes) -> bool:
        user = request.split(b" ")[1].rsplit(b"/", 1)[1]
        await conn.send(ok(b'{"user":"%s"}' % user))
        return True

    async with Recorder(by_user) as server:
        backend = api(server.url)
        fn = Function(
            "me",
            sources={"me": backend.get("/users/{input.user}", headers={"x-n": "input.n"})},
            shape="me.user",
        )
        smuggle = "1\r\n\r\nGET /users/alice-smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
        async with new_client() as client:  # one pooled client, as a resident instance keeps
            alice = await failure(fn, {"user": "alice", "n": smuggle}, client=client)
            bob = await fn.invoke({"user": "bob", "n": "1"}, client=client)
            carol = await fn.invoke({"user": "carol", "n": "1"}, client=client)
    assert alice.status == 400
    assert (bob.data, carol.data) == ("bob", "carol")
    assert b"smuggled" not in server.received
    assert [r.split(b" ")[1] for r in server.requests] == [b"/users/bob", b"/users/carol"]


# -- answers paired with the right request ---------------------------------------------------


async def two_calls(reply: Any, method: str = "get") -> tuple[Recorder, list[Any]]:
    async with Recorder(reply) as server:
        fn = Function("f", sources={"a": getattr(api(server.url), method)("/x")}, shape="a")
        async with new_client() as client:
            first = await fn.invoke(client=client)
            await asyncio.sleep(0)  # let stray bytes sent after the answer arrive
            second = await fn.invoke(client=client)
    return server, [first.data, second.data]


async def test_bytes_past_content_length_close_the_connection() -> None:
    server, data = await two_calls(always(ok(b'{"n":1}') + b"HTTP/1.1 200 OK\r\n\r\nEVIL"))
    assert data == [{"n": 1}, {"n": 1}]
    assert len(server.conns) == 2  # the second request went on a fresh connection


async def test_a_408_on_an_idle_connection_is_not_the_next_answer() -> None:
    async def answer_then_408(conn: Conn, request: bytes) -> bool:
        await conn.send(ok(b'{"n":1}'))
        await conn.send(b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n")
        return False

    async with Recorder(answer_then_408) as server:
        fn = Function("f", sources={"a": api(server.url).get("/x")}, shape="a")
        async with new_client() as client:
            first = await fn.invoke(client=client)
            await server.closed.wait()  # the 408 is on the idle socket, then EOF
            second = await fn.invoke(client=client)
    assert (first.data, second.data) == ({"n": 1}, {"n": 1})
    assert len(server.conns) == 2


async def test_a_stray_crlf_after_an_answer_does_not_break_the_next_post() -> None:
    async def crlf_after(conn: Conn, request: bytes) -> bool:
        await conn.send(ok(b'{"n":1}'))
        await conn.send(b"\r\n")
        return True

    server, data = await two_calls(crlf_after, method="post")
    assert data == [{"n": 1}, {"n": 1}]
    assert all(r.startswith(b"POST /x HTTP/1.1\r\n") for r in server.requests)


# -- valid but unusual answers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'HTTP/1.1 200 OK\nContent-Length: 7\n\n{"n":1}', {"n": 1}),  # LF-only
        (ok(b'{"n":1}', "X-Big: " + "v" * 70_000), {"n": 1}),  # a 70 KB head
        (b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b'{"n":1}'), {"n": 1}),
        (b'HTTP/1.0 200 OK\r\n\r\n{"n":1}', {"n": 1}),  # close-delimited
        # llhttp refuses these heads; h11 reads them (RFC 9112 5.2, RFC 9110 8.6)
        (b'HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 7\r\n\r\n{"n":1}', {"n": 1}),
        (b'HTTP/1.1 200 OK\r\nX-A: a\r\n\tb\r\nContent-Length: 7\r\n\r\n{"n":1}', {"n": 1}),
        (b'HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n{"n":1}', {"n": 1}),
        (b'HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\n\r\n{"n":1}', {"n": 1}),
        (
            b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nTransfer-Encoding: chunked\r\n\r\n"
            b'3\r\n{"n\r\n4\r\n":1}\r\n0\r\n\r\n',
            {"n": 1},
        ),
        (b'HTTP/1.0 200 OK\r\nX-A: a\r\n b\r\n\r\n{"n":1}', {"n": 1}),
        (b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b'{"n":1}', "X-A: a\r\n b"), {"n": 1}),
    ],
    ids=[
        "lf-only",
        "70kb-head",
        "100-continue",
        "close-delimited",
        "obs-fold-sp",
        "obs-fold-htab",
        "same-length-twice",
        "same-length-listed",
        "obs-fold-chunked",
        "obs-fold-close-delimited",
        "obs-fold-after-100",
    ],
)
async def test_unusual_but_valid_answers_are_read(raw: bytes, expected: Any) -> None:
    async with Recorder(always(raw, keep=False)) as server:
        fn = Function("f", sources={"a": api(server.url).get("/x")}, shape="a")
        assert (await fn.invoke()).data == expected


async def test_an_answer_read_by_the_h11_fallback_closes_its_connection() -> None:
    folded = ok(b'{"n":1}', "X-A: a\r\n b")
    server, data = await two_calls(always(folded))
    assert data == [{"n": 1}, {"n": 1}]
    assert len(server.conns) == 2  # never reused, though the server kept it open


async def test_the_h11_fallback_keeps_the_caps_and_decoding() -> None:
    body = gzip.compress(b'{"n":"' + b"x" * (2 * MiB) + b'"}')
    raw = ok(body, "Content-Encoding: gzip", "X-A: a\r\n b")
    async with Recorder(always(raw, keep=False)) as server:
        roomy = Function("f", sources={"a": api(server.url).get("/x")}, shape="length(a.n)")
        assert (await roomy.invoke()).data == 2 * MiB
        capped = api(server.url, max_response_bytes=MiB)
        error = await failure(Function("f", sources={"a": capped.get("/x")}))
    assert "over the 1048576-byte cap" in error.detail["cause"]


async def test_a_folded_head_to_a_head_request_has_no_body() -> None:
    raw = b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 7\r\n\r\n"
    async with Recorder(always(raw)) as server:
        fn = Function("f", sources={"a": api(server.url).head("/x")}, shape="a")
        assert (await fn.invoke()).data is None


async def test_a_folded_head_past_the_head_limit_is_refused() -> None:
    raw = ok(b"{}", "X-A: a\r\n " + "v" * 300_000)
    async with Recorder(always(raw, keep=False)) as server:
        error = await failure(Function("f", sources={"a": api(server.url).get("/x")}))
    assert "invalid response: Receive buffer too long" in error.detail["cause"]  # h11's cap


async def test_br_sent_without_being_asked_is_decoded() -> None:
    import brotli

    body = brotli.compress(b'{"n":1}')
    async with Recorder(always(ok(body, "Content-Encoding: br"))) as server:
        fn = Function("f", sources={"a": api(server.url).get("/x")}, shape="a")
        assert (await fn.invoke()).data == {"n": 1}


# -- misbehaving servers: a clean source failure, and its fallback ------------------------------


@pytest.mark.parametrize(
    ("raw", "cause"),
    [
        (b"HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\n{}", "invalid response"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n",
            "invalid response",
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", "invalid"),
        (ok(b"{}", "Content-Encoding: compress"), "unsupported Content-Encoding"),
        (ok(b"not gzip", "Content-Encoding: gzip"), "DecodingError"),
        (ok(b"[NaN]"), "NaN is not JSON"),
        (ok(b"[1e999]"), "1e999 is out of range"),
        (ok(b'{"n":-1.5E+400}'), "-1.5E+400 is out of range"),
        (ok(b"[" + b"9" * 400 + b".0]"), "out of range"),
        (ok(b"[" * 100_000 + b"]" * 100_000), "nested deeper"),
        (b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"n":', "complete message body"),
        (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: ws\r\n\r\n", "invalid response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\n{}", "invalid response"),
        (b"HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 2\r\n\r\n{}", "invalid response"),
        (b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\n{}", "invalid"),
        (b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\x00\r\nContent-Length: 2\r\n\r\n{}", "invalid"),
        (b"HTTP/1.1 200 OK\r\n X-A: a\r\nContent-Length: 2\r\n\r\n{}", "invalid response"),
        (
            b'HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 100\r\n\r\n{"n":',
            "complete message body",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 7\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "invalid response",
        ),
    ],
    ids=[
        "status-2000",
        "chunk-without-crlf",
        "two-lengths",
        "unknown-coding",
        "bad-gzip",
        "nan",
        "overflow",
        "overflow-negative",
        "overflow-digits",
        "deep-json",
        "cut-short",
        "upgrade",
        "differing-lengths-listed",
        "bare-cr-in-value",
        "nul-in-value",
        "nul-in-folded-value",
        "fold-before-any-header",
        "obs-fold-cut-short",
        "lengths-and-chunked",
    ],
)
async def test_a_misbehaving_server_is_a_clean_source_failure_and_fallbacks_apply(
    raw: bytes, cause: str
) -> None:
    async with Recorder(always(raw, keep=False)) as server:
        backend = api(server.url)
        required = Function("f", sources={"a": backend.get("/x")})
        error = await failure(required)
        optional = Function(
            "g", sources={"a": backend.get("/x", fallback=Fallback.value("spare"))}, shape="a"
        )
        rescued = await optional.invoke()
    assert error.code == "source_failed" and cause in error.detail["cause"]
    assert rescued.data == "spare" and rescued.meta.sources["a"].outcome == "degraded"


async def test_a_reset_mid_body_is_a_clean_source_failure() -> None:
    async def reset(conn: Conn, request: bytes) -> bool:
        await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
        sock = conn.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return False  # closing with linger 0 sends a RST

    async with Recorder(reset) as server:
        error = await failure(Function("f", sources={"a": api(server.url).get("/x")}))
    assert error.code == "source_failed"


# -- bounded memory ------------------------------------------------------------------------------


async def peak_while(fn: Function) -> tuple[SffError, int]:
    tracemalloc.start()
    try:
        error = await failure(fn)
        return error, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


async def test_one_huge_chunk_is_cut_at_the_cap_not_buffered() -> None:
    async def huge_chunk(conn: Conn, request: bytes) -> bool:
        size = 32 * MiB
        await conn.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % size)
        piece = b"x" * 65536
        try:
            for _ in range(size // len(piece)):
                await conn.send(piece)
        except ConnectionError:
            pass  # the client stopped reading at its cap and hung up
        return False

    async with Recorder(huge_chunk) as server:
        fn = Function("f", sources={"a": api(server.url, max_response_bytes=MiB).get("/x")})
        error, peak = await peak_while(fn)
    assert "over the 1048576-byte cap" in error.detail["cause"]
    assert peak < 2 * MiB + 2 * MiB  # the cap's worth of body, a read or two, bookkeeping


async def test_a_gzip_bomb_is_cut_at_the_cap_of_decoded_bytes() -> None:
    bomb = gzip.compress(b"\0" * 256 * MiB, compresslevel=9)
    async with Recorder(always(ok(bomb, "Content-Encoding: gzip"), keep=False)) as server:
        fn = Function("f", sources={"a": api(server.url, max_response_bytes=MiB).get("/x")})
        error, peak = await peak_while(fn)
    assert "over the 1048576-byte cap" in error.detail["cause"]
    assert peak < 2 * MiB + len(bomb) * 3 + 2 * MiB  # the bomb itself is in the server's write


async def test_a_close_delimited_body_past_the_cap_is_cut() -> None:
    raw = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * (3 * MiB)
    async with Recorder(always(raw, keep=False)) as server:
        fn = Function("f", sources={"a": api(server.url, max_response_bytes=MiB).get("/x")})
        error = await failure(fn)
    assert "over the 1048576-byte cap" in error.detail["cause"]


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
async def test_nan_in_a_request_body_is_a_400_never_invalid_json_on_the_wire(value: float) -> None:
    async with Recorder(always(ok())) as server:
        fn = Function("f", sources={"a": api(server.url).post("/x", body={"v": "input.v"})})
        error = await failure(fn, {"v": value})
    assert error.status == 400 and error.detail["field"] == "body"
    assert server.received == b""


# -- NaN and Infinity never leave as invalid JSON ----------------------------------------------


async def _nan() -> float:
    return float("nan")


@pytest.mark.parametrize("which", ["call", "fallback"])
async def test_an_answer_holding_nan_or_inf_is_a_clean_502(which: str) -> None:
    from sff import call

    async with Recorder(always(b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n")) as server:
        spare = Fallback.value(float("inf"))
        source = call(_nan) if which == "call" else api(server.url).get("/x", fallback=spare)
        fn = Function("f", sources={"a": source}, shape="{v: a}")
        error = await failure(fn)
        assert error.status == 502 and "NaN or Infinity" in error.message
        assert error.detail["function"] == "f"
        # the same through an adapter: a JSON error body, never `NaN` and never a traceback
        reply = fn.handler({"v": 1}, None)
    assert reply["statusCode"] == 502
    body = json.loads(reply["body"]) if isinstance(reply["body"], str) else reply["body"]
    assert body["error"]["code"] == "contract_mismatch"

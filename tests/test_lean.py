"""The lean send (`sff.http.lean`) over REAL loopback sockets: it puts on the wire exactly what
the httpx path would, and keeps that path's caps, timeouts, keep-alive, retries and errors.

Most other tests mock with respx, which routes requests through httpx; these do not.
"""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import respx

import sff.http.client
from demo.backend import DemoBackend, serve_in_thread
from sff import Backend, Fallback, Function, Retry, SourceError
from sff.cache import MemoryStore
from sff.http.client import new_client
from sff.http.lean import LeanSender, prefix

Answer = Callable[[bytes, int], bytes | None]
"""(request bytes, its number on its connection) -> the reply, or None to hang up."""


def reply(body: bytes = b"{}", status: str = "200 OK", headers: tuple[str, ...] = ()) -> bytes:
    head = [f"HTTP/1.1 {status}", *headers]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def chunked(body: bytes, size: int = 7) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    parts = [b"%x\r\n%b\r\n" % (len(piece), piece) for piece in pieces]
    return b"".join(parts) + b"0\r\n\r\n"


class RawServer:
    """Records the exact bytes of every request; ``answer`` decides each reply."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[bytes] = []
        self.connections = 0
        self.url = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = 0
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                number += 1
                answer = self.answer(request, number)
                if answer is None:
                    return
                writer.write(answer)
                await writer.drain()
                if b"Connection: close" in answer.split(b"\r\n\r\n")[0]:
                    return
        except (asyncio.CancelledError, ConnectionError):
            return  # the test is over, or the client hung up
        finally:
            writer.close()


async def serve(answer: Answer) -> tuple[RawServer, asyncio.Server]:
    raw = RawServer(answer)
    server = await asyncio.start_server(raw.handle, "127.0.0.1", 0)
    raw.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    return raw, server


@pytest.fixture
def lean_sends(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts requests that really went the lean way (by their request target)."""
    sent: list[str] = []
    real = LeanSender.send

    async def spy(self: LeanSender, name: str, request: Any, limit: int) -> Any:
        sent.append(request.target)
        return await real(self, name, request, limit)

    monkeypatch.setattr(LeanSender, "send", spy)
    return sent


@pytest.fixture
def demo() -> Iterator[tuple[DemoBackend, str]]:
    backend = DemoBackend()
    with serve_in_thread(backend=backend) as url:
        yield backend, url


# -- what goes on the wire -----------------------------------------------------------------


def wire_function(url: str) -> Function:
    api = Backend(
        "api",
        default=url + "/base/",
        headers={"X-Api-Key": "k", "Accept": "application/json"},
        forward_headers=("x-forwarded-for", "authorization"),
        retry=Retry.none(),
    )
    return Function(
        "wire",
        sources={
            "plain": api.get("/users/{input.id}"),
            "segment": api.get("/echo/{input.odd}/x"),
            "query": api.get(
                "/q",
                query={
                    "tag": "input.tags",
                    "s": "input.spaced",
                    "u": "input.uni",
                    "n": "input.none",
                    "b": "input.flag",
                    "e": "input.empty",
                },
            ),
            "header": api.get("/h", headers={"x-trace": "input.trace", "x-none": "input.none"}),
            "post": api.post("/todos", body={"title": "input.uni", "tags": "input.tags"}),
            "put": api.put("/todos/1"),
            "delete": api.delete("/todos/1", idempotency_key="input.id"),
        },
    )


WIRE_INPUT = {
    "id": 7,
    "odd": "a/b c?d#e%2F..",
    "tags": ["x y", "z&=", "ü"],
    "spaced": "a b+c",
    "uni": "東京 zoë",
    "none": None,
    "flag": True,
    "empty": "",
    "trace": "t-1",
}


async def test_the_lean_path_sends_byte_for_byte_what_httpx_sends(
    monkeypatch: pytest.MonkeyPatch, lean_sends: list[str]
) -> None:
    raw, server = await serve(lambda request, n: reply(b'{"ok":true}'))
    fn = wire_function(raw.url)
    incoming = {"X-Forwarded-For": "10.0.0.1", "Authorization": "Bearer t", "X-Other": "no"}
    async with server:
        await fn.invoke(WIRE_INPUT, headers=incoming, request_id="rid-1")
        lean = sorted(raw.requests)
        assert len(lean_sends) == len(lean) == 7
        raw.requests.clear()
        monkeypatch.setattr(sff.http.client, "lean_sender", lambda client: None)
        await fn.invoke(WIRE_INPUT, headers=incoming, request_id="rid-1")
        assert len(lean_sends) == 7  # this time all through httpx
        assert sorted(raw.requests) == lean
    wire = b"\n".join(lean)
    assert b"GET /base/echo/a%2Fb%20c%3Fd%23e%252F../x HTTP/1.1" in wire
    assert b"GET /base/q?tag=x+y&tag=z%26%3D&tag=%C3%BC&s=a+b%2Bc&u=" in wire
    assert b"x-request-id: rid-1" in wire and b"X-Forwarded-For" not in wire
    assert b"x-forwarded-for: 10.0.0.1" in wire and b"X-Other" not in wire


async def test_a_dot_segment_in_a_literal_path_is_left_to_httpx(lean_sends: list[str]) -> None:
    raw, server = await serve(lambda request, n: reply())
    api = Backend("api", default=raw.url, retry=Retry.none())
    fn = Function("f", sources={"a": api.get("/a/../b"), "c": api.get("/c d")})
    async with server:
        await fn.invoke()
    assert lean_sends == []  # httpx normalises these: it sends them
    assert sorted(r.split(b" ")[1] for r in raw.requests) == [b"/b", b"/c%20d"]


async def test_identical_gets_in_one_invocation_go_once(lean_sends: list[str]) -> None:
    raw, server = await serve(lambda request, n: reply(b"[1]"))
    api = Backend("api", default=raw.url)
    fn = Function("f", sources={"a": api.get("/x"), "b": api.get("/x")}, shape="[a, b]")
    async with server:
        assert (await fn.invoke()).data == [[1], [1]]
    assert len(raw.requests) == len(lean_sends) == 1


async def test_respx_still_sees_every_request(lean_sends: list[str]) -> None:
    fn = Function("f", sources={"a": Backend("api", default="http://api.test").get("/x")})
    with respx.mock() as router:
        router.get("http://api.test/x").respond(json={"mocked": True})
        assert (await fn.invoke(client=new_client())).data == {"a": {"mocked": True}}
    assert lean_sends == []


# -- answers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        (("Transfer-Encoding: chunked",), chunked(b'{"n": [1, 2, 3], "s": "chunked"}')),
        (("Content-Encoding: gzip",), gzip.compress(b'{"n": [1, 2, 3]}')),
        (("Content-Encoding: deflate",), zlib.compress(b'{"n": [1, 2, 3]}')),
        (("Content-Encoding: deflate",), zlib.compress(b'{"n": [1, 2, 3]}')[2:-4]),  # raw
        (
            ("Content-Encoding: gzip", "Transfer-Encoding: chunked"),
            chunked(gzip.compress(b'{"n": [1, 2, 3]}')),
        ),
    ],
)
async def test_chunked_and_compressed_bodies_are_decoded_and_the_connection_reused(
    lean_sends: list[str], headers: tuple[str, ...], body: bytes
) -> None:
    raw, server = await serve(lambda request, n: reply(body, headers=headers))
    fn = Function("f", sources={"a": Backend("api", default=raw.url).get("/x")}, shape="a.n")
    client = new_client()
    async with server, client:
        for _ in range(3):
            assert (await fn.invoke(client=client)).data in ([1, 2, 3], None)
    assert raw.connections == 1 and len(lean_sends) == 3


async def test_a_body_without_length_ends_with_the_connection(lean_sends: list[str]) -> None:
    raw, server = await serve(lambda request, n: b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n[7]")
    fn = Function("f", sources={"a": Backend("api", default=raw.url).get("/x")}, shape="a")
    client = new_client()
    async with server, client:
        for _ in range(2):
            assert (await fn.invoke(client=client)).data == [7]
    assert raw.connections == 2 and len(lean_sends) == 2


@pytest.mark.parametrize(
    "answer",
    [
        reply(b"[" + b"1," * 600 + b"1]"),  # declared too long
        reply(chunked(b"[" + b"1," * 600 + b"1]", 100), headers=("Transfer-Encoding: chunked",)),
        reply(gzip.compress(b"[" + b"1," * 600 + b"1]"), headers=("Content-Encoding: gzip",)),
    ],
)
async def test_a_body_over_the_cap_fails_the_source(lean_sends: list[str], answer: bytes) -> None:
    raw, server = await serve(lambda request, n: answer)
    api = Backend("api", default=raw.url, max_response_bytes=1000, retry=Retry.none())
    fn = Function("f", sources={"a": api.get("/x")})
    async with server:
        with pytest.raises(SourceError, match="over the 1000-byte cap"):
            await fn.invoke()
    assert lean_sends == ["/x"]


async def test_a_body_that_does_not_decode_is_not_retried(lean_sends: list[str]) -> None:
    raw, server = await serve(lambda r, n: reply(b"not gzip", headers=("Content-Encoding: gzip",)))
    fn = Function("f", sources={"a": Backend("api", default=raw.url).get("/x")})
    async with server:
        with pytest.raises(SourceError, match="GET /x: DecodingError"):
            await fn.invoke()
    assert len(raw.requests) == 1


async def test_a_redirect_is_not_followed_unless_the_backend_allows_it(
    lean_sends: list[str],
) -> None:
    def answer(request: bytes, n: int) -> bytes:
        if request.startswith(b"GET /old "):
            return reply(b"", "302 Found", ("Location: /new",))
        return reply(b'"new"')

    raw, server = await serve(answer)
    strict = Backend("strict", default=raw.url, retry=Retry.none())
    lenient = Backend("lenient", default=raw.url, follow_redirects=True)
    async with server:
        with pytest.raises(SourceError, match="HTTP 302") as caught:
            await Function("f", sources={"a": strict.get("/old")}).invoke()
        assert caught.value.upstream_status == 302 and lean_sends == ["/old"]
        followed = Function("g", sources={"a": lenient.get("/old")}, shape="a")
        assert (await followed.invoke()).data == "new"
    assert lean_sends == ["/old"]  # the followed one went through httpx


# -- connections, failures, retries -------------------------------------------------------


async def test_keep_alive_reuses_connections_across_invocations(
    demo: tuple[DemoBackend, str], lean_sends: list[str]
) -> None:
    backend, url = demo
    api = Backend("demo", default=url, max_connections=5)
    fn = Function("f", sources={f"t{i}": api.get(f"/todos/{i}") for i in range(1, 21)})
    client = new_client(max_connections=5)
    async with client:
        for _ in range(3):
            result = await fn.invoke(client=client)
            assert [result.data[f"t{i}"]["id"] for i in range(1, 21)] == list(range(1, 21))
    assert len(lean_sends) == 60 and backend.connections_opened == 5


async def test_a_connection_closed_while_idle_is_replaced_and_the_get_resent(
    lean_sends: list[str],
) -> None:
    # Each connection answers once; the next request on it finds it closed, unanswered.
    raw, server = await serve(lambda request, n: reply(b"[1]") if n == 1 else None)
    fn = Function("f", sources={"a": Backend("api", default=raw.url, retry=Retry.none()).get("/x")})
    client = new_client()
    async with server, client:
        for _ in range(3):
            result = await fn.invoke(client=client)
            assert result.data == {"a": [1]} and result.meta.sources["a"].attempts == 1
    assert raw.connections == 3 and len(lean_sends) == 3


async def test_a_connection_closed_before_any_answer_is_a_retryable_failure(
    demo: tuple[DemoBackend, str], lean_sends: list[str]
) -> None:
    _, url = demo
    api = Backend("demo", default=url, retry=Retry(retries=1, backoff=0.01))
    fn = Function("f", sources={"a": api.get("/users/1", query={"_close": "`1`"})})
    with pytest.raises(SourceError, match="RemoteProtocolError") as caught:
        await fn.invoke()
    assert "GET /users/1:" in caught.value.message and "_close" not in caught.value.message
    assert len(lean_sends) == 2  # tried again: a transport error is retryable


async def test_a_hanging_backend_times_out(
    demo: tuple[DemoBackend, str], lean_sends: list[str]
) -> None:
    _, url = demo
    api = Backend("demo", default=url, timeout=0.2, retry=Retry.none())
    fn = Function("f", sources={"a": api.get("/users/1", query={"_hang": "`1`"})})
    with pytest.raises(SourceError, match=r"GET /users/1: timed out after 0\.2s"):
        await fn.invoke()
    assert len(lean_sends) == 1


async def test_timeouts_of_different_lengths_each_end_in_their_own_time(
    demo: tuple[DemoBackend, str], lean_sends: list[str]
) -> None:
    """One loop timer serves attempts that end in the order they began; a shorter one
    begun later (out of that order) still ends on time, and a quick answer cancels
    nothing that comes after it."""
    _, url = demo
    slow = Backend("slow", default=url, timeout=0.4, retry=Retry.none())
    fast = Backend("fast", default=url, timeout=0.1, retry=Retry.none())
    hang = {"_hang": "`1`"}
    fn = Function(
        "f",
        input=None,
        sources={
            "a": slow.get("/users/1", query=hang, fallback=Fallback.omit()),
            "b": fast.get("/users/2", query=hang, fallback=Fallback.omit()),
            "c": fast.get("/users/{item}", each="`[3, 4, 5]`"),
            "d": fast.get("/users/{item}", query=hang, each="`[6, 7]`", tolerate=2),
        },
    )
    result = await fn.invoke()
    a, b, d = (result.meta.sources[n] for n in "abd")
    assert a.error is not None and "timed out after 0.4s" in a.error
    assert b.error is not None and "timed out after 0.1s" in b.error
    assert d.item_errors is not None and len(d.item_errors) == 2
    assert all("timed out after 0.1s" in e["cause"] for e in d.item_errors)
    assert a.end_ms is not None and b.end_ms is not None and d.end_ms is not None
    assert b.end_ms < 300 and d.end_ms < 300 <= a.end_ms
    assert [u["id"] for u in result.data["c"]] == [3, 4, 5]


async def test_a_short_timeout_after_a_long_one_that_ended_ends_on_time(
    demo: tuple[DemoBackend, str], lean_sends: list[str]
) -> None:
    """The loop timer stood for the long timeout of an attempt that answered at once; the
    short one begun after it must not wait for that."""
    _, url = demo
    slow = Backend("slow", default=url, timeout=5, retry=Retry.none())
    fast = Backend("fast", default=url, timeout=0.1, retry=Retry.none())
    fn = Function(
        "f",
        sources={
            "quick": slow.get("/users/1"),
            "late": fast.get("/users/{quick.id}", query={"_hang": "`1`"}, fallback=Fallback.omit()),
        },
    )
    result = await fn.invoke()
    late = result.meta.sources["late"]
    assert late.error is not None and "timed out after 0.1s" in late.error
    assert late.end_ms is not None and late.start_ms is not None
    assert late.end_ms - late.start_ms < 1000


async def test_a_503_is_retried_honouring_retry_after(
    demo: tuple[DemoBackend, str], lean_sends: list[str]
) -> None:
    _, url = demo
    api = Backend("demo", default=url, retry=Retry(retries=1, backoff=0))
    query = {"_fail": "`1`", "_key": "'k503'", "_status": "`503`", "_retry_after": "`0.3`"}
    fn = Function("f", sources={"a": api.get("/users/1", query=query)}, shape="a.id")
    result = await fn.invoke()
    assert result.data == 1 and result.meta.sources["a"].attempts == 2
    src = result.meta.sources["a"]
    assert src.end_ms is not None and src.start_ms is not None
    assert src.end_ms - src.start_ms >= 280  # waited as the backend asked
    assert len(lean_sends) == 2


async def test_a_5xx_without_retries_names_the_status_and_excerpt(
    demo: tuple[DemoBackend, str], lean_sends: list[str]
) -> None:
    _, url = demo
    api = Backend("demo", default=url, retry=Retry.none())
    fn = Function("f", sources={"a": api.get("/users/1", query={"_status": "`503`"})})
    with pytest.raises(SourceError, match="GET /users/1: HTTP 503") as caught:
        await fn.invoke()
    assert caught.value.upstream_status == 503 and caught.value.excerpt


async def test_the_fallback_cache_works_for_lean_requests(lean_sends: list[str]) -> None:
    down = False
    raw, server = await serve(lambda r, n: reply(b"", "500 Oops") if down else reply(b"[42]"))
    api = Backend("api", default=raw.url, retry=Retry.none())
    fn = Function("f", sources={"a": api.get("/x", fallback=Fallback.cache())}, shape="a")
    store = MemoryStore()
    async with server:
        assert (await fn.invoke(cache=store)).data == [42]
        down = True
        result = await fn.invoke(cache=store)
    assert result.data == [42] and result.meta.sources["a"].outcome == "degraded"
    assert len(lean_sends) == 2


@pytest.mark.parametrize(
    "base",
    [
        "https://api.test",
        "http://user:pw@api.test",
        "http://api.test/?k=1",
        "http://api.test/a b",
        "http://api.test:abc",
    ],
)
def test_only_a_plain_http_base_url_takes_the_lean_path(base: str) -> None:
    assert prefix(base) is None


def test_the_lean_prefix_is_what_httpx_makes_of_the_base_url() -> None:
    base = prefix("http://API.test:80/v1")
    assert base is not None
    assert (base.origin, base.host, base.url, base.path) == (
        ("api.test", 80),
        b"api.test",
        "http://api.test",
        "/v1",
    )


async def test_every_coding_httpx_asks_for_is_asked_for_and_decoded(
    lean_sends: list[str],
) -> None:
    import brotli
    import zstandard

    coded = {
        b"/br": (brotli.compress(b'{"c":"br"}'), "br"),
        b"/zstd": (zstandard.ZstdCompressor().compress(b'{"c":"zstd"}'), "zstd"),
        b"/gz": (gzip.compress(b'{"c":"gzip"}'), "gzip"),
    }

    def answer(request: bytes, n: int) -> bytes:
        body, coding = coded[request.split(b" ")[1]]
        return reply(body, headers=(f"Content-Encoding: {coding}",))

    raw, server = await serve(answer)
    api = Backend("api", default=raw.url)
    fn = Function(
        "f",
        sources={"br": api.get("/br"), "zstd": api.get("/zstd"), "gz": api.get("/gz")},
        shape="[br.c, zstd.c, gz.c]",
    )
    async with server:
        result = await fn.invoke()
    assert result.data == ["br", "zstd", "gzip"]
    for request in raw.requests:  # what httpx itself asks for, whatever is installed
        assert b"Accept-Encoding: gzip, deflate, br, zstd\r\n" in request
    assert sorted(lean_sends) == ["/br", "/gz", "/zstd"]


async def test_a_base_url_httpx_refuses_fails_the_source_as_before() -> None:
    fn = Function("f", sources={"a": Backend("api", default="http://api.test:abc").get("/x")})
    with pytest.raises(SourceError, match="Invalid port"):
        await fn.invoke()


async def test_one_loop_timer_expires_each_attempt_at_its_own_time() -> None:
    """`Expiry` directly: attempts of equal timeouts begun in turn, some ending early; the
    ones left expire in their order, none before its time, and one begun later with a
    shorter timeout is not held up by the queue."""
    from sff.http.send import Expiry

    loop = asyncio.get_running_loop()
    expiry = Expiry(loop)
    ended: dict[str, float] = {}
    began = loop.time()

    async def attempt(name: str, seconds: float, answer_after: float | None) -> None:
        task = asyncio.current_task()
        assert task is not None
        try:
            with expiry.limit(seconds, task):
                await asyncio.sleep(3600 if answer_after is None else answer_after)
            ended[name] = -(loop.time() - began)  # answered: negative
        except TimeoutError:
            ended[name] = loop.time() - began

    tasks = []
    for i, answer in enumerate([0.01, None, 0.02, None, None]):
        tasks.append(asyncio.ensure_future(attempt(f"e{i}", 0.3, answer)))
        await asyncio.sleep(0.05)
    tasks.append(asyncio.ensure_future(attempt("short", 0.05, None)))  # out of order
    await asyncio.gather(*tasks)
    assert ended["e0"] < 0 and ended["e2"] < 0
    for i in (1, 3, 4):  # begun at i * 50 ms, each 300 ms: never before its own time
        assert 0.05 * i + 0.3 - 0.001 <= ended[f"e{i}"] < 0.05 * i + 0.3 + 0.15
    assert 0.3 - 0.001 <= ended["short"] < 0.3 + 0.15  # began at 250 ms, 50 ms timeout


async def test_an_attempts_limit_turns_only_its_own_cancellation_into_a_timeout() -> None:
    """`Limit` behaves as ``asyncio.timeout``: its expiry ends the block as TimeoutError
    and leaves the task as uncancelled as it found it; a cancellation from elsewhere
    (the caller's, an outer timeout's) stays a cancellation."""
    from sff.http.send import Expiry

    loop = asyncio.get_running_loop()
    expiry = Expiry(loop)

    async def limited(seconds: float, wait: float) -> str:
        task = asyncio.current_task()
        assert task is not None
        try:
            with expiry.limit(seconds, task):
                await asyncio.sleep(wait)
        except TimeoutError:
            return f"timed out, cancelling {task.cancelling()}"
        return "answered"

    assert await limited(0.05, 0.01) == "answered"
    assert await limited(0.01, 5) == "timed out, cancelling 0"

    outer = asyncio.ensure_future(limited(5, 5))  # the caller cancels it: not a timeout
    await asyncio.sleep(0.02)
    outer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outer

    with pytest.raises(TimeoutError):  # an outer, shorter timeout is the outer's own
        async with asyncio.timeout(0.02) as around:
            await limited(5, 5)
    assert around.expired()

    both = asyncio.ensure_future(limited(0, 5))  # cancelled from outside, then expired
    await asyncio.sleep(0)  # it entered its limit, due at the loop's next turn
    both.cancel()
    with pytest.raises(asyncio.CancelledError):
        await both

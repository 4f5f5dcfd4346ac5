"""Traces with the semantic conventions, captured by the SDK's in-memory exporter, for
invocations over real loopback HTTP: a retry, a cache fallback, a cold start, trace context
in and out, a nested call, bad trace context ignored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from sff import Backend, Fallback, Function, Retry, call, tracing
from sff.cache import MemoryStore
from sff.otel import spans as otel_spans
from sff.otel.spans import Tracing
from tests.scripted_http import Reply, Script, serve

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use(Tracing(provider))
    otel_spans._cold[0] = True
    try:
        yield exporter
    finally:
        tracing.reset()


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def base(script: Script) -> Iterator[str]:
    with serve(script) as url:
        yield url


def dashboard(base: str) -> Function:
    users = Backend("users", default=base, retry=Retry(retries=2, backoff=0.001))
    todos = Backend("todos", default=base, retry=Retry.none())
    return Function(
        "dashboard",
        sources={
            "user": users.get("/users/{input.user_id}"),
            "todos": todos.get("/todos", fallback=Fallback.cache(max_stale="1h")),
        },
        shape="{name: user.name, todos: todos}",
    )


def by_kind(spans: tuple[ReadableSpan, ...], kind: SpanKind) -> list[ReadableSpan]:
    return [s for s in spans if s.kind == kind]


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


async def test_dashboard_with_retry_fallback_and_cold_start(
    exported: InMemorySpanExporter, script: Script, base: str
) -> None:
    store = MemoryStore()
    fn = dashboard(base)
    script.on("/users/1", Reply(503, b'{"busy": 1}'), Reply(200, b'{"name": "Ada"}'))
    script.on("/todos", Reply(200, b"[1, 2]"), Reply(500, b'{"down": 1}'))
    first = await fn.invoke({"user_id": 1}, headers={}, cache=store, request_id="req-1")
    assert first.data == {"name": "Ada", "todos": [1, 2]}
    exported.clear()
    second = await fn.invoke({"user_id": 1}, headers={}, cache=store, request_id="req-2")
    assert second.meta.degraded == ["todos"]

    spans = exported.get_finished_spans()
    (server,) = by_kind(spans, SpanKind.SERVER)
    assert server.name == "GET /dashboard"
    a = attrs(server)
    assert a["faas.trigger"] == "http"
    assert a["faas.invocation_id"] == "req-2"
    assert a["faas.coldstart"] is False  # the first invocation was the cold one
    assert a["faas.name"] == "dashboard"
    assert a["http.response.status_code"] == 200
    assert a["http.route"] == "/dashboard"
    clients = sorted(by_kind(spans, SpanKind.CLIENT), key=lambda s: s.start_time or 0)
    assert [c.name for c in clients] == ["GET /todos", "GET /users/{input.user_id}"] or [
        c.name for c in clients
    ] == ["GET /users/{input.user_id}", "GET /todos"]
    todo = next(c for c in clients if c.name == "GET /todos")
    t = attrs(todo)
    assert t["http.request.method"] == "GET"
    assert t["url.template"] == "/todos"
    assert t["server.address"] == "127.0.0.1"
    assert t["server.port"] == int(base.rsplit(":", 1)[1])
    assert t["http.response.status_code"] == 500
    assert t["error.type"] == "500"
    assert "http.request.resend_count" not in t
    assert todo.status.status_code == StatusCode.ERROR
    for c in clients:
        assert c.parent is not None and c.parent.span_id == server.context.span_id
        assert "url.full" not in attrs(c)
    (fallback,) = [e for e in server.events if e.name == "sff.fallback"]
    f = dict(fallback.attributes or {})
    assert f["sff.source"] == "todos"
    assert f["sff.outcome"] == "degraded"
    assert f["sff.reason"] == "cache"
    assert isinstance(f["sff.stale_s"], float) and f["sff.stale_s"] >= 0
    (shape,) = [s for s in by_kind(spans, SpanKind.INTERNAL) if s.name == "shape"]
    assert shape.parent is not None and shape.parent.span_id == server.context.span_id


async def test_a_retry_is_one_client_span_per_attempt_with_the_resend_count(
    exported: InMemorySpanExporter, script: Script, base: str
) -> None:
    fn = dashboard(base)
    script.on("/users/1", Reply(503, b"{}"), Reply(200, b'{"name": "Ada"}'))
    script.on("/todos", Reply(200, b"[]"))
    result = await fn.invoke({"user_id": 1}, headers={}, request_id="r")
    assert result.meta.sources["user"].attempts == 2
    spans = exported.get_finished_spans()
    (server,) = by_kind(spans, SpanKind.SERVER)
    assert attrs(server)["faas.coldstart"] is True
    users = sorted(
        (c for c in by_kind(spans, SpanKind.CLIENT) if c.name == "GET /users/{input.user_id}"),
        key=lambda s: s.start_time or 0,
    )
    assert [attrs(u).get("http.request.resend_count") for u in users] == [None, 1]
    assert [attrs(u)["http.response.status_code"] for u in users] == [503, 200]
    assert attrs(users[0])["error.type"] == "503"
    assert "error.type" not in attrs(users[1])
    # each attempt carried its own span's context to the backend
    sent = [s.headers["traceparent"] for s in script.seen if s.path == "/users/1"]
    for header, span in zip(sent, users, strict=True):
        _version, trace_id, parent_id, _flags = header.split("-")
        assert trace_id == f"{span.context.trace_id:032x}"
        assert parent_id == f"{span.context.span_id:016x}"


async def test_incoming_traceparent_is_continued_and_tracestate_passed_on(
    exported: InMemorySpanExporter, script: Script, base: str
) -> None:
    fn = dashboard(base)
    script.on("/users/1", Reply(200, b'{"name": "Ada"}'))
    script.on("/todos", Reply(200, b"[]"))
    incoming = {"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01", "tracestate": "vendor=abc"}
    await fn.invoke({"user_id": 1}, headers=incoming)
    (server,) = by_kind(exported.get_finished_spans(), SpanKind.SERVER)
    assert f"{server.context.trace_id:032x}" == TRACE_ID
    assert server.parent is not None and f"{server.parent.span_id:016x}" == PARENT_ID
    assert server.parent.is_remote
    for seen in script.seen:
        assert seen.headers["traceparent"].split("-")[1] == TRACE_ID
        assert seen.headers["tracestate"] == "vendor=abc"


@pytest.mark.parametrize(
    "bad",
    [
        "garbage",
        f"00-{'0' * 32}-{PARENT_ID}-01",  # an all-zero trace id is invalid
        f"00-{TRACE_ID}-{PARENT_ID}",
        f"zz-{TRACE_ID}-{PARENT_ID}-01",
        "00-" + "x" * 32 + f"-{PARENT_ID}-01",
    ],
)
async def test_a_malformed_traceparent_is_ignored(
    exported: InMemorySpanExporter, script: Script, base: str, bad: str
) -> None:
    fn = dashboard(base)
    script.on("/users/1", Reply(200, b'{"name": "Ada"}'))
    script.on("/todos", Reply(200, b"[]"))
    result = await fn.invoke({"user_id": 1}, headers={"traceparent": bad})
    assert result.data == {"name": "Ada", "todos": []}
    (server,) = by_kind(exported.get_finished_spans(), SpanKind.SERVER)
    assert server.parent is None  # a new trace, not an error
    assert f"{server.context.trace_id:032x}" != TRACE_ID


async def test_a_call_source_continues_the_trace(
    exported: InMemorySpanExporter, script: Script, base: str
) -> None:
    inner = dashboard(base)
    outer = Function("page", sources={"board": call(inner, {"user_id": "input.id"})})
    script.on("/users/7", Reply(200, b'{"name": "Bo"}'))
    script.on("/todos", Reply(200, b"[]"))
    await outer.invoke({"id": 7}, headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"})
    spans = exported.get_finished_spans()
    (server,) = by_kind(spans, SpanKind.SERVER)
    assert server.name == "GET /page"
    nested = next(s for s in spans if s.name == "dashboard")
    assert nested.kind == SpanKind.INTERNAL
    assert nested.parent is not None and nested.parent.span_id == server.context.span_id
    assert {f"{s.context.trace_id:032x}" for s in spans} == {TRACE_ID}
    assert all(s.headers["traceparent"].split("-")[1] == TRACE_ID for s in script.seen)


async def test_a_failed_invocation_marks_its_span_with_the_error(
    exported: InMemorySpanExporter, script: Script, base: str
) -> None:
    fn = dashboard(base)
    script.on("/users/1", Reply(404, b'{"nope": 1}'))
    script.on("/todos", Reply(200, b"[]"))
    with pytest.raises(Exception) as caught:
        await fn.invoke({"user_id": 1})
    assert getattr(caught.value, "status", None) == 502
    (server,) = by_kind(exported.get_finished_spans(), SpanKind.SERVER)
    a = attrs(server)
    assert a["faas.trigger"] == "other"  # invoked directly, not over HTTP
    assert a["http.response.status_code"] == 502
    assert a["error.type"] == "source_failed"
    assert server.status.status_code == StatusCode.ERROR


async def test_a_fresh_cache_hit_is_an_event_and_sends_nothing(
    exported: InMemorySpanExporter, script: Script, base: str
) -> None:
    todos = Backend("todos", default=base)
    fn = Function(
        "list", sources={"todos": todos.get("/todos", fallback=Fallback.cache(fresh="1h"))}
    )
    script.on("/todos", Reply(200, b"[1]"))
    store = MemoryStore()
    await fn.invoke(cache=store)
    exported.clear()
    await fn.invoke(cache=store)
    spans = exported.get_finished_spans()
    assert by_kind(spans, SpanKind.CLIENT) == []
    (server,) = by_kind(spans, SpanKind.SERVER)
    (hit,) = [e for e in server.events if e.name == "sff.cache"]
    assert dict(hit.attributes or {}) == {"sff.source": "todos", "sff.outcome": "fresh"}


async def test_the_sff_serve_worker_continues_the_incoming_trace(
    exported: InMemorySpanExporter, script: Script, base: str
) -> None:
    from sff.serve.worker import invoke as worker_invoke

    script.on("/users/1", Reply(200, b'{"name": "Ada"}'))
    script.on("/todos", Reply(200, b"[]"))
    call = {
        "input": {"user_id": 1},
        "headers": {"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"},
        "request_id": "serve-1",
    }
    reply = await worker_invoke(dashboard(base), call, None)  # type: ignore[arg-type]
    assert reply["status"] == 200
    (server,) = by_kind(exported.get_finished_spans(), SpanKind.SERVER)
    assert f"{server.context.trace_id:032x}" == TRACE_ID
    assert attrs(server)["faas.invocation_id"] == "serve-1"


async def test_a_refused_connection_names_the_transport_error(
    exported: InMemorySpanExporter,
) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on any more
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    api = Backend("api", default=f"http://127.0.0.1:{port}", retry=Retry.none())
    fn = Function("gone", sources={"x": api.get("/x", fallback=Fallback.value(None))})
    await fn.invoke()
    (client,) = by_kind(exported.get_finished_spans(), SpanKind.CLIENT)
    assert attrs(client)["error.type"] == "ConnectError"
    assert "http.response.status_code" not in attrs(client)
    assert client.status.status_code == StatusCode.ERROR


class CountingFlush(Tracing):
    def __init__(self, provider: TracerProvider) -> None:
        super().__init__(provider)
        self.bounds: list[float] = []

    async def flush(self, within: float) -> None:
        self.bounds.append(within)
        await super().flush(within)


async def test_use_and_destroy_flushes_within_a_small_bound_and_resident_batches(
    script: Script, base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    counting = CountingFlush(TracerProvider())
    tracing.use(counting)
    try:
        fn = dashboard(base)
        script.on("/users/1", Reply(200, b'{"name": "Ada"}'))
        script.on("/todos", Reply(200, b"[]"))
        await fn.invoke({"user_id": 1})  # use-and-destroy: its own client
        assert counting.bounds == [otel_spans.FLUSH_SLICE_S]  # never more than the slice
        monkeypatch.setenv("SFF_OTEL_FLUSH_MS", "60000")
        await fn.invoke({"user_id": 1}, timeout=3)  # the platform says 3 s are left
        assert 0 < counting.bounds[1] <= 3  # never past the platform's time left
        async with httpx.AsyncClient() as lent:  # resident: the batch processor exports
            await fn.invoke({"user_id": 1}, client=lent)
        assert len(counting.bounds) == 2
    finally:
        tracing.reset()

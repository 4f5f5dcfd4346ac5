"""End to end: the real OTLP/HTTP exporter, configured from OTEL_* variables, sends to a
receiver on loopback that decodes the protobuf it gets (opentelemetry-proto). A Lambda
event with a traceparent, a retry, a cache fallback and a cold start; then a collector
that is down or hangs, which must neither fail nor hold the answer."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from sff import Backend, Fallback, Function, Retry, tracing
from sff.adapters import runtime
from sff.cache import open_store
from sff.otel import setup
from sff.otel import spans as otel_spans
from sff.otel.spans import Tracing
from tests.scripted_http import Reply, Script, Seen, serve

EVENTS = Path(__file__).parent / "events"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


class LambdaContext:
    aws_request_id = "lambda-req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 3000


class Collector:
    """Decodes every ExportTraceServiceRequest; may hold a request until released."""

    def __init__(self, hold: bool = False) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        self.hold = hold
        self.release = threading.Event()
        self.arrived = threading.Event()

    def __call__(self, seen: Seen) -> Reply:
        assert seen.method == "POST" and seen.path == "/v1/traces"
        assert seen.headers["content-type"] == "application/x-protobuf"
        self.requests.append(ExportTraceServiceRequest.FromString(seen.body))
        self.arrived.set()
        if self.hold:
            self.release.wait(10)
        body = ExportTraceServiceResponse().SerializeToString()
        return Reply(200, body, {"content-type": "application/x-protobuf"})

    def spans(self) -> list[Span]:
        return [
            s
            for r in self.requests
            for rs in r.resource_spans
            for ss in rs.scope_spans
            for s in ss.spans
        ]

    def resource(self) -> dict[str, Any]:
        return values(self.requests[0].resource_spans[0].resource.attributes)


def value(v: AnyValue) -> Any:
    return getattr(v, v.WhichOneof("value") or "string_value")


def values(kvs: Any) -> dict[str, Any]:
    return {kv.key: value(kv.value) for kv in kvs if isinstance(kv, KeyValue)}


@pytest.fixture(autouse=True)
def clean() -> Iterator[None]:
    otel_spans._cold[0] = True
    yield
    current = tracing.active() if tracing._state else None
    if current is not None:
        current.provider.shutdown()
    tracing.reset()
    runtime.stop()


def traced_from_env(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "todo-bff")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "todo-dashboard")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
    assert tracing.wanted()
    # the provider sff builds from the environment, without making it the process global
    tracing.use(Tracing(setup.own_provider()))  # type: ignore[arg-type]


def lambda_event(traceparent: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "aws_apiGatewayProxyV2Event_GET.json").read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/dashboard"
    event["rawQueryString"] = "user_id=1"
    event["headers"] = {"traceparent": traceparent}
    return event


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


def test_spans_exported_over_otlp_http_carry_the_conventions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    collector, backend = Script(), Script()
    receiver = Collector()
    collector.on("/v1/traces", receiver)
    ok = Reply(200, b'{"name": "Ada"}')
    backend.on("/users/1", ok, Reply(503, b"{}"), ok)
    backend.on("/todos", Reply(200, b"[9]"), Reply(500, b"{}"))
    cache_file = str(tmp_path / "cache.sqlite3")
    with serve(collector) as otlp, serve(backend) as base:
        fn = dashboard(base)
        # another instance, untraced, left a last good copy of /todos in the shared file
        assert fn.run({"user_id": 1}, cache=open_store(cache_file)).data["todos"] == [9]
        backend.seen.clear()
        monkeypatch.setenv("SFF_CACHE_URL", cache_file)
        # a generous bound, so a busy machine cannot make the export miss it (the bound
        # itself is the next test's subject)
        monkeypatch.setenv("SFF_OTEL_FLUSH_MS", "5000")
        traced_from_env(monkeypatch, otlp)
        answer = fn.handler(lambda_event(f"00-{TRACE_ID}-{PARENT_ID}-01"), LambdaContext())
        assert answer["statusCode"] == 200, answer
        assert json.loads(answer["body"]) == {"name": "Ada", "todos": [9]}
        # flushed before the handler answered: the spans are at the receiver already
        assert receiver.requests, "nothing was exported before the answer"
        spans = receiver.spans()

    resource = receiver.resource()
    assert resource["service.name"] == "todo-bff"
    (server,) = [s for s in spans if s.kind == Span.SPAN_KIND_SERVER]
    assert server.trace_id.hex() == TRACE_ID
    assert server.parent_span_id.hex() == PARENT_ID
    a = values(server.attributes)
    assert a["faas.trigger"] == "http"
    assert a["faas.invocation_id"] == "lambda-req-1"
    assert a["faas.coldstart"] is True
    assert a["faas.name"] == "todo-dashboard"
    assert a["faas.max_memory"] == 512 * 1024 * 1024
    assert a["cloud.provider"] == "aws"
    assert a["cloud.platform"] == "aws_lambda"
    assert a["cloud.region"] == "eu-west-1"
    assert a["http.response.status_code"] == 200
    assert a["sff.function"] == "dashboard"
    fallback = [e for e in server.events if e.name == "sff.fallback"]
    assert values(fallback[0].attributes)["sff.source"] == "todos"
    assert values(fallback[0].attributes)["sff.reason"] == "cache"
    clients = [s for s in spans if s.kind == Span.SPAN_KIND_CLIENT]
    users = sorted(
        (c for c in clients if c.name == "GET /users/{input.user_id}"),
        key=lambda c: c.start_time_unix_nano,
    )
    assert [values(u.attributes).get("http.request.resend_count") for u in users] == [None, 1]
    assert [values(u.attributes)["http.response.status_code"] for u in users] == [503, 200]
    assert values(users[0].attributes)["error.type"] == "503"
    assert users[0].status.code == Status.STATUS_CODE_ERROR
    for c in clients:
        assert c.trace_id.hex() == TRACE_ID
        assert c.parent_span_id == server.span_id
        assert values(c.attributes)["server.address"] == "127.0.0.1"
    seen = [s.headers["traceparent"] for s in backend.seen]
    assert {h.split("-")[2] for h in seen} == {c.span_id.hex() for c in clients}


@pytest.mark.parametrize("collector_state", ["down", "hanging"])
def test_a_collector_down_or_hanging_neither_fails_nor_holds_the_answer(
    monkeypatch: pytest.MonkeyPatch, collector_state: str
) -> None:
    backend = Script()
    backend.on("/users/1", Reply(200, b'{"name": "Ada"}'))
    backend.on("/todos", Reply(200, b"[]"))
    collector = Script()
    receiver = Collector(hold=True)
    collector.on("/v1/traces", receiver)
    with serve(collector) as otlp, serve(backend) as base:
        if collector_state == "down":
            with socket.socket() as s:  # a port nobody listens on any more
                s.bind(("127.0.0.1", 0))
                otlp = f"http://127.0.0.1:{s.getsockname()[1]}"
        traced_from_env(monkeypatch, otlp)
        answer = dashboard(base).handler(lambda_event("not-a-traceparent"), LambdaContext())
        assert answer["statusCode"] == 200, answer
        assert json.loads(answer["body"]) == {"name": "Ada", "todos": []}
        if collector_state == "hanging":
            # the export reached the collector, which still holds it: the answer did not wait
            assert receiver.arrived.wait(10)
            assert not receiver.release.is_set()
        receiver.release.set()

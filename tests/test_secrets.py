"""No secret reaches a caller or a log: a REAL loopback backend echoes every secret sff
attached (static headers, forwarded tokens, query keys) in its error bodies and response
headers, and we look for them in the 502 body, meta, `sff invoke`, the waterfall and
every log record at DEBUG, through each way sff sends a request."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sff import Backend, Function, Retry, call
from sff.adapters.asgi import app
from sff.cli import invoke as cli_invoke
from sff.errors import InputError, SourceError
from sff.secrets import REDACTED, is_secret, redact, scope
from tests.echo_server import EchoServer, echo_server

STATIC_KEY = "static-key-9f3a"
STATIC_AUTH = "static-auth-77c1"
TENANT = "tenant-val-31ab"
QUERY_KEY = "query-key-5b2e"
SIG = "sig-value-1234"
USER_TOKEN = "user-token-8d4e"
SECRETS = (STATIC_KEY, STATIC_AUTH, TENANT, QUERY_KEY, SIG, USER_TOKEN)


def leaked(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


@pytest.fixture(scope="module")
def server() -> Iterator[EchoServer]:
    with echo_server() as running:
        yield running


def backend(url: str, **extra: Any) -> Backend:
    return Backend(
        "echo",
        default=url,
        retry=Retry.none(),
        headers={
            "x-api-key": STATIC_KEY,
            "authorization": f"Bearer {STATIC_AUTH}",
            "x-tenant": TENANT,
        },
        secret_headers=("x-tenant",),
        secret_query=("sig",),
        forward_headers=("x-user-token",),
        **extra,
    )


def echoing(url: str, path: str, **extra: Any) -> Function:
    source = backend(url, **extra).get(
        path, query={"api_key": "input.key", "sig": f"'{SIG}'", "page": "`1`"}
    )
    return Function("leaky", sources={"echo": source}, route="/leaky")


INPUT = {"key": QUERY_KEY}
HEADERS = {"x-user-token": USER_TOKEN}
PATHS = ["/status/400", "/status/503", "/text"]
WAYS = ["lean", "httpx", "caller's client"]


async def failed(fn: Function, way: str) -> SourceError:
    client = httpx.AsyncClient() if way == "caller's client" else None
    try:
        with pytest.raises(SourceError) as caught:
            await fn.invoke(INPUT, headers=HEADERS, client=client)
    finally:
        if client is not None:
            await client.aclose()
    return caught.value


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "sff"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def logged(caplog: pytest.LogCaptureFixture) -> str:
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    lines = [handler.format(record) for record in caplog.records]
    return "\n".join(lines) + caplog.text


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("path", PATHS)
async def test_an_echoing_backend_leaks_nothing_into_the_error_meta_or_logs(
    server: EchoServer, path: str, way: str, debug_logs: pytest.LogCaptureFixture
) -> None:
    fn = echoing(server.url, path, follow_redirects=way == "httpx")
    error = await failed(fn, way)
    body = json.dumps(error.to_dict())
    assert "excerpt" not in error.to_dict()["error"]  # the backend's words stay out
    assert error.upstream_status == (200 if path == "/text" else int(path[-3:]))
    assert not leaked(body)
    meta = json.dumps(error.meta.to_dict())
    assert not leaked(meta)
    assert REDACTED in (error.meta.sources["echo"].excerpt or "")  # kept, but scrubbed
    records = logged(debug_logs)
    assert debug_logs.records, "nothing was logged, so nothing was proved"
    assert not leaked(records), records
    if way != "lean":  # the HTTP libraries did log this request, scrubbed
        assert "HTTP Request: GET" in records and "api_key=[redacted]" in records


async def test_the_http_answer_carries_the_status_and_cause_but_no_secret(
    server: EchoServer, debug_logs: pytest.LogCaptureFixture
) -> None:
    application = app(echoing(server.url, "/status/503"))
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://sff.test") as client:
        answer = await client.get("/leaky", params=INPUT, headers=HEADERS)
    await application.shutdown()
    assert answer.status_code == 502
    error = answer.json()["error"]
    assert error["upstream_status"] == 503 and "HTTP 503" in error["cause"]
    assert not leaked(answer.text) and not leaked(str(answer.headers))
    assert not leaked(logged(debug_logs))


async def test_a_function_may_opt_in_to_the_excerpt_which_is_still_redacted(
    server: EchoServer,
) -> None:
    fn = echoing(server.url, "/status/400")
    fn.show_backend_errors = True
    error = await failed(fn, "lean")
    excerpt = error.to_dict()["error"]["excerpt"]
    assert "/status/400" in excerpt and REDACTED in excerpt and not leaked(excerpt)


def test_sff_invoke_and_its_waterfall_print_no_secret(server: EchoServer) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = cli_invoke(
        echoing(server.url, "/status/503"), INPUT, HEADERS, meta=True, out=out, err=err
    )
    assert code == 1
    assert "HTTP 503" in out.getvalue()
    assert not leaked(out.getvalue() + err.getvalue())


async def test_a_call_exception_reaches_the_caller_as_its_type_only(
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    async def connect() -> None:
        raise ConnectionError(
            f"postgres://admin:{STATIC_KEY}@db.internal/app refused; password={SIG}"
        )

    fn = Function("sdk", sources={"db": call(connect)})
    with pytest.raises(SourceError) as caught:
        await fn.invoke()
    assert caught.value.cause == "ConnectionError raised (the log has its text)"
    records = logged(debug_logs)
    assert "postgres://admin:[redacted]@db.internal/app refused" in records  # full, redacted
    assert not leaked(records + json.dumps(caught.value.to_dict()))


def test_names_secret_without_being_told() -> None:
    for name in (
        "Authorization",
        "Cookie",
        "Set-Cookie",
        "Proxy-Authorization",
        "x-api-key",
        "access_token",
        "X-Session-Id",
        "client_secret",
        "password",
    ):
        assert is_secret(name), name
    for name in ("accept-language", "user_id", "page", "x-request-id"):
        assert not is_secret(name), name
    assert is_secret("sig", ("sig",))


def test_redact_removes_noted_values_and_what_looks_like_a_secret() -> None:
    with scope({"authorization": "Bearer abc.def.ghi", "x-user": "carol"}) as here:
        here.note("opaque-value-1")
        text = redact("got Bearer abc.def.ghi and abc.def.ghi and opaque-value-1 for carol")
    assert "abc.def.ghi" not in text and "opaque-value-1" not in text
    assert "carol" in text  # not a secret: names stay readable
    assert redact("GET /x?api_key=k1k1k1&page=2") == "GET /x?api_key=[redacted]&page=2"
    assert redact("redis://user:hunter22@cache:6379/0") == "redis://user:[redacted]@cache:6379/0"
    assert redact("(b'set-cookie', b'sid=zzzz')") == "(b'set-cookie', b'[redacted]')"
    assert redact('{"token": "tttt"}') == '{"token": "[redacted]"}'


async def test_a_templated_header_cannot_smuggle_another_header(server: EchoServer) -> None:
    api = Backend("echo", default=server.url)
    fn = Function("f", sources={"x": api.get("/ok", headers={"x-v": "input.v"})})
    # the input's mistake: a 400 naming the source and the header, before any call
    with pytest.raises(InputError, match=r"header 'x-v' .* contains CR or LF"):
        await fn.invoke({"v": "a\r\nx-evil: 1"})


def test_an_expression_in_an_error_is_shown_as_written_while_secrets_are_not() -> None:
    from sff.expr import EvaluationError

    error = EvaluationError(
        "function 'f', shape: expression `{token: user.token}` failed: got password=pw-1234",
        function="f",
        where="shape",
        expression="{token: user.token}",
    )
    assert "`{token: user.token}`" in error.message and "pw-1234" not in error.message
    assert error.detail["expression"] == "{token: user.token}"

"""The ASGI app: routing by method + route, lifespan, limits; and once under real uvicorn."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import respx
from pydantic import BaseModel

from sff import Backend, Function
from sff.adapters import _settings
from sff.adapters.asgi import App, app

BASE = "http://users.test"
users = Backend("users", default=BASE, forward_headers=("authorization",))


class UserQuery(BaseModel):
    user_id: int
    verbose: bool = False


user = Function(
    "user",
    input=UserQuery,
    route="/users/{user_id}",
    sources={"user": users.get("/users/{input.user_id}")},
    shape="{id: user.id, verbose: input.verbose}",
)
note = Function(
    "note",
    method="POST",
    sources={"saved": users.post("/notes", body="input")},
    shape="saved",
)


@pytest.fixture(autouse=True)
def clean_settings() -> Iterator[None]:
    yield
    _settings.reset()


@pytest.fixture
def backend() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.get("/users/7").respond(json={"id": 7})
        mock.post("/notes").mock(side_effect=lambda r: httpx.Response(201, content=r.content))
        yield mock


@pytest.fixture
async def served() -> AsyncIterator[tuple[App, httpx.AsyncClient]]:
    application = app(user, note)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://sff.test") as client:
        yield application, client
    await application.shutdown()


async def test_path_and_query_become_the_input_and_headers_reach_listed_backends(
    served: tuple[App, httpx.AsyncClient], backend: respx.MockRouter
) -> None:
    _, client = served
    response = await client.get(
        "/users/7?verbose=true", headers={"authorization": "Bearer t", "x-request-id": "abc-1"}
    )

    assert response.status_code == 200
    assert response.json() == {"id": 7, "verbose": True}
    assert response.headers["x-request-id"] == "abc-1"
    sent = backend.calls.last.request
    assert sent.headers["authorization"] == "Bearer t"
    assert sent.headers["x-request-id"] == "abc-1"


async def test_post_body_is_the_input(
    served: tuple[App, httpx.AsyncClient], backend: respx.MockRouter
) -> None:
    _, client = served
    response = await client.post("/note", json={"text": "hi"})

    assert response.status_code == 200
    assert response.json() == {"text": "hi"}


async def test_unknown_path_is_a_404_listing_the_routes(
    served: tuple[App, httpx.AsyncClient],
) -> None:
    _, client = served
    response = await client.get("/nope")

    assert response.status_code == 404
    assert response.json()["error"]["routes"] == ["GET /users/{user_id}", "POST /note"]


async def test_wrong_method_is_a_405_with_allow(served: tuple[App, httpx.AsyncClient]) -> None:
    _, client = served
    response = await client.delete("/users/7")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, OPTIONS"


async def test_oversize_body_is_a_413(served: tuple[App, httpx.AsyncClient]) -> None:
    _settings.configure(max_body_bytes=100)
    _, client = served
    response = await client.post("/note", content=b"{" + b" " * 200 + b"}")

    assert response.status_code == 413


async def test_header_with_a_newline_is_a_400(served: tuple[App, httpx.AsyncClient]) -> None:
    application, _ = served
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/users/7",
        "query_string": b"",
        "headers": [(b"x-note", b"a\nb")],
    }
    await application(scope, receive, send)

    assert sent[0]["status"] == 400


async def test_preflight_is_answered_for_an_allowed_origin(
    served: tuple[App, httpx.AsyncClient],
) -> None:
    _settings.configure(cors_origins=["https://app.example"])
    _, client = served
    response = await client.options(
        "/note",
        headers={"origin": "https://app.example", "access-control-request-method": "POST"},
    )

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    assert response.headers["access-control-allow-methods"] == "POST, OPTIONS"


async def test_lifespan_opens_and_closes_the_shared_client_in_resident_mode() -> None:
    application = app(user)
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []
    clients: list[httpx.AsyncClient | None] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: Any) -> None:
        sent.append(message["type"])
        clients.append(application.client)

    await application({"type": "lifespan"}, receive, send)

    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    opened = clients[0]
    assert opened is not None and opened.is_closed
    assert application.client is None


async def test_resident_app_serves_every_request_with_one_client(
    served: tuple[App, httpx.AsyncClient], backend: respx.MockRouter
) -> None:
    application, client = served
    await client.get("/users/7")
    first = application.client
    await client.get("/users/7")

    assert first is not None and application.client is first


async def test_use_and_destroy_app_keeps_no_client(backend: respx.MockRouter) -> None:
    application = app(user, resident=False)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://sff.test") as client:
        response = await client.get("/users/7")

    assert response.status_code == 200
    assert application.client is None


def test_two_functions_on_one_route_are_refused() -> None:
    with pytest.raises(ValueError, match="GET /user"):
        app(Function("user", shape="`1`"), Function("user", shape="`2`"))


# --- under a real uvicorn process ---------------------------------------------------


class Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        Recorder.seen.append({k.lower(): v for k, v in self.headers.items()})
        body = json.dumps({"id": int(self.path.rsplit("/", 1)[-1]), "name": "Ada"}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


APP_MODULE = """
    from sff import Backend, Function
    from sff.adapters.asgi import app as sff_app

    users = Backend("users", env="USERS_API", forward_headers=("x-user",))
    hello = Function(
        "hello",
        route="/hello/{id}",
        sources={"user": users.get("/users/{input.id}")},
        shape="{name: user.name, id: user.id}",
    )
    app = sff_app(hello)
"""


UVICORN = [sys.executable, "-m", "uvicorn", "sffapp:app", "--host", "127.0.0.1", "--lifespan", "on"]


def test_app_served_by_uvicorn_answers_over_loopback(tmp_path: Path) -> None:
    backend = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    (tmp_path / "sffapp.py").write_text(textwrap.dedent(APP_MODULE))
    port = free_port()
    env = {**os.environ, "USERS_API": f"http://127.0.0.1:{backend.server_address[1]}"}
    server = subprocess.Popen(
        [*UVICORN, "--app-dir", str(tmp_path), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        response = wait_for(f"http://127.0.0.1:{port}/hello/7", {"x-user": "u-1"})
        assert response.status_code == 200
        assert response.json() == {"name": "Ada", "id": 7}
        assert Recorder.seen[-1]["x-user"] == "u-1"
        assert Recorder.seen[-1]["x-request-id"] == response.headers["x-request-id"]
        missing = httpx.get(f"http://127.0.0.1:{port}/nope", timeout=5)
        assert missing.status_code == 404
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0].decode()
        backend.shutdown()
    assert "Application startup complete" in output
    assert "Application shutdown complete" in output


def wait_for(url: str, headers: dict[str, str]) -> httpx.Response:
    deadline = time.monotonic() + 15
    while True:
        try:
            return httpx.get(url, headers=headers, timeout=5)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)

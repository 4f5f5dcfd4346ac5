"""A real backend on loopback that echoes what it received, the way a careless or hostile
API would: in its answers, its error bodies and its response headers.

Routes (under uvicorn, in a thread, on a free port)::

    /ok[/...]           200 JSON {"path", "query", "headers"}: the request as it arrived
    /status/CODE[/...]  CODE with the same echo as a JSON error body
    /text[/...]         200 with the echo as text that is not JSON
    any route           sets ``x-echo-token`` and ``set-cookie`` from the request's values

``with echo_server() as server: ... server.stop()`` takes it down for good mid-test.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import uvicorn

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    seen = {
        "path": scope["path"],
        "query": scope["query_string"].decode("latin-1"),
        "headers": headers,
    }
    status, body, ctype = 200, json.dumps(seen).encode(), b"application/json"
    parts = scope["path"].strip("/").split("/")
    if parts[0] == "status" and len(parts) > 1 and parts[1].isdigit():
        status = int(parts[1])
    elif parts[0] == "text":
        body, ctype = b"echo: " + json.dumps(seen).encode(), b"text/plain"
    token = headers.get("x-api-key") or headers.get("authorization") or "none"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", ctype),
                (b"x-echo-token", token.encode("latin-1")),
                (b"set-cookie", b"sid=" + token.encode("latin-1")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class EchoServer:
    """The echo app (or another ASGI ``app``) under uvicorn on a free loopback port."""

    def __init__(self, app: Any = echo_app) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve(sockets=[self.sock])), daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the echo server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        """Down for good: later connections are refused."""
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@contextmanager
def echo_server() -> Iterator[EchoServer]:
    server = EchoServer()
    server.start()
    try:
        yield server
    finally:
        if server.thread.is_alive():
            server.stop()

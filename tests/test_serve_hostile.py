"""The gateway under hostile clients, over real loopback sockets: malformed and smuggling
request heads, foreign Host headers, deep and oversized bodies, slow bodies, and slowloris
(idle and half-sent connections) with a low file-descriptor limit. Every refusal is a 4xx
(or 5xx for capacity) with a JSON body, and the gateway keeps answering others.

The hostile bytes are written raw on purpose (no client would send them); the answers are
read with h11, never parsed by hand."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import h11
import httpx
import pytest

from tests.test_serve_support import Running, make_project, running_gateway

ECHO = {
    "echo.py": """
        from sff import Function, call

        async def back(data):
            return {"got": data}

        echo = Function("echo", method="POST", sources={"back": call(back, {"data": "input"})},
                        shape="back")
    """,
    "hello.py": """
        from sff import Function, call

        async def greet(name):
            return {"greeting": f"hello {name}"}

        hello = Function("hello", sources={"greet": call(greet, {"name": "input.name"})},
                         shape="greet")
    """,
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("hostile") / "project", ECHO)


@pytest.fixture(scope="module")
def gw(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    logs = tmp_path_factory.mktemp("hostile-logs")
    args = ("--body-timeout", "1", "--head-timeout", "2", "--allow-host", "api.example.test")
    with running_gateway(project, logs, *args) as running:
        yield running


def address(gw: Running) -> tuple[str, int]:
    parts = urlsplit(gw.url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], Any, bool]:
    """Status, headers, JSON body, and whether the gateway then closed the connection."""
    client = h11.Connection(h11.CLIENT)
    client.send(h11.Request(method="GET", target="/", headers=[("host", "x")]))
    client.send(h11.EndOfMessage())
    status, headers, body = 0, {}, b""
    sock.settimeout(30)
    while True:
        event = client.next_event()
        if event is h11.NEED_DATA:
            client.receive_data(sock.recv(65536))
            continue
        if isinstance(event, h11.Response):
            status = event.status_code
            headers = {k.decode(): v.decode() for k, v in event.headers}
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            break
    closed = headers.get("connection") == "close" and sock.recv(1) == b""
    return status, headers, json.loads(body), closed


def send_raw(gw: Running, raw: bytes) -> tuple[int, dict[str, str], Any, bool]:
    with socket.create_connection(address(gw), timeout=30) as sock:
        sock.sendall(raw)
        return read_answer(sock)


HOST = b"Host: 127.0.0.1\r\n"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET /hello?name=a HTTP/1.1\r\n" + HOST + b"X-Trace: a\x00b\r\n\r\n", 400),
        (b"GET /hello?name=a HTTP/1.1\r\n" + HOST + b"X-Trace: a\rb\r\n\r\n", 400),
        (b"GET /hello HTTP/1.1\r\n" + HOST + b"X-Trace: " + b"a" * 20000 + b"\r\n\r\n", 431),
        (b"GET nope HTTP/1.1\r\n" + HOST + b"\r\n", 400),
        (b"GET /hello HTTP/1.1\r\n\r\n", 400),  # no Host at all
        (b"POST /echo HTTP/1.1\r\n" + HOST + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\n",
         400),
        (b"POST /echo HTTP/1.1\r\n" + HOST
         + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: gzip, chunked\r\n\r\n", 501),
        (b"POST /echo HTTP/1.1\r\n" + HOST + b"Content-Length: 99999999\r\n\r\n", 413),
        (b"GET /hello HTTP/1.1\r\nHost: evil.example\r\n\r\n", 421),
    ],
    ids=["nul", "bare-cr", "huge-head", "bad-target", "no-host", "two-lengths", "cl-and-te",
         "te-gzip", "too-large", "foreign-host"],
)  # fmt: skip
def test_hostile_request_gets_a_json_4xx_and_the_connection_closes(
    gw: Running, raw: bytes, status: int
) -> None:
    answered, headers, body, closed = send_raw(gw, raw)

    assert answered == status, body
    assert headers["content-type"] == "application/json"
    assert body["error"]["code"] and body["error"]["message"]
    assert closed
    assert httpx.get(f"{gw.url}/hello?name=still", timeout=30).status_code == 200


def test_a_bare_lf_ends_the_header_line_so_no_value_carries_it(gw: Running) -> None:
    # h11 reads a bare LF as a line end (RFC 9112 allows it): the value stops there, and
    # the gateway's own check refuses any CR, LF or NUL that a value could still carry.
    raw = b"GET /hello?name=a HTTP/1.1\r\n" + HOST + b"X-Trace: a\nInjected: b\r\n\r\n"
    status, _, body, _ = send_raw(gw, raw)
    assert (status, body) == (200, {"greeting": "hello a"})


def test_foreign_host_is_named_and_allowed_hosts_are_served(gw: Running) -> None:
    foreign = httpx.get(f"{gw.url}/hello?name=x", headers={"host": "rebind.example"})
    allowed = httpx.get(f"{gw.url}/hello?name=x", headers={"host": "api.example.test:80"})
    local = httpx.get(f"{gw.url}/hello?name=x", headers={"host": "localhost"})
    page = httpx.get(f"{gw.url}/_sff", headers={"host": "rebind.example"})

    assert foreign.status_code == 421 and page.status_code == 421
    assert "'rebind.example'" in foreign.json()["error"]["message"]
    assert foreign.json()["error"]["host"] == "rebind.example"
    assert (allowed.status_code, local.status_code) == (200, 200)


def test_deep_json_is_a_400_and_form_bodies_are_read(gw: Running) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    nested = httpx.post(f"{gw.url}/echo", content=deep, timeout=30,
                        headers={"content-type": "application/json"})  # fmt: skip
    form = httpx.post(f"{gw.url}/echo", data={"product_id": "3", "email": "a@b.c"}, timeout=30)

    assert nested.status_code == 400
    assert nested.json()["error"]["code"] == "bad_request"
    assert "nested deeper than 64" in nested.json()["error"]["message"]
    assert form.status_code == 200
    assert form.json() == {"got": {"product_id": "3", "email": "a@b.c"}}


def test_a_body_slower_than_the_body_timeout_is_a_408(gw: Running) -> None:
    with socket.create_connection(address(gw), timeout=30) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\n" + HOST + b"Content-Length: 10\r\n\r\n{")
        status, _, body, closed = read_answer(sock)  # the body timeout is 1 s

    assert status == 408 and body["error"]["code"] == "request_timeout" and closed


def open_attackers(where: tuple[str, int], idle: int, half: int) -> list[socket.socket]:
    socks = []
    for index in range(idle + half):
        sock = socket.create_connection(where, timeout=30)
        if index >= idle:  # a head that never ends
            sock.sendall(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        socks.append(sock)
    return socks


def closed_by_gateway(sock: socket.socket) -> bool:
    """Whether the gateway closed it (after a 408, or silently), reading until it does."""
    sock.settimeout(30)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False  # still open after 30 s
    except ConnectionResetError:
        return True
    return True


def test_slowloris_with_a_low_fd_limit_cannot_stop_the_gateway(
    project: Path, tmp_path: Path
) -> None:
    args = ("--head-timeout", "2", "--max-instances", "1")
    with running_gateway(project, tmp_path, *args, max_files=256) as gw:
        assert httpx.get(f"{gw.url}/hello?name=warm", timeout=60).status_code == 200
        started = time.monotonic()
        attackers = open_attackers(address(gw), idle=400, half=400)
        try:
            answers = [httpx.get(f"{gw.url}/hello?name=n{i}", timeout=30) for i in range(5)]
            served_within = time.monotonic() - started
            closed = sum(closed_by_gateway(s) for s in attackers)
        finally:
            for sock in attackers:
                sock.close()
        after = httpx.get(f"{gw.url}/hello?name=after", timeout=30)
        log = gw.log()

    assert [a.status_code for a in answers] == [200] * 5
    assert closed == 800, f"{closed} of 800 attacker connections closed"
    assert served_within < 30, served_within
    assert after.status_code == 200
    assert "Traceback" not in log and "out of system resource" not in log


def test_a_full_queue_answers_503_at_once_with_retry_after(project: Path, tmp_path: Path) -> None:
    args = ("--max-instances", "1", "--queue", "2")
    with running_gateway(project, tmp_path, *args) as gw:
        assert httpx.get(f"{gw.url}/hello?name=warm", timeout=60).status_code == 200

        async def burst() -> list[httpx.Response]:
            import asyncio

            async with httpx.AsyncClient(base_url=gw.url, timeout=60) as client:
                slow = [client.post("/echo", json={"wait": i}) for i in range(6)]
                return await asyncio.gather(*slow)

        import asyncio

        answers = asyncio.run(burst())

    refused = [a for a in answers if a.status_code == 503]
    assert refused, [a.status_code for a in answers]
    assert all(a.headers["retry-after"] == "1" for a in refused)
    assert all(a.json()["error"]["code"] == "over_capacity" for a in refused)


def test_over_the_connection_cap_busy_connections_are_kept_and_new_ones_get_503(
    project: Path, tmp_path: Path
) -> None:
    # 100 file descriptors: the cap is its floor, 8 connections.
    args = ("--max-instances", "1", "--queue", "50", "--head-timeout", "5")
    with running_gateway(project, tmp_path, *args, max_files=100) as gw:
        assert "connections<=8)" in gw.out.read_text()
        held = [socket.create_connection(address(gw), timeout=30) for _ in range(8)]
        try:
            for sock in held:  # each a request in flight: its body never ends (10 s timeout)
                sock.sendall(b"POST /echo HTTP/1.1\r\n" + HOST + b"Content-Length: 5\r\n\r\n{")
            time.sleep(0.5)
            status, headers, body, closed = send_raw(
                gw, b"GET /hello?name=x HTTP/1.1\r\n" + HOST + b"\r\n"
            )
        finally:
            for sock in held:
                sock.close()
        after = httpx.get(f"{gw.url}/hello?name=after", timeout=30)

    assert (status, body["error"]["code"], headers["retry-after"]) == (503, "over_capacity", "1")
    assert closed and after.status_code == 200

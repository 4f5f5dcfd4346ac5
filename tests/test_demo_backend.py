"""The demo raw-data backend, exercised over real loopback HTTP."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import httpx
import pytest

from demo.backend import DemoBackend, serve_in_thread
from demo.seed import build_seed

ROOT = Path(__file__).resolve().parents[1]
# Plain-HTTP clients share one bare TLS context: httpx otherwise loads the CA bundle for every
# client (~50 ms each), which would dominate this module's run time.
PLAIN = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


@pytest.fixture
def backend() -> DemoBackend:
    return DemoBackend()


@pytest.fixture
def url(backend: DemoBackend) -> Iterator[str]:
    with serve_in_thread(backend=backend) as base_url:
        yield base_url


@pytest.fixture
def client(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=5, verify=PLAIN) as c:
        yield c


def raw_exchange(url: str, data: bytes, *, half_close: bool = False) -> bytes:
    """Send bytes on a fresh connection and return everything the server sends until it closes."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def read_response(reader: BinaryIO) -> tuple[int, dict[str, str], bytes]:
    """Read exactly one Content-Length framed response from a buffered socket file."""
    status_line = reader.readline().decode()
    headers: dict[str, str] = {}
    while (line := reader.readline().decode()) != "\r\n":
        name, _, value = line.partition(":")
        headers[name.lower()] = value.strip()
    body = reader.read(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body


# --- seed data ---------------------------------------------------------------------------


def test_seed_is_deterministic_and_sized_like_a_real_app() -> None:
    seed = build_seed()
    assert seed == build_seed()
    assert seed.todos != build_seed(seed=7).todos
    assert (len(seed.teams), len(seed.users), len(seed.todos), len(seed.comments)) == (
        4,
        20,
        200,
        600,
    )
    assert len({u["email"] for u in seed.users}) == 20
    assert len({t["title"] for t in seed.todos}) == 200


def test_seed_references_are_consistent_over_http(client: httpx.Client) -> None:
    teams = {t["id"] for t in client.get("/teams").json()}
    users = client.get("/users").json()
    todos = client.get("/todos").json()
    comments = client.get("/comments").json()
    user_ids = {u["id"] for u in users}
    todo_ids = {t["id"] for t in todos}
    assert len(teams) == 4 and len(users) == 20 and len(todos) == 200 and len(comments) == 600
    assert all(u["team_id"] in teams for u in users)
    assert all(t["user_id"] in user_ids for t in todos)
    assert all(c["todo_id"] in todo_ids and c["user_id"] in user_ids for c in comments)
    assert {u["team_id"] for u in users} == teams  # no empty team


def test_get_by_id_and_team_members(client: httpx.Client) -> None:
    user = client.get("/users/3").json()
    assert set(user) == {"id", "name", "email", "team_id", "avatar_url"}
    team = client.get(f"/teams/{user['team_id']}").json()
    members = client.get(f"/teams/{team['id']}/members").json()
    assert user in members
    assert all(m["team_id"] == team["id"] for m in members)
    todo = client.get("/todos/17").json()
    assert set(todo) == {"id", "user_id", "title", "done", "due", "priority", "tags"}


@pytest.mark.parametrize(
    "path", ["/users/999", "/users/abc", "/users/%C2%B2", "/teams/0", "/todos/-1/comments"]
)
def test_bad_id_is_404(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "not found"


def test_unknown_route_is_404_naming_the_path(client: httpx.Client) -> None:
    response = client.get("/nope/here")
    assert response.status_code == 404
    assert response.json() == {"error": "not found", "path": "/nope/here"}


def test_wrong_method_on_known_route_is_405(client: httpx.Client) -> None:
    assert client.delete("/users/1").status_code == 405


# --- filters and pagination --------------------------------------------------------------


def test_todo_filters(client: httpx.Client) -> None:
    everything = client.get("/todos").json()
    mine = client.get("/todos", params={"userId": 4}).json()
    assert mine == [t for t in everything if t["user_id"] == 4] and mine
    open_ = client.get("/todos", params={"done": "false"}).json()
    closed = client.get("/todos", params={"done": "true"}).json()
    assert len(open_) + len(closed) == 200 and all(not t["done"] for t in open_)
    tagged = client.get("/todos", params={"tag": "mobile"}).json()
    assert tagged and all("mobile" in t["tags"] for t in tagged)
    found = client.get("/todos", params={"q": "BILLING"}).json()
    assert found and all("billing" in t["title"].lower() for t in found)
    both = client.get("/todos", params={"userId": 4, "done": "false"}).json()
    assert both == [t for t in mine if not t["done"]]


def test_todo_pagination_covers_the_list_once(client: httpx.Client) -> None:
    everything = client.get("/todos", params={"done": "true"}).json()
    pages = []
    for offset in range(0, 200, 15):
        response = client.get("/todos", params={"done": "true", "limit": 15, "offset": offset})
        assert response.headers["x-total-count"] == str(len(everything))
        pages.extend(response.json())
    assert pages == everything
    assert client.get("/todos", params={"limit": 0}).json() == []


@pytest.mark.parametrize(
    "params", [{"done": "maybe"}, {"limit": "ten"}, {"offset": "-1"}, {"userId": "x"}]
)
def test_bad_filter_value_is_400(client: httpx.Client, params: dict[str, str]) -> None:
    response = client.get("/todos", params=params)
    assert response.status_code == 400
    assert "error" in response.json()


def test_comments_by_todo_both_ways(client: httpx.Client) -> None:
    nested = client.get("/todos/42/comments").json()
    assert nested == client.get("/comments", params={"todoId": 42}).json()
    assert all(c["todo_id"] == 42 for c in nested)
    assert client.get("/comments", params={"todoId": 9999}).json() == []


# --- writes ------------------------------------------------------------------------------


def test_posted_todo_is_visible_to_later_gets(client: httpx.Client) -> None:
    created = client.post(
        "/todos", json={"title": "Book the offsite", "user_id": 5, "tags": ["ops", "fun", "ops"]}
    )
    assert created.status_code == 201
    todo = created.json()
    assert todo["id"] == 201 and todo["done"] is False and todo["priority"] == "medium"
    assert todo["tags"] == ["fun", "ops"]  # stored like the seed: sorted, no repeats
    assert created.headers["location"] == "/todos/201"
    assert client.get("/todos/201").json() == todo
    assert todo in client.get("/todos", params={"userId": 5}).json()
    assert client.get("/todos/201/comments").json() == []


def test_posted_todo_is_not_shared_with_a_fresh_server(client: httpx.Client) -> None:
    client.post("/todos", json={"title": "Only here", "user_id": 1})
    with serve_in_thread() as other, httpx.Client(base_url=other, verify=PLAIN) as fresh:
        assert fresh.get("/todos/201").status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (b'{"user_id": 1}', 422),
        (b'{"title": "x", "user_id": 999}', 422),
        (b'{"title": "x", "user_id": 1, "priority": "asap"}', 422),
        (b'{"title": "x", "user_id": 1, "due": "next week"}', 422),
    ],
)
def test_invalid_todo_is_rejected(client: httpx.Client, body: bytes, status: int) -> None:
    response = client.post("/todos", content=body)
    assert response.status_code == status
    assert client.get("/todos/201").status_code == 404


def test_notification_is_accepted(client: httpx.Client, backend: DemoBackend) -> None:
    message = {"to": "ada@acme.example", "subject": "Reminder", "body": "Standup at 10"}
    response = client.post("/notifications", json=message)
    assert response.status_code == 202
    assert response.json() == {"id": "ntf_000001", "status": "queued"}
    assert backend.notifications == [{"id": "ntf_000001", "status": "queued", **message}]
    assert client.post("/notifications", json={"to": "x"}).status_code == 422


# --- echo, big, stats --------------------------------------------------------------------


def test_echo_keeps_the_raw_path_undecoded(client: httpx.Client) -> None:
    seen = client.get("/echo/..%2Fadmin%3Fx%3D1%23y").json()
    assert seen["raw_path"] == "/echo/..%2Fadmin%3Fx%3D1%23y"
    assert seen["path"] == "/echo/../admin?x=1#y"
    assert seen["query"] == []


def test_echo_reports_query_headers_and_body(client: httpx.Client) -> None:
    seen = client.put(
        "/echo/a%20b?x=1&x=2&name=J%C3%BCrgen+M&_delay=1",
        headers={"X-Tenant": "acme", "Authorization": "Bearer t0k"},
        content=b"hello",
    ).json()
    assert seen["method"] == "PUT"
    assert seen["raw_path"] == "/echo/a%20b?x=1&x=2&name=J%C3%BCrgen+M&_delay=1"
    assert seen["query"] == [["x", "1"], ["x", "2"], ["name", "Jürgen M"]]  # faults removed
    assert seen["headers"]["x-tenant"] == "acme"
    assert seen["headers"]["authorization"] == "Bearer t0k"
    assert seen["body"] == "hello"
    assert client.get("/echo").json()["path"] == "/echo"


def test_big_is_about_the_requested_size(client: httpx.Client) -> None:
    response = client.get("/big", params={"kb": 64})
    assert 64 * 1024 <= len(response.content) < 64 * 1024 + 1024
    records = response.json()
    assert len(records) > 100 and {"id", "title", "tags"} <= set(records[0])
    assert client.get("/big", params={"kb": 0}).json() == []
    assert client.get("/big", params={"kb": "lots"}).status_code == 400


def test_stats_count_requests_and_reset(client: httpx.Client) -> None:
    client.get("/users/1")
    client.get("/users/1")
    client.get("/todos", params={"userId": 1})
    assert client.get("/_stats").json() == {
        "requests": 3,
        "by_path": {"/users/1": 2, "/todos": 1},
    }
    assert client.post("/_reset").json() == {"ok": True}
    assert client.get("/_stats").json() == {"requests": 0, "by_path": {}}


# --- fault injection ---------------------------------------------------------------------


async def test_delayed_requests_overlap(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=5, verify=PLAIN) as client:
        start = time.perf_counter()
        responses = await asyncio.gather(
            *(client.get("/users/1", params={"_delay": 100}) for _ in range(5))
        )
        elapsed = time.perf_counter() - start
    assert all(r.status_code == 200 for r in responses)
    assert 0.1 <= elapsed < 0.4  # one after the other would take 0.5 s


def test_delay_header(client: httpx.Client) -> None:
    start = time.perf_counter()
    response = client.get("/users/1", headers={"x-demo-delay-ms": "50"})
    assert response.status_code == 200
    assert time.perf_counter() - start >= 0.05


def test_fail_sequence_then_success(client: httpx.Client) -> None:
    statuses = [
        client.get("/users/1", params={"_fail": 2, "_key": "seq"}).status_code for _ in range(4)
    ]
    assert statuses == [503, 503, 200, 200]


def test_fail_sequence_by_headers_with_status_and_retry_after(client: httpx.Client) -> None:
    headers = {
        "x-demo-fail": "1",
        "x-demo-key": "hdr",
        "x-demo-status": "429",
        "x-demo-retry-after": "2",
    }
    first = client.get("/todos/1", headers=headers)
    assert first.status_code == 429
    assert first.headers["retry-after"] == "2"
    assert first.json() == {"error": "injected fault", "status": 429}
    second = client.get("/todos/1", headers=headers)
    assert second.status_code == 200 and "retry-after" not in second.headers


def test_fail_counters_are_per_key_and_reset(client: httpx.Client) -> None:
    def status(key: str) -> int:
        return client.get("/users/1", params={"_fail": 1, "_key": key}).status_code

    assert [status("a"), status("b"), status("a")] == [503, 503, 200]
    client.post("/_reset")
    assert status("a") == 503


def test_fail_without_key_counts_per_request(client: httpx.Client) -> None:
    assert [client.get("/users/2?_fail=1").status_code for _ in range(2)] == [503, 200]
    assert client.get("/users/3?_fail=1").status_code == 503


def test_fail_scopes_other_faults_to_the_first_requests(client: httpx.Client) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/users/1", params={"_fail": 1, "_close": 1, "_key": "drop"})
    assert client.get("/users/1", params={"_fail": 1, "_close": 1, "_key": "drop"}).json()["id"]
    garbled = client.get("/users/1", params={"_fail": 1, "_malformed": 1, "_key": "garble"})
    assert garbled.status_code == 200 and garbled.content.startswith(b'{"id": 1, "title')
    assert client.get("/users/1", params={"_fail": 1, "_malformed": 1, "_key": "garble"}).json()


def test_malformed_body_with_an_error_status(client: httpx.Client) -> None:
    response = client.get("/users/1", params={"_malformed": 1, "_status": 502})
    assert response.status_code == 502
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_injected_status_has_a_json_body(client: httpx.Client) -> None:
    response = client.get("/users/1", params={"_status": 500, "_retry_after": "5"})
    assert response.status_code == 500
    assert response.json() == {"error": "injected fault", "status": 500}
    assert response.headers["retry-after"] == "5"


@pytest.mark.parametrize(
    "params",
    [{"_delay": "soon"}, {"_status": "99"}, {"_fail": "-1"}, {"_retry_after": "1\r\nX-Evil: 1"}],
)
def test_bad_fault_parameter_is_400(client: httpx.Client, params: dict[str, str]) -> None:
    assert client.get("/users/1", params=params).status_code == 400


def test_malformed_body(client: httpx.Client) -> None:
    response = client.get("/users/1", params={"_malformed": 1})
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_empty_body(client: httpx.Client) -> None:
    response = client.get("/users/1", headers={"x-demo-empty": "1"})
    assert response.status_code == 200
    assert response.content == b""


def test_hang_until_the_client_times_out(client: httpx.Client) -> None:
    with pytest.raises(httpx.ReadTimeout):
        client.get("/users/1", params={"_hang": 1}, timeout=0.3)
    assert client.get("/users/1").status_code == 200


def test_close_without_answer(client: httpx.Client) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/users/1", params={"_close": 1})
    assert client.get("/users/1").status_code == 200


async def test_stop_drops_hanging_connections() -> None:
    backend = DemoBackend()
    url = await backend.start()
    async with httpx.AsyncClient(base_url=url, timeout=10, verify=PLAIN) as client:
        pending = asyncio.ensure_future(client.get("/users/1", params={"_hang": 1}))
        await asyncio.sleep(0.1)
        await asyncio.wait_for(backend.stop(), timeout=2)
        with pytest.raises(httpx.TransportError):
            await pending


# --- the wire ----------------------------------------------------------------------------


def test_keep_alive_serves_several_requests_on_one_connection(url: str) -> None:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        stream = sock.makefile("rb")
        for user_id in (1, 2, 3):
            sock.sendall(f"GET /users/{user_id} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            status, headers, body = read_response(stream)
            assert status == 200 and headers["connection"] == "keep-alive"
            assert json.loads(body)["id"] == user_id
        # pipelined: two requests in one write, answered in order
        sock.sendall(b"GET /teams/1 HTTP/1.1\r\n\r\nGET /teams/2 HTTP/1.1\r\n\r\n")
        assert json.loads(read_response(stream)[2])["id"] == 1
        assert json.loads(read_response(stream)[2])["id"] == 2


def test_httpx_client_reuses_one_connection(client: httpx.Client, backend: DemoBackend) -> None:
    for _ in range(5):
        assert client.get("/users/1").headers["connection"] == "keep-alive"
    assert backend.connections_opened == 1


def test_connection_close_is_honoured(url: str) -> None:
    answer = raw_exchange(url, b"GET /users/1 HTTP/1.1\r\nConnection: close\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"Connection: close" in head
    assert json.loads(body)["id"] == 1  # and the server closed: raw_exchange hit EOF


def test_http_1_0_closes_by_default(url: str) -> None:
    answer = raw_exchange(url, b"GET /users/1 HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 ") and b"Connection: close" in answer


def test_post_body_by_content_length(url: str) -> None:
    body = b'{"title": "Raw post", "user_id": 2}'
    request = (
        b"POST /todos HTTP/1.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    )
    assert raw_exchange(url, request).startswith(b"HTTP/1.1 201 ")


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /users/1\r\n\r\n", 400),
        (b"GET users/1 HTTP/1.1\r\n\r\n", 400),
        (b"G(E)T /users/1 HTTP/1.1\r\n\r\n", 400),
        (b"GET /users/1 HTTP/1.1\r\nno colon here\r\n\r\n", 400),
        (b"GET /users/1 HTTP/1.1\r\n folded: header\r\n\r\n", 400),
        (b"POST /todos HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
        (b"POST /todos HTTP/1.1\r\nContent-Length: \xb2\r\n\r\n", 400),
        (b"POST /todos HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501),
        (b"GET /users/1 HTTP/2.0\r\n\r\n", 505),
        (b"GET /users/1 HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 431),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),  # TLS hello-ish
    ],
)
def test_malformed_request_gets_an_error_and_close(
    url: str, client: httpx.Client, request_bytes: bytes, status: int
) -> None:
    answer = raw_exchange(url, request_bytes + b"GET /users/1 HTTP/1.1\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode())
    assert b"Connection: close" in head
    assert "error" in json.loads(body)  # one answer only: the trailing request was not served
    assert client.get("/users/1").status_code == 200  # and the server lives on


def test_half_sent_request_then_hangup_is_harmless(url: str, client: httpx.Client) -> None:
    answer = raw_exchange(url, b"GET /users/1 HTTP/1.1\r\nHost", half_close=True)
    assert answer.startswith(b"HTTP/1.1 400 ")
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(b"POST /todos HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
    assert client.get("/users/1").status_code == 200


HUNG_S = 120  # only a process hung for this long fails a test below


# --- running it --------------------------------------------------------------------------


def test_serve_in_thread_reports_a_busy_port() -> None:
    with serve_in_thread() as url:
        port = urlsplit(url).port
        assert port is not None
        with pytest.raises(OSError), serve_in_thread(port=port):
            pass


def test_cli_serves_until_interrupted() -> None:
    # No timing in this check: on a loaded machine start-up, the first answer and the
    # shutdown each took over the 5 s this test once allowed. The limits below only stop
    # a hung process; the behaviour checked is that SIGINT ends the server cleanly.
    command = [sys.executable, "-m", "demo.backend", "--port", "0"]
    with subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None and process.stderr is not None
            url = process.stdout.readline().split()[4]
            assert url.startswith("http://127.0.0.1:")
            answer = httpx.get(f"{url}/users/1", verify=PLAIN, timeout=HUNG_S)
            assert answer.json()["id"] == 1
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=HUNG_S) == 0, process.stderr.read()
        finally:
            process.kill()


def test_stop_drops_idle_keep_alive_connections_without_logging_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """stop() cancels connections still open; that is not a handler failure (Python 3.11's
    start_server callback logged each one as 'Exception in callback ... CancelledError')."""

    async def scenario() -> None:
        backend = DemoBackend()
        url = urlsplit(await backend.start())
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        writer.write(b"GET /users/1 HTTP/1.1\r\nHost: demo\r\n\r\n")
        await writer.drain()
        assert (await reader.readline()).startswith(b"HTTP/1.1 200")
        await backend.stop()  # the connection is idle, kept alive, waiting for a request
        writer.close()
        await asyncio.sleep(0)  # let the callbacks of the finished connection tasks run

    with caplog.at_level("ERROR"):
        asyncio.run(scenario())
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []

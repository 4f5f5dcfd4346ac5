"""The demo raw-data backend: a small HTTP/1.1 JSON server for the todo example app.

Standard library only (asyncio streams), so it starts in milliseconds and costs little per
request: benchmarks fire hundreds of concurrent requests at it and use it as the floor that
sff's overhead is measured against.

Routes (all JSON)::

    GET  /users  /users/{id}  /teams  /teams/{id}  /teams/{id}/members
    GET  /users?id=1&id=2    a batch: those users, as an array
    POST /users/lookup       {"ids": [1, 2]} -> {"1": {...}, "2": {...}} (a batch, keyed by id)
    GET  /activity?page=&per_page=&userId=      comment events, newest first, page numbers
    GET  /activity/cursor?cursor=&limit=        {"items": [...], "next_cursor": ... | null}
    GET  /activity/linked?page=&per_page=       the array, and Link: <...>; rel="next"
    GET  /todos?userId=&done=&tag=&q=&limit=&offset=   (X-Total-Count: matches before paging)
    GET  /todos/{id}  /todos/{id}/comments  /comments?todoId=&limit=&offset=
    POST /todos            JSON body -> 201, visible to later GETs on this server
    POST /notifications    {to, subject, body} -> 202 {id, status}
    ANY  /echo[/...]       what arrived: method, raw_path (request target as sent), path,
                           query (decoded pairs), headers (lower-cased), body
    GET  /big?kb=N         a JSON array of todo-like records of about N KiB
    GET  /_stats           {"requests": n, "by_path": {...}};  POST /_reset

Fault injection, per request, by query parameter (``_name``, removed before routing and
filtering) or the equivalent header; the query wins when both are given:

    _delay=MS        x-demo-delay-ms      sleep before answering (requests overlap)
    _status=CODE     x-demo-status        answer CODE with a JSON error body
    _retry_after=V   x-demo-retry-after   Retry-After header on that error answer
    _malformed=1     x-demo-malformed     200 (or _status) with a body that is not JSON
    _empty=1         x-demo-empty         200 (or _status) with an empty body
    _hang=1          x-demo-hang          never answer (until the client hangs up)
    _close=1         x-demo-close         close the connection without answering
    _fail=N, _key=K  x-demo-fail, -key    only the first N requests with key K get the fault
                                          (503 when no other is named), later ones succeed:
                                          _fail=2 gives 503, 503, 200; _fail=1&_close=1 a
                                          dropped connection, then 200. The key defaults to
                                          method + path + query; /_reset clears the counts.

A delay applies to every request that asks for it, failing or not; close and hang win
over the other faults, then malformed, empty and the error answer.

Run it with ``python -m demo.backend [--host 127.0.0.1] [--port 8801]``, or in tests with
``with serve_in_thread() as url: ...``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import enum
import json
import logging
import re
import signal
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlencode

from demo.seed import DEFAULT_SEED, Seed, Todo, big_body, build_seed

log = logging.getLogger("demo.backend")

T = TypeVar("T")
N = TypeVar("N", int, float)

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_DELAY_MS = 10 * 60 * 1000
# Benchmarks open up to ~1000 connections at once; asyncio's default backlog (100) would
# drop SYNs and turn into 1 s client retransmits that look like server latency.
LISTEN_BACKLOG = 4096

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TARGET = re.compile(r"/[\x21-\x7e]*")
_HEADER_VALUE = re.compile(r"[\x20-\x7e]*")
_VERSION = re.compile(r"HTTP/\d\.\d")
_REASONS = {s.value: s.phrase for s in HTTPStatus}
_NO_BODY_STATUSES = frozenset({204, 304})
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


# --- wire format -------------------------------------------------------------------------


@dataclass(slots=True)
class Request:
    method: str
    target: str  # the request target exactly as sent: undecoded path and query
    path: str  # percent-decoded path
    segments: tuple[str, ...]  # path split on "/" first, then each segment decoded
    query: list[tuple[str, str]]  # decoded pairs, fault parameters removed
    faults: dict[str, str]  # the "_name" query parameters
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ", "
    body: bytes
    keep_alive: bool

    def arg(self, name: str) -> str | None:
        return next((v for k, v in self.query if k == name), None)


@dataclass(slots=True)
class Response:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "application/json"

    def encode(self, keep_alive: bool) -> bytes:
        lines = [f"HTTP/1.1 {self.status} {_REASONS.get(self.status, 'Unknown')}"]
        body = b"" if self.status in _NO_BODY_STATUSES else self.body
        if self.status not in _NO_BODY_STATUSES:
            lines.append(f"Content-Type: {self.content_type}")
            lines.append(f"Content-Length: {len(body)}")
        lines.extend(f"{k}: {v}" for k, v in self.headers)
        lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def json_response(
    data: Any, status: int = 200, headers: Iterable[tuple[str, str]] = ()
) -> Response:
    return Response(status, _dumps(data).encode(), list(headers))


class HttpError(Exception):
    """Raised by handlers and parsing; becomes a JSON error answer."""

    def __init__(self, status: int, error: str, **details: Any) -> None:
        super().__init__(error)
        self.status = status
        self.payload = {"error": error, **details}

    def response(self) -> Response:
        return json_response(self.payload, self.status)


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """Read one request; None when the client hung up. Raises HttpError if it is malformed."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise HttpError(400, "incomplete request head") from None
        return None
    except asyncio.LimitOverrunError:
        raise HttpError(431, "request head too large") from None
    request_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
    method, target, version = _parse_request_line(request_line)
    headers = _parse_headers(header_lines)
    body = await _read_body(reader, headers)
    if body is None:
        return None
    raw_path, _, raw_query = target.partition("?")
    query: list[tuple[str, str]] = []
    faults: dict[str, str] = {}
    for k, v in parse_qsl(raw_query, keep_blank_values=True):
        if k.startswith("_"):
            faults[k] = v
        else:
            query.append((k, v))
    tokens = {t.strip() for t in headers.get("connection", "").lower().split(",")}
    keep_alive = "close" not in tokens if version == "HTTP/1.1" else "keep-alive" in tokens
    return Request(
        method=method,
        target=target,
        path=unquote(raw_path),
        segments=tuple(unquote(s) for s in raw_path[1:].split("/")),
        query=query,
        faults=faults,
        headers=headers,
        body=body,
        keep_alive=keep_alive,
    )


def _parse_request_line(line: str) -> tuple[str, str, str]:
    parts = line.split(" ")
    if len(parts) != 3:
        raise HttpError(400, "malformed request line")
    method, target, version = parts
    if not _TOKEN.fullmatch(method) or not _TARGET.fullmatch(target):
        raise HttpError(400, "malformed request line")
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        if _VERSION.fullmatch(version):
            raise HttpError(505, "HTTP version not supported")
        raise HttpError(400, "malformed request line")
    return method, target, version


def _parse_headers(lines: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep or not _TOKEN.fullmatch(name):  # also rejects obsolete line folding
            raise HttpError(400, "malformed header line")
        key, value = name.lower(), value.strip(" \t")
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes | None:
    if "transfer-encoding" in headers:
        raise HttpError(501, "chunked request bodies are not supported")
    length = headers.get("content-length", "0")
    if not (length.isascii() and length.isdigit()):
        raise HttpError(400, "malformed Content-Length")
    if int(length) > MAX_BODY_BYTES:
        raise HttpError(413, "request body too large")
    try:
        return await reader.readexactly(int(length))
    except asyncio.IncompleteReadError:
        return None


# --- routing -----------------------------------------------------------------------------

Params = dict[str, str]
Handler = Callable[["DemoBackend", Request, Params], Response]


class Router:
    """Method + path pattern -> handler. ``{name}`` matches one segment, ``{name*}`` the rest."""

    def __init__(self, routes: Iterable[tuple[str, str, Handler]]) -> None:
        self._routes = [(m, tuple(p.strip("/").split("/")), h) for m, p, h in routes]

    def resolve(self, request: Request) -> tuple[Handler, Params]:
        allowed: list[str] = []
        for method, pattern, handler in self._routes:
            params = _match(pattern, request.segments)
            if params is None:
                continue
            if method in ("*", request.method):
                return handler, params
            allowed.append(method)
        if allowed:
            raise HttpError(405, "method not allowed", path=request.path, allow=allowed)
        raise HttpError(404, "not found", path=request.path)


def _match(pattern: tuple[str, ...], segments: tuple[str, ...]) -> Params | None:
    params: Params = {}
    for i, part in enumerate(pattern):
        if part.endswith("*}"):
            params[part[1:-2]] = "/".join(segments[i:])
            return params
        if i >= len(segments):
            return None
        if part.startswith("{"):
            params[part[1:-1]] = segments[i]
        elif part != segments[i]:
            return None
    return params if len(segments) == len(pattern) else None


# --- handlers ----------------------------------------------------------------------------


def list_users(app: DemoBackend, req: Request, p: Params) -> Response:
    """All users, or a batch: ``?id=1&id=2`` gives those that exist, in the asked order."""
    asked = [v for k, v in req.query if k == "id"]
    if not asked:
        return json_response(app.data.users)
    by_id = app.data.users_by_id
    return json_response([by_id[i] for i in _ids(asked) if i in by_id])


def lookup_users(app: DemoBackend, req: Request, p: Params) -> Response:
    """A batch by POST: ``{"ids": [1, 2]}`` gives ``{"1": {...}, "2": {...}}`` (object keyed by
    id; unknown ids are left out)."""
    asked = _json_object(req).get("ids")
    if not isinstance(asked, list) or not all(type(i) is int for i in asked):
        raise HttpError(422, "ids must be a list of integers", field="ids")
    found = {str(i): app.data.users_by_id[i] for i in asked if i in app.data.users_by_id}
    return json_response(found)


def _ids(raw: list[str]) -> list[int]:
    if not all(v.isascii() and v.isdigit() for v in raw):
        raise HttpError(400, "id must be an integer", param="id")
    return [int(v) for v in raw]


def activity_pages(app: DemoBackend, req: Request, p: Params) -> Response:
    """Page-number style: ``?page=1&per_page=20`` (X-Total-Count: every event)."""
    events = _activity(app, req)
    page, per_page = _int_arg(req, "page", minimum=1) or 1, _per_page(req)
    start = (page - 1) * per_page
    return json_response(
        events[start : start + per_page], headers=[("X-Total-Count", str(len(events)))]
    )


def activity_cursor(app: DemoBackend, req: Request, p: Params) -> Response:
    """Cursor style: ``{"items": [...], "next_cursor": "c40" | null}``; ``?cursor=c40``."""
    events = _activity(app, req)
    raw = req.arg("cursor") or "c0"
    if not (raw.startswith("c") and raw[1:].isascii() and raw[1:].isdigit()):
        raise HttpError(400, "bad cursor", param="cursor")
    start, limit = int(raw[1:]), _per_page(req, "limit")
    end = start + limit
    following = f"c{end}" if end < len(events) else None
    return json_response({"items": events[start:end], "next_cursor": following})


def activity_linked(app: DemoBackend, req: Request, p: Params) -> Response:
    """Link style: the array, and ``Link: </activity/linked?page=N&per_page=M>; rel="next"``
    while more pages remain."""
    events = _activity(app, req)
    page, per_page = _int_arg(req, "page", minimum=1) or 1, _per_page(req)
    start = (page - 1) * per_page
    headers = []
    if start + per_page < len(events):
        kept = [(k, v) for k, v in req.query if k not in ("page", "per_page")]
        query = urlencode([*kept, ("page", page + 1), ("per_page", per_page)])
        headers.append(("Link", f'</activity/linked?{query}>; rel="next"'))
    return json_response(events[start : start + per_page], headers=headers)


def _per_page(req: Request, name: str = "per_page") -> int:
    value = _int_arg(req, name, minimum=1)
    return min(value or 20, 100)


def _activity(app: DemoBackend, req: Request) -> list[dict[str, Any]]:
    """Comment events, newest first; ``?userId=`` keeps one user's."""
    user_id = _int_arg(req, "userId", minimum=None)
    events = app.data.activity
    return events if user_id is None else [e for e in events if e["user_id"] == user_id]


def get_user(app: DemoBackend, req: Request, p: Params) -> Response:
    return json_response(_lookup(app.data.users_by_id, p["id"], req))


def list_teams(app: DemoBackend, req: Request, p: Params) -> Response:
    return json_response(app.data.teams)


def get_team(app: DemoBackend, req: Request, p: Params) -> Response:
    return json_response(_lookup(app.data.teams_by_id, p["id"], req))


def team_members(app: DemoBackend, req: Request, p: Params) -> Response:
    team = _lookup(app.data.teams_by_id, p["id"], req)
    return json_response([u for u in app.data.users if u["team_id"] == team["id"]])


def list_todos(app: DemoBackend, req: Request, p: Params) -> Response:
    todos = app.data.todos
    if (user_id := _int_arg(req, "userId", minimum=None)) is not None:
        todos = [t for t in todos if t["user_id"] == user_id]
    if (done := _bool_arg(req, "done")) is not None:
        todos = [t for t in todos if t["done"] is done]
    if (tag := req.arg("tag")) is not None:
        todos = [t for t in todos if tag in t["tags"]]
    if q := (req.arg("q") or "").casefold():
        todos = [t for t in todos if q in t["title"].casefold()]
    return _page(req, todos)


def get_todo(app: DemoBackend, req: Request, p: Params) -> Response:
    return json_response(_lookup(app.data.todos_by_id, p["id"], req))


def todo_comments(app: DemoBackend, req: Request, p: Params) -> Response:
    todo = _lookup(app.data.todos_by_id, p["id"], req)
    return json_response(app.data.comments_by_todo[todo["id"]])


def list_comments(app: DemoBackend, req: Request, p: Params) -> Response:
    todo_id = _int_arg(req, "todoId", minimum=None)
    comments = app.data.comments if todo_id is None else app.data.comments_by_todo.get(todo_id, [])
    return _page(req, comments)


def create_todo(app: DemoBackend, req: Request, p: Params) -> Response:
    body = _json_object(req)
    title, user_id = body.get("title"), body.get("user_id")
    if not isinstance(title, str) or not title.strip():
        raise HttpError(422, "title must be a non-empty string", field="title")
    if type(user_id) is not int or user_id not in app.data.users_by_id:
        raise HttpError(422, "user_id must be the id of an existing user", field="user_id")
    done = body.get("done", False)
    priority = body.get("priority", "medium")
    tags = body.get("tags", [])
    if not isinstance(done, bool):
        raise HttpError(422, "done must be a boolean", field="done")
    if priority not in ("low", "medium", "high"):
        raise HttpError(422, "priority must be low, medium or high", field="priority")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise HttpError(422, "tags must be a list of strings", field="tags")
    todo = Todo(
        id=app.next_todo_id(),
        user_id=user_id,
        title=title.strip(),
        done=done,
        due=_due(body.get("due")),
        priority=priority,
        tags=sorted(set(tags)),
    )
    app.data.add_todo(todo)
    return json_response(todo, 201, [("Location", f"/todos/{todo['id']}")])


def send_notification(app: DemoBackend, req: Request, p: Params) -> Response:
    body = _json_object(req)
    for name in ("to", "subject", "body"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise HttpError(422, f"{name} must be a non-empty string", field=name)
    notification = {"id": f"ntf_{len(app.notifications) + 1:06d}", "status": "queued"}
    app.notifications.append({**notification, **{k: body[k] for k in ("to", "subject", "body")}})
    return json_response(notification, 202)


def echo(app: DemoBackend, req: Request, p: Params) -> Response:
    return json_response(
        {
            "method": req.method,
            "raw_path": req.target,
            "path": req.path,
            "query": [list(pair) for pair in req.query],
            "headers": req.headers,
            "body": req.body.decode("utf-8", errors="replace"),
        }
    )


def big(app: DemoBackend, req: Request, p: Params) -> Response:
    kb = _int_arg(req, "kb", minimum=0)
    try:
        return Response(200, big_body(1 if kb is None else kb))
    except ValueError as exc:
        raise HttpError(400, str(exc), param="kb") from None


def stats(app: DemoBackend, req: Request, p: Params) -> Response:
    return json_response(app.stats())


def reset(app: DemoBackend, req: Request, p: Params) -> Response:
    app.reset()
    return json_response({"ok": True})


ROUTES = Router(
    [
        ("GET", "/users", list_users),
        ("POST", "/users/lookup", lookup_users),
        ("GET", "/users/{id}", get_user),
        ("GET", "/teams", list_teams),
        ("GET", "/teams/{id}", get_team),
        ("GET", "/teams/{id}/members", team_members),
        ("GET", "/todos", list_todos),
        ("POST", "/todos", create_todo),
        ("GET", "/todos/{id}", get_todo),
        ("GET", "/todos/{id}/comments", todo_comments),
        ("GET", "/comments", list_comments),
        ("POST", "/notifications", send_notification),
        ("*", "/echo/{rest*}", echo),
        ("GET", "/activity", activity_pages),
        ("GET", "/activity/cursor", activity_cursor),
        ("GET", "/activity/linked", activity_linked),
        ("GET", "/big", big),
        ("GET", "/_stats", stats),
        ("POST", "/_reset", reset),
    ]
)


def _lookup(index: dict[int, T], raw_id: str, req: Request) -> T:
    item = index.get(int(raw_id)) if raw_id.isascii() and raw_id.isdigit() else None
    if item is None:
        raise HttpError(404, "not found", path=req.path)
    return item


def _int_arg(req: Request, name: str, minimum: int | None = 0) -> int | None:
    raw = req.arg(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise HttpError(400, f"{name} must be an integer", param=name) from None
    if minimum is not None and value < minimum:
        raise HttpError(400, f"{name} must be >= {minimum}", param=name)
    return value


def _bool_arg(req: Request, name: str) -> bool | None:
    raw = req.arg(name)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false"):
        raise HttpError(400, f"{name} must be true or false", param=name)
    return raw.lower() == "true"


def _page(req: Request, items: list[Any]) -> Response:
    offset = _int_arg(req, "offset") or 0
    limit = _int_arg(req, "limit")
    page = items[offset:] if limit is None else items[offset : offset + limit]
    return json_response(page, headers=[("X-Total-Count", str(len(items)))])


def _json_object(req: Request) -> dict[str, Any]:
    try:
        body = json.loads(req.body)
    except ValueError:
        raise HttpError(400, "body must be JSON") from None
    if not isinstance(body, dict):
        raise HttpError(400, "body must be a JSON object")
    return body


def _due(raw: object) -> str:
    if raw is None:
        return (dt.date.today() + dt.timedelta(days=7)).isoformat()
    try:
        return dt.date.fromisoformat(str(raw)).isoformat()
    except ValueError:
        raise HttpError(422, "due must be an ISO date (YYYY-MM-DD)", field="due") from None


# --- fault injection ---------------------------------------------------------------------


class Action(enum.Enum):
    HANG = "hang"
    CLOSE = "close"


@dataclass(slots=True)
class Faults:
    delay_ms: float = 0.0
    status: int | None = None
    fail: int | None = None
    key: str | None = None
    retry_after: str | None = None
    malformed: bool = False
    empty: bool = False
    hang: bool = False
    close: bool = False


_FAULT_HEADERS = {
    "_delay": "x-demo-delay-ms",
    "_status": "x-demo-status",
    "_fail": "x-demo-fail",
    "_key": "x-demo-key",
    "_retry_after": "x-demo-retry-after",
    "_malformed": "x-demo-malformed",
    "_empty": "x-demo-empty",
    "_hang": "x-demo-hang",
    "_close": "x-demo-close",
}


def parse_faults(req: Request) -> Faults | None:
    """The faults a request asks for, or None (the common, fast case)."""
    if not req.faults and not any(h.startswith("x-demo-") for h in req.headers):
        return None
    raw = {n: v for n, h in _FAULT_HEADERS.items() if (v := req.headers.get(h)) is not None}
    raw.update(req.faults)
    faults = Faults(key=raw.get("_key"), retry_after=raw.get("_retry_after"))
    if faults.retry_after is not None and not _HEADER_VALUE.fullmatch(faults.retry_after):
        raise HttpError(400, "bad fault parameter: not a header value", param="_retry_after")
    if "_delay" in raw:
        faults.delay_ms = _fault_number(raw, "_delay", float, 0, MAX_DELAY_MS)
    if "_status" in raw:
        faults.status = _fault_number(raw, "_status", int, 200, 599)
    if "_fail" in raw:
        faults.fail = _fault_number(raw, "_fail", int, 0, 1_000_000)
    for flag in ("malformed", "empty", "hang", "close"):
        setattr(faults, flag, raw.get(f"_{flag}", "0").lower() not in ("0", "false", "no"))
    return faults


def _fault_number(raw: dict[str, str], name: str, kind: type[N], low: N, high: N) -> N:
    try:
        value = kind(raw[name])
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise HttpError(400, f"bad fault parameter: must be {low}..{high}", param=name)
    return value


# --- the server --------------------------------------------------------------------------


class DemoBackend:
    """The demo server: seed data, request counters and fault state for one running instance."""

    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        self.data: Seed = build_seed(seed)
        self.notifications: list[dict[str, str]] = []
        self.url: str | None = None
        self.connections_opened = 0  # lets tests and benchmarks check keep-alive is in use
        self._requests = 0
        self._by_path: Counter[str] = Counter()
        self._failures: Counter[str] = Counter()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[Any]] = set()
        self._last_todo_id = max(self.data.todos_by_id, default=0)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on host:port (0 = any free port) and return the base URL."""
        if self._server is not None:
            raise RuntimeError("DemoBackend is already started")
        self._server = await asyncio.start_server(
            self._serve_connection, host, port, limit=MAX_HEAD_BYTES, backlog=LISTEN_BACKLOG
        )
        bound_host, bound_port = self._server.sockets[0].getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        self.url = f"http://{shown}:{bound_port}"
        return self.url

    async def stop(self) -> None:
        """Stop listening and drop every open connection, hanging or not."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        connections = list(self._connections)
        for task in connections:
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)
        await server.wait_closed()

    def next_todo_id(self) -> int:
        self._last_todo_id += 1
        return self._last_todo_id

    def stats(self) -> dict[str, Any]:
        return {"requests": self._requests, "by_path": dict(self._by_path)}

    def reset(self) -> None:
        self._requests = 0
        self._by_path.clear()
        self._failures.clear()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self.connections_opened += 1
        try:
            await self._serve_requests(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away; nothing to answer
        except asyncio.CancelledError:
            # stop() drops open connections on purpose. Ending normally keeps Python 3.11's
            # start_server callback from logging it as an error (it calls task.exception()
            # on the cancelled task, which raises; 3.12 checks task.cancelled() first).
            task.uncancel()
        except Exception:
            log.exception("demo backend: connection handler failed")
        finally:
            self._connections.discard(task)
            writer.close()

    async def _serve_requests(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while True:
            try:
                request = await read_request(reader)
            except HttpError as exc:  # malformed: answer and close, never guess the framing
                writer.write(exc.response().encode(keep_alive=False))
                await writer.drain()
                return
            if request is None:
                return
            outcome = await self._answer(request)
            if outcome is Action.CLOSE:
                return
            if outcome is Action.HANG:
                while await reader.read(65536):  # hold the request until the client hangs up
                    pass
                return
            writer.write(outcome.encode(request.keep_alive))
            await writer.drain()
            if not request.keep_alive:
                return

    async def _answer(self, req: Request) -> Response | Action:
        if not req.path.startswith("/_"):
            self._requests += 1
            self._by_path[req.path] += 1
        try:
            faults = parse_faults(req)
            if faults is not None and (injected := await self._inject(req, faults)) is not None:
                return injected
            handler, params = ROUTES.resolve(req)
            return handler(self, req, params)
        except HttpError as exc:
            return exc.response()
        except Exception:
            log.exception("demo backend: %s %s failed", req.method, req.target)
            return json_response({"error": "internal error"}, 500)

    async def _inject(self, req: Request, faults: Faults) -> Response | Action | None:
        active = True
        if faults.fail is not None:  # decided on arrival, so concurrent requests count in order
            key = faults.key or f"{req.method} {req.path}?{urlencode(req.query)}"
            active = self._failures[key] < faults.fail
            self._failures[key] += active
        if faults.delay_ms:
            await asyncio.sleep(faults.delay_ms / 1000)
        if not active:
            return None
        if faults.close:
            return Action.CLOSE
        if faults.hang:
            return Action.HANG
        if faults.malformed:
            return Response(faults.status or 200, b'{"id": 1, "title": "this body stops mid-str')
        if faults.empty:
            return Response(faults.status or 200, b"")
        if faults.status is None and faults.fail is None:
            return None
        status = faults.status or 503
        response = json_response({"error": "injected fault", "status": status}, status)
        if faults.retry_after is not None:
            response.headers.append(("Retry-After", faults.retry_after))
        return response


@contextlib.contextmanager
def serve_in_thread(
    port: int = 0, *, host: str = "127.0.0.1", backend: DemoBackend | None = None
) -> Iterator[str]:
    """Run a backend on its own event loop in a daemon thread; yield its base URL."""
    server = backend or DemoBackend()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    outcome: list[str | BaseException] = []

    def run() -> None:
        try:
            outcome.append(loop.run_until_complete(server.start(host, port)))
        except BaseException as exc:
            outcome.append(exc)
            loop.close()
            return
        finally:
            ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(server.stop())
            loop.close()

    thread = threading.Thread(target=run, name="demo-backend", daemon=True)
    thread.start()
    ready.wait()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    try:
        yield outcome[0]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m demo.backend", description="Serve the sff demo todo backend."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8801)
    parser.add_argument(
        "--crowd",
        metavar="TODO:N",
        help="give todo TODO one comment from each of N users (guests past the seeded 20)",
    )
    args = parser.parse_args(argv)
    # Ctrl-C stops the server even when it was started with SIGINT ignored (a background job
    # of a non-interactive shell inherits that), since asyncio.run only takes SIGINT over
    # from Python's default handler.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(args.host, args.port, args.crowd))


async def _serve_forever(host: str, port: int, crowd: str | None = None) -> None:
    backend = DemoBackend()
    if crowd:
        todo, _, authors = crowd.partition(":")
        backend.data.crowd(int(todo), int(authors))
    url = await backend.start(host, port)
    print(f"demo backend listening on {url}  (Ctrl-C to stop)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await backend.stop()


if __name__ == "__main__":
    main()
